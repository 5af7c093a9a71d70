package sqlite

import (
	"context"
	"time"
)

// BeatNode implements keyhub.Tx.
func (t *tx) BeatNode(ctx context.Context, id string, at, since time.Time) (int, error) {
	const op = "beat node"
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO nodes (id, seen_at) VALUES (?1, ?2)
		ON CONFLICT (id) DO UPDATE SET seen_at = max(seen_at, excluded.seen_at)`, id, micros(at)); err != nil {
		return 0, translate(ctx, op, err)
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM nodes WHERE seen_at < ? AND id <> ?`, micros(since), id); err != nil {
		return 0, translate(ctx, op, err)
	}
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM nodes`).Scan(&n); err != nil {
		return 0, translate(ctx, op, err)
	}
	return n, nil
}
