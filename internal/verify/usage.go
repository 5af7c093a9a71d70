package verify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/keyhub/keyhub"
)

// usage batches what verification learns about use: last_used_at per key
// and counts per key, hour and outcome. It is written to the store every
// interval and on Close, never once per request.
type usage struct {
	mu     sync.Mutex
	last   map[string]time.Time
	counts map[usageKey]int64
}

type usageKey struct {
	keyID, tenantID string
	hour            int64 // unix seconds of the hour's start
	code            Code
}

func newUsage() *usage {
	return &usage{last: map[string]time.Time{}, counts: map[usageKey]int64{}}
}

// record notes one verification of a found key.
func (u *usage) record(k *keyhub.APIKey, code Code, now time.Time) {
	uk := usageKey{keyID: k.ID, tenantID: k.TenantID, hour: now.Unix() / 3600 * 3600, code: code}
	u.mu.Lock()
	u.counts[uk]++
	if code == Valid {
		u.last[k.ID] = now
	}
	u.mu.Unlock()
}

// take swaps out what has been recorded.
func (u *usage) take() (map[string]time.Time, map[usageKey]int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	last, counts := u.last, u.counts
	if len(last) == 0 && len(counts) == 0 {
		return nil, nil
	}
	u.last, u.counts = map[string]time.Time{}, map[usageKey]int64{}
	return last, counts
}

// flush writes what was recorded. On failure the batch is merged back so it
// is written with the next one.
func (u *usage) flush(ctx context.Context, store keyhub.Store, log *slog.Logger) error {
	last, counts := u.take()
	if last == nil && counts == nil {
		return nil
	}
	list := make([]keyhub.UsageCount, 0, len(counts))
	for k, n := range counts {
		list = append(list, keyhub.UsageCount{KeyID: k.keyID, TenantID: k.tenantID, Hour: time.Unix(k.hour, 0).UTC(), Code: string(k.code), Count: n})
	}
	err := store.Update(ctx, func(tx keyhub.Tx) error {
		if len(last) > 0 {
			if err := tx.TouchAPIKeys(ctx, last); err != nil {
				return err
			}
		}
		return tx.AddUsage(ctx, list)
	})
	if err != nil {
		log.Warn("writing key usage failed; will retry", "error", err.Error(), "keys", len(last))
		u.mu.Lock()
		for id, t := range last {
			if t.After(u.last[id]) {
				u.last[id] = t
			}
		}
		for k, n := range counts {
			u.counts[k] += n
		}
		u.mu.Unlock()
	}
	return err
}
