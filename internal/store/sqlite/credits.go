package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

// limitArgs are the values of a key's ratelimit_*, credits_*, rotated_from
// and replaced_by columns, in keyColumns order. A nil RateLimit, Credits or
// Refill is stored as NULLs, so that "no limit" differs from a limit of 0.
func limitArgs(k *keyhub.APIKey) []any {
	var (
		rlLimit, rlDur, remaining, amount, refilled, low sql.NullInt64
		interval                                         sql.NullString
	)
	if r := k.RateLimit; r != nil {
		rlLimit = sql.NullInt64{Int64: r.Limit, Valid: true}
		rlDur = sql.NullInt64{Int64: int64(r.Duration), Valid: true}
	}
	if c := k.Credits; c != nil {
		remaining = sql.NullInt64{Int64: c.Remaining, Valid: true}
		if c.Refill != nil {
			amount = sql.NullInt64{Int64: c.Refill.Amount, Valid: true}
			interval = sql.NullString{String: c.Refill.Interval, Valid: true}
		}
		refilled = microsPtr(c.RefilledAt)
		if c.LowThreshold != nil {
			low = sql.NullInt64{Int64: *c.LowThreshold, Valid: true}
		}
	}
	return []any{rlLimit, rlDur, remaining, amount, interval, refilled, low, nullString(k.RotatedFrom), nullString(k.ReplacedBy)}
}

// limitColumns scans what limitArgs writes.
type limitColumns struct {
	rlLimit, rlDur, remaining, amount, refilled, low sql.NullInt64
	interval, rotatedFrom, replacedBy                sql.NullString
}

func (l *limitColumns) dest() []any {
	return []any{&l.rlLimit, &l.rlDur, &l.remaining, &l.amount, &l.interval, &l.refilled, &l.low, &l.rotatedFrom, &l.replacedBy}
}

func (l *limitColumns) apply(k *keyhub.APIKey) {
	if l.rlLimit.Valid {
		k.RateLimit = &keyhub.RateLimit{Limit: l.rlLimit.Int64, Duration: keyhub.Duration(l.rlDur.Int64)}
	}
	if l.remaining.Valid {
		k.Credits = &keyhub.Credits{Remaining: l.remaining.Int64, RefilledAt: fromMicrosPtr(l.refilled)}
		if l.amount.Valid {
			k.Credits.Refill = &keyhub.Refill{Amount: l.amount.Int64, Interval: l.interval.String}
		}
		if l.low.Valid {
			n := l.low.Int64
			k.Credits.LowThreshold = &n
		}
	}
	k.RotatedFrom, k.ReplacedBy = l.rotatedFrom.String, l.replacedBy.String
}

// refillDue is true when the key refills and was last refilled before ?2,
// the period start (NULL when the caller knows of no refill). A key with a
// refill but no refilled_at has never been refilled.
const refillDue = `(?2 IS NOT NULL AND credits_refill_amount IS NOT NULL
	AND (credits_refilled_at IS NULL OR credits_refilled_at < ?2))`

// balanceBeforeSpend is the balance a spend starts from: the refill amount
// when a refill is due, else the stored balance.
const balanceBeforeSpend = `(CASE WHEN ` + refillDue + ` THEN credits_refill_amount ELSE credits_remaining END)`

// spendCredits refills and spends in one conditional statement, so no
// interleaving of spends can double-spend or go below zero: a row whose
// balance is short is simply not matched. ?1 is the cost, ?2 the period
// start, ?3 the key id.
const spendCredits = `UPDATE api_keys SET
	credits_remaining = ` + balanceBeforeSpend + ` - ?1,
	credits_refilled_at = CASE WHEN ` + refillDue + ` THEN ?2 ELSE credits_refilled_at END
	WHERE id = ?3 AND credits_remaining IS NOT NULL AND ` + balanceBeforeSpend + ` >= ?1
	RETURNING credits_remaining`

// SpendCredits implements keyhub.Tx.
func (t *tx) SpendCredits(ctx context.Context, id string, cost int64, periodStart time.Time) (int64, bool, error) {
	spend := func(args ...any) *sql.Row { return t.tx.QueryRowContext(ctx, spendCredits, args...) }
	if t.spend != nil {
		st := t.tx.StmtContext(ctx, t.spend)
		spend = func(args ...any) *sql.Row { return st.QueryRowContext(ctx, args...) }
	}
	return spendWith(ctx, spend, t.tx.QueryRowContext, id, cost, periodStart)
}

// SpendCreditsNow implements keyhub.CreditSpender: the prepared statement
// on the write connection, which SQLite commits as a transaction of its
// own, without the BEGIN and COMMIT statements around it.
func (s *Store) SpendCreditsNow(ctx context.Context, id string, cost int64, periodStart time.Time) (int64, bool, error) {
	spend := func(args ...any) *sql.Row { return s.spend.QueryRowContext(ctx, args...) }
	return spendWith(ctx, spend, s.write.QueryRowContext, id, cost, periodStart)
}

// spendWith is SpendCredits over spend, which runs its statement, and
// query, which reads on the same connection.
func spendWith(ctx context.Context, spend func(args ...any) *sql.Row,
	query func(ctx context.Context, q string, args ...any) *sql.Row,
	id string, cost int64, periodStart time.Time) (int64, bool, error) {
	const op = "spend credits"
	if cost < 0 {
		// A negative spend would add credits past every check; the service
		// never asks for one.
		return 0, false, fmt.Errorf("sqlite: %s: negative cost", op)
	}
	var period sql.NullInt64
	if !periodStart.IsZero() {
		period = sql.NullInt64{Int64: micros(periodStart), Valid: true}
	}
	var remaining int64
	err := spend(cost, period, id).Scan(&remaining)
	if err == nil {
		return remaining, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, translate(ctx, op, err)
	}
	// Nothing matched: an unknown key, a key without credits, or too few
	// credits. Only this path reads the row again.
	var stored sql.NullInt64
	err = query(ctx, `SELECT credits_remaining FROM api_keys WHERE id = ?`, id).Scan(&stored)
	switch {
	case err != nil:
		return 0, false, translate(ctx, op, err)
	case !stored.Valid:
		return 0, false, fail(op, keyhub.ErrNoCredits)
	}
	return stored.Int64, false, nil
}

// AddCredits implements keyhub.Tx. Like SpendCredits it is one conditional
// statement, so it composes with concurrent spends without a lost update.
func (t *tx) AddCredits(ctx context.Context, tenantID, id string, delta int64) (int64, error) {
	const op = "add credits"
	var n int64
	err := t.tx.QueryRowContext(ctx, `UPDATE api_keys SET credits_remaining = credits_remaining + ?1
		WHERE tenant_id IS ?2 AND id = ?3 AND credits_remaining IS NOT NULL AND credits_remaining + ?1 >= 0
		RETURNING credits_remaining`, delta, nullString(tenantID), id).Scan(&n)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		// A sum past int64 is ErrOutOfRange (see translate).
		return 0, translate(ctx, op, err)
	}
	var stored sql.NullInt64
	err = t.tx.QueryRowContext(ctx, `SELECT credits_remaining FROM api_keys WHERE tenant_id IS ? AND id = ?`,
		nullString(tenantID), id).Scan(&stored)
	switch {
	case err != nil:
		return 0, translate(ctx, op, err)
	case !stored.Valid:
		return 0, fail(op, keyhub.ErrNoCredits)
	}
	return 0, fail(op, keyhub.ErrBelowZero)
}
