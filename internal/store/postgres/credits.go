package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub"
)

// refillDue is true when SpendCredits must first top the balance up: the
// key has a refill, the caller named a period ($3 is NULL for the zero
// time) and the last refill, if any, was before it.
const refillDue = `credits_refill_amount IS NOT NULL AND $3::timestamptz IS NOT NULL
	AND (credits_refilled_at IS NULL OR credits_refilled_at < $3::timestamptz)`

// available is the balance SpendCredits may spend from: the refill amount
// when a refill is due (a refill sets the balance, it does not add), else
// the stored balance.
const available = `(CASE WHEN ` + refillDue + ` THEN credits_refill_amount ELSE credits_remaining END)`

// spendSQL is SpendCredits as one conditional statement. At READ COMMITTED
// a concurrent spender of the same key waits for the row lock and then
// re-evaluates the WHERE clause on the committed row, so every spend sees
// the balance the previous one left: credits are exact across connections
// and nodes, without a read-then-write.
const spendSQL = `UPDATE api_keys SET
	credits_remaining = ` + available + ` - $2,
	credits_refilled_at = CASE WHEN ` + refillDue + ` THEN $3::timestamptz ELSE credits_refilled_at END
	WHERE id = $1 AND credits_remaining IS NOT NULL AND ` + available + ` >= $2
	RETURNING credits_remaining`

// SpendCredits atomically takes cost credits from key id, refilling first
// when a refill is due at periodStart (the zero time never refills).
func (t *tx) SpendCredits(ctx context.Context, id string, cost int64, periodStart time.Time) (int64, bool, error) {
	return spendCredits(ctx, t.tx, id, cost, periodStart)
}

// SpendCreditsNow implements keyhub.CreditSpender: SpendCredits' statement
// on a pooled connection outside any transaction, which PostgreSQL commits
// as it answers.
func (s *Store) SpendCreditsNow(ctx context.Context, id string, cost int64, periodStart time.Time) (int64, bool, error) {
	return spendCredits(ctx, s.pool, id, cost, periodStart)
}

// rowQuerier is a transaction or the pool.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func spendCredits(ctx context.Context, q rowQuerier, id string, cost int64, periodStart time.Time) (int64, bool, error) {
	const op = "spend credits"
	if cost < 0 {
		// A negative spend would add credits past every check; the service
		// never asks for one.
		return 0, false, fmt.Errorf("postgres: %s: negative cost", op)
	}
	var period *time.Time
	if !periodStart.IsZero() {
		p := periodStart.UTC()
		period = &p
	}
	var remaining int64
	err := q.QueryRow(ctx, spendSQL, id, cost, period).Scan(&remaining)
	if err == nil {
		return remaining, true, nil
	}
	if !isNoRows(err) {
		return 0, false, translate(ctx, err, op)
	}
	// Nothing changed: the key is unknown, has no credits, or has too few.
	// A statement of its own, so that at READ COMMITTED it sees the balance
	// that refused the spend rather than the one before a concurrent spend.
	balance, err := creditBalance(ctx, q, op, id, nil)
	return balance, false, err
}

// AddCredits atomically adds delta to the balance of tenantID's key id. A
// result below zero is ErrBelowZero, one past bigint ErrOutOfRange, and a
// key without credits ErrNoCredits; none changes anything.
func (t *tx) AddCredits(ctx context.Context, tenantID, id string, delta int64) (int64, error) {
	const op = "add credits"
	var w where
	set := `UPDATE api_keys SET credits_remaining = credits_remaining + ` + w.arg(delta)
	w.add("id = " + w.arg(id))
	w.tenant(tenantID)
	w.add("credits_remaining IS NOT NULL")
	w.add("credits_remaining + $1 >= 0")
	var n int64
	err := t.tx.QueryRow(ctx, set+w.sql()+` RETURNING credits_remaining`, w.args...).Scan(&n)
	if err == nil {
		return n, nil
	}
	if !isNoRows(err) {
		return 0, translate(ctx, err, op)
	}
	if _, err := t.creditBalance(ctx, op, id, &tenantID); err != nil {
		return 0, err
	}
	return 0, fail(op, keyhub.ErrBelowZero)
}

// creditBalance reads the balance of key id, of tenantID unless it is nil.
// An unknown key (or another tenant's) is ErrNotFound and a key without
// credits ErrNoCredits.
func (t *tx) creditBalance(ctx context.Context, op, id string, tenantID *string) (int64, error) {
	return creditBalance(ctx, t.tx, op, id, tenantID)
}

// creditBalance is tx.creditBalance on a transaction or the pool.
func creditBalance(ctx context.Context, q rowQuerier, op, id string, tenantID *string) (int64, error) {
	var w where
	w.add("id = " + w.arg(id))
	if tenantID != nil {
		w.tenant(*tenantID)
	}
	var balance *int64
	err := q.QueryRow(ctx, `SELECT credits_remaining FROM api_keys`+w.sql(), w.args...).Scan(&balance)
	if err != nil {
		return 0, translate(ctx, err, op)
	}
	if balance == nil {
		return 0, fail(op, keyhub.ErrNoCredits)
	}
	return *balance, nil
}
