package postgres

import (
	"context"
	"time"
)

// BeatNode implements keyhub.Tx in one statement: the upsert, the pruning
// and the count see the same snapshot, so the count adds this node itself.
func (t *tx) BeatNode(ctx context.Context, id string, at, since time.Time) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `WITH beat AS (
			INSERT INTO nodes (id, seen_at) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET seen_at = greatest(nodes.seen_at, excluded.seen_at)
			RETURNING id),
		gone AS (DELETE FROM nodes WHERE seen_at < $3 AND id <> $1)
		SELECT count(*) + 1 FROM nodes WHERE seen_at >= $3 AND id <> $1`, id, at.UTC(), since.UTC()).Scan(&n)
	if err != nil {
		return 0, translate(ctx, err, "beat node")
	}
	return n, nil
}
