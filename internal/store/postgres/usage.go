package postgres

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// TouchAPIKeys moves last_used_at of each key forward to the given time,
// never back, and ignores unknown keys: usage is written in batches after
// the fact. It changes nothing else, updated_at included.
//
// The rows are first locked in id order, in a statement of their own: two
// nodes flushing overlapping batches then take the locks in the same order
// and cannot deadlock, whatever join order the UPDATE's plan picks.
func (t *tx) TouchAPIKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	times := make([]time.Time, len(ids))
	for i, id := range ids {
		times[i] = used[id].UTC()
	}
	if _, err := t.tx.Exec(ctx,
		`SELECT id FROM api_keys WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`, ids); err != nil {
		return translate(ctx, err, "touch api keys")
	}
	_, err := t.tx.Exec(ctx, `UPDATE api_keys k SET last_used_at = u.at
		FROM unnest($1::text[], $2::timestamptz[]) AS u (id, at)
		WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`, ids, times)
	if err != nil {
		return translate(ctx, err, "touch api keys")
	}
	return nil
}

// usageKey identifies one row of the usage table.
type usageKey struct {
	keyID string
	hour  time.Time
	code  string
}

// AddUsage adds the counts to the hourly usage table in one upsert. Counts
// of the same key, hour and code are merged first (an upsert may not touch
// a row twice) and the rows go in key order, so that concurrent batches
// lock them in the same order. Hours are stored as given: the caller
// counts per hour.
func (t *tx) AddUsage(ctx context.Context, counts []keyhub.UsageCount) error {
	const op = "add usage"
	if len(counts) == 0 {
		return nil
	}
	merged := map[usageKey]*keyhub.UsageCount{}
	var rows []*keyhub.UsageCount
	for _, c := range counts {
		k := usageKey{c.KeyID, c.Hour.UTC(), c.Code}
		if m, ok := merged[k]; ok {
			// Merging must overflow where adding row by row would, as it
			// does in SQLite, rather than wrap around.
			sum, ok := addInt64(m.Count, c.Count)
			if !ok {
				return fail(op, keyhub.ErrOutOfRange)
			}
			m.Count = sum
			continue
		}
		m := c
		m.Hour = k.hour
		merged[k] = &m
		rows = append(rows, &m)
	}
	slices.SortFunc(rows, func(a, b *keyhub.UsageCount) int {
		return cmp.Or(strings.Compare(a.KeyID, b.KeyID), a.Hour.Compare(b.Hour), strings.Compare(a.Code, b.Code))
	})
	var (
		keyIDs, codes []string
		tenantIDs     []*string
		hours         []time.Time
		ns            []int64
	)
	for _, r := range rows {
		keyIDs = append(keyIDs, r.KeyID)
		tenantIDs = append(tenantIDs, nullable(r.TenantID))
		hours = append(hours, r.Hour)
		codes = append(codes, r.Code)
		ns = append(ns, r.Count)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO usage (key_id, tenant_id, hour, code, count)
		SELECT key_id, tenant_id, hour, code, count FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[]) WITH ORDINALITY
			AS u (key_id, tenant_id, hour, code, count, n)
		ORDER BY n
		ON CONFLICT (key_id, hour, code) DO UPDATE SET count = usage.count + EXCLUDED.count`,
		keyIDs, tenantIDs, hours, codes, ns)
	if err != nil {
		return translate(ctx, err, op)
	}
	return nil
}

// addInt64 returns a+b and whether it fits an int64.
func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0)
}

// ListUsage lists the hourly counts of tenantID's key id with Hour in
// [from, to), oldest first. Another tenant's key is ErrNotFound, exactly
// as an unknown one.
func (t *tx) ListUsage(ctx context.Context, tenantID, id string, from, to time.Time) ([]keyhub.UsageCount, error) {
	var w where
	w.add("id = " + w.arg(id))
	w.tenant(tenantID)
	var found bool
	err := t.tx.QueryRow(ctx, `SELECT true FROM api_keys`+w.sql(), w.args...).Scan(&found)
	if err != nil {
		return nil, translate(ctx, err, "list usage")
	}
	rows, err := t.tx.Query(ctx, `SELECT hour, code, count FROM usage
		WHERE key_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour, code`, id, from, to)
	if err != nil {
		return nil, translate(ctx, err, "list usage")
	}
	defer rows.Close()
	out := []keyhub.UsageCount{}
	for rows.Next() {
		c := keyhub.UsageCount{KeyID: id, TenantID: tenantID}
		if err := rows.Scan(&c.Hour, &c.Code, &c.Count); err != nil {
			return nil, translate(ctx, err, "list usage")
		}
		c.Hour = c.Hour.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "list usage")
	}
	return out, nil
}
