package postgres

import (
	"context"
	"time"

	"github.com/keyhub/keyhub"
)

// CreateIdempotencyRecord claims r.ID. A concurrent claim of the same id
// waits on the unique index for the first to commit or roll back, then
// finds the id taken (ErrExists) or free.
func (t *tx) CreateIdempotencyRecord(ctx context.Context, r *keyhub.IdempotencyRecord) error {
	return t.insert(ctx, "create idempotency record",
		`INSERT INTO idempotency_keys (id, request_hash, status, response, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`,
		r.ID, r.RequestHash, r.Status, r.Response, r.CreatedAt)
}

// GetIdempotencyRecord reads a record, locking it inside Update.
func (t *tx) GetIdempotencyRecord(ctx context.Context, id string) (*keyhub.IdempotencyRecord, error) {
	var r keyhub.IdempotencyRecord
	err := t.tx.QueryRow(ctx, `SELECT id, request_hash, status, response, created_at FROM idempotency_keys WHERE id = $1`+t.lock(), id).
		Scan(&r.ID, &r.RequestHash, &r.Status, &r.Response, &r.CreatedAt)
	if err != nil {
		return nil, translate(ctx, err, "get idempotency record")
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// CompleteIdempotencyRecord writes the answer of a record still running.
func (t *tx) CompleteIdempotencyRecord(ctx context.Context, r *keyhub.IdempotencyRecord) error {
	return t.exec(ctx, "complete idempotency record",
		`UPDATE idempotency_keys SET status = $3, response = $4 WHERE id = $1 AND created_at = $2 AND response IS NULL`,
		r.ID, r.CreatedAt, r.Status, r.Response)
}

// DeleteIdempotencyRecord removes one claim.
func (t *tx) DeleteIdempotencyRecord(ctx context.Context, id string, createdAt time.Time) error {
	return t.exec(ctx, "delete idempotency record",
		`DELETE FROM idempotency_keys WHERE id = $1 AND created_at = $2`, id, createdAt)
}

// PurgeIdempotencyRecords removes the records created before before.
func (t *tx) PurgeIdempotencyRecords(ctx context.Context, before time.Time) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before); err != nil {
		return translate(ctx, err, "purge idempotency records")
	}
	return nil
}
