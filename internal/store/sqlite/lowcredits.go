package sqlite

import (
	"context"

	"github.com/keyhub/keyhub"
)

// lowBalance is true for a key whose balance has reached its threshold.
const lowBalance = `credits_low_threshold IS NOT NULL AND credits_remaining IS NOT NULL
	AND credits_remaining <= credits_low_threshold`

// ListLowCreditKeys implements keyhub.Tx.
func (t *tx) ListLowCreditKeys(ctx context.Context, page keyhub.Page) ([]*keyhub.APIKey, error) {
	const op = "list low credit keys"
	q := `SELECT ` + keyColumns + ` FROM api_keys WHERE tenant_id IS NOT NULL AND revoked_at IS NULL
		AND credits_low_notified = 0 AND ` + lowBalance
	var args []any
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

// MarkLowCredits implements keyhub.Tx.
func (t *tx) MarkLowCredits(ctx context.Context, id string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE api_keys SET credits_low_notified = 1
		WHERE id = ? AND credits_low_notified = 0 AND `+lowBalance, id)
	if err != nil {
		return false, translate(ctx, "mark low credits", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, translate(ctx, "mark low credits", err)
	}
	return n == 1, nil
}

// ResetLowCredits implements keyhub.Tx.
func (t *tx) ResetLowCredits(ctx context.Context) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE api_keys SET credits_low_notified = 0
		WHERE credits_low_notified = 1 AND NOT (`+lowBalance+`)`)
	if err != nil {
		return 0, translate(ctx, "reset low credits", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, translate(ctx, "reset low credits", err)
	}
	return n, nil
}
