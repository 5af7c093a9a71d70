package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"maps"
	"slices"
	"time"

	"github.com/keyhub/keyhub"
)

// TouchAPIKeys implements keyhub.Tx. The condition keeps last_used_at
// monotonic when batches from several nodes arrive out of order, and leaves
// rows that would not change unwritten. Unknown ids match nothing: a batch
// must not fail for a key it cannot find. Rows are written in id order:
// a batch of a node with a million keys in use touches a hundred thousand
// rows, and in key order each page of the table's index is visited once,
// where the map's order visits them at random.
func (t *tx) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	stmt, err := t.tx.PrepareContext(ctx, `UPDATE api_keys SET last_used_at = ?1
		WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)`)
	if err != nil {
		return translate(ctx, "touch api keys", err)
	}
	defer stmt.Close()
	for _, id := range slices.Sorted(maps.Keys(used)) {
		if _, err := stmt.ExecContext(ctx, micros(used[id]), id); err != nil {
			return translate(ctx, "touch api keys", err)
		}
	}
	return nil
}

// AddUsage implements keyhub.Tx: an upsert per count, adding to the row of
// the same key, hour and code when there is one, in that order (see
// TouchAPIKeys).
func (t *tx) AddUsage(ctx context.Context, counts []keyhub.UsageCount) error {
	if len(counts) == 0 {
		return nil
	}
	stmt, err := t.tx.PrepareContext(ctx, `INSERT INTO usage (key_id, tenant_id, hour, code, count)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key_id, hour, code) DO UPDATE SET count = count + excluded.count`)
	if err != nil {
		return translate(ctx, "add usage", err)
	}
	defer stmt.Close()
	counts = slices.SortedFunc(slices.Values(counts), func(a, b keyhub.UsageCount) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), a.Hour.Compare(b.Hour), cmp.Compare(a.Code, b.Code))
	})
	for _, c := range counts {
		if _, err := stmt.ExecContext(ctx, c.KeyID, nullString(c.TenantID), micros(c.Hour), c.Code, c.Count); err != nil {
			return translate(ctx, "add usage", err)
		}
	}
	return nil
}

// ListUsage implements keyhub.Tx. The key must be tenantID's; another
// tenant's key is not found, as an unknown one is.
func (t *tx) ListUsage(ctx context.Context, tenantID, id string, from, to time.Time) ([]keyhub.UsageCount, error) {
	var one int
	err := t.tx.QueryRowContext(ctx, `SELECT 1 FROM api_keys WHERE tenant_id IS ? AND id = ?`,
		nullString(tenantID), id).Scan(&one)
	if err != nil {
		return nil, translate(ctx, "list usage", err)
	}
	return list(ctx, t, "list usage", `SELECT key_id, tenant_id, hour, code, count FROM usage
		WHERE key_id = ? AND hour >= ? AND hour < ? ORDER BY hour, code`,
		[]any{id, micros(from), micros(to)}, scanUsage)
}

func scanUsage(row scanner) (keyhub.UsageCount, error) {
	var (
		c        keyhub.UsageCount
		tenantID sql.NullString
		hour     int64
	)
	if err := row.Scan(&c.KeyID, &tenantID, &hour, &c.Code, &c.Count); err != nil {
		return c, err
	}
	c.TenantID, c.Hour = tenantID.String, fromMicros(hour)
	return c, nil
}
