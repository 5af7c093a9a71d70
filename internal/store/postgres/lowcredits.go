package postgres

import (
	"context"

	"github.com/keyhub/keyhub"
)

// lowBalance is true for a key whose balance has reached its threshold.
const lowBalance = `credits_low_threshold IS NOT NULL AND credits_remaining IS NOT NULL
	AND credits_remaining <= credits_low_threshold`

// ListLowCreditKeys lists keys whose low balance is still to be told,
// newest first.
func (t *tx) ListLowCreditKeys(ctx context.Context, page keyhub.Page) ([]*keyhub.APIKey, error) {
	const op = "list low credit keys"
	var w where
	w.add("tenant_id IS NOT NULL AND revoked_at IS NULL AND NOT credits_low_notified")
	w.add(lowBalance)
	w.after(page.After)
	lim, err := w.page(op, page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// MarkLowCredits records the telling of key id's low balance, once.
func (t *tx) MarkLowCredits(ctx context.Context, id string) (bool, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE api_keys SET credits_low_notified = true
		WHERE id = $1 AND NOT credits_low_notified AND `+lowBalance, id)
	if err != nil {
		return false, translate(ctx, err, "mark low credits")
	}
	return tag.RowsAffected() == 1, nil
}

// ResetLowCredits forgets the telling of balances above their threshold.
func (t *tx) ResetLowCredits(ctx context.Context) (int64, error) {
	tag, err := t.tx.Exec(ctx, `UPDATE api_keys SET credits_low_notified = false
		WHERE credits_low_notified AND NOT (`+lowBalance+`)`)
	if err != nil {
		return 0, translate(ctx, err, "reset low credits")
	}
	return tag.RowsAffected(), nil
}
