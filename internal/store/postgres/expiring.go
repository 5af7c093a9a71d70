package postgres

import (
	"context"
	"time"

	"github.com/keyhub/keyhub"
)

// ListExpiringKeys lists tenants' keys, not revoked, expiring in [from, to),
// newest first.
func (t *tx) ListExpiringKeys(ctx context.Context, from, to time.Time, page keyhub.Page) ([]*keyhub.APIKey, error) {
	const op = "list expiring keys"
	var w where
	w.add("tenant_id IS NOT NULL AND revoked_at IS NULL")
	w.add("expires_at >= " + w.arg(from))
	w.add("expires_at < " + w.arg(to))
	w.after(page.After)
	lim, err := w.page(op, page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}
