package sqlite

import (
	"context"
	"time"

	"github.com/keyhub/keyhub"
)

// ListExpiringKeys implements keyhub.Tx.
func (t *tx) ListExpiringKeys(ctx context.Context, from, to time.Time, page keyhub.Page) ([]*keyhub.APIKey, error) {
	const op = "list expiring keys"
	q := `SELECT ` + keyColumns + ` FROM api_keys WHERE tenant_id IS NOT NULL AND revoked_at IS NULL
		AND expires_at >= ? AND expires_at < ?`
	args := []any{micros(from), micros(to)}
	if page.After != "" {
		q += ` AND id < ?`
		args = append(args, page.After)
	}
	lim, limArgs, err := pageClause(op, page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanKey)
}
