package sqlite

import (
	"context"
	"time"

	"github.com/keyhub/keyhub"
)

// CreateIdempotencyRecord implements keyhub.Tx.
func (t *tx) CreateIdempotencyRecord(ctx context.Context, r *keyhub.IdempotencyRecord) error {
	return t.exec(ctx, "create idempotency record",
		`INSERT INTO idempotency_keys (id, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.RequestHash, r.Status, r.Response, micros(r.CreatedAt))
}

// GetIdempotencyRecord implements keyhub.Tx. SQLite's single writer holds
// the whole database for an Update, the row included.
func (t *tx) GetIdempotencyRecord(ctx context.Context, id string) (*keyhub.IdempotencyRecord, error) {
	var (
		r       keyhub.IdempotencyRecord
		created int64
	)
	err := t.tx.QueryRowContext(ctx, `SELECT id, request_hash, status, response, created_at FROM idempotency_keys WHERE id = ?`, id).
		Scan(&r.ID, &r.RequestHash, &r.Status, &r.Response, &created)
	if err != nil {
		return nil, translate(ctx, "get idempotency record", err)
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

// CompleteIdempotencyRecord implements keyhub.Tx.
func (t *tx) CompleteIdempotencyRecord(ctx context.Context, r *keyhub.IdempotencyRecord) error {
	return t.execOne(ctx, "complete idempotency record",
		`UPDATE idempotency_keys SET status = ?, response = ? WHERE id = ? AND created_at = ? AND response IS NULL`,
		r.Status, r.Response, r.ID, micros(r.CreatedAt))
}

// DeleteIdempotencyRecord implements keyhub.Tx.
func (t *tx) DeleteIdempotencyRecord(ctx context.Context, id string, createdAt time.Time) error {
	return t.execOne(ctx, "delete idempotency record",
		`DELETE FROM idempotency_keys WHERE id = ? AND created_at = ?`, id, micros(createdAt))
}

// PurgeIdempotencyRecords implements keyhub.Tx.
func (t *tx) PurgeIdempotencyRecords(ctx context.Context, before time.Time) error {
	return t.exec(ctx, "purge idempotency records", `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
}
