package verify

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhub/keyhub"
)

// usage batches what verification learns about use: last_used_at per key
// and counts per key, hour and outcome. It is written to the store every
// interval and on Close, never once per request.
//
// A use costs atomic adds on a counter object of its record (keyUse), which
// the record reaches without a lock. The first use of an object after a
// flush hands it to the flusher (dirty), so the lock is taken once per key
// and flush interval, not once per request. The flusher drains the objects
// it was handed with atomic swaps and detaches them from their records: a
// record idle for an interval holds no counters, a record evicted from the
// cache is still drained (the dirty list holds its object), and a use that
// lands on an object after its drain hands it over again.
type usage struct {
	mu    sync.Mutex
	dirty []*keyUse
	// last and counts hold what the counters cannot: uses of codes
	// outside usedCodes, uses that read the clock before a use that opened
	// the next hour, and a failed flush's batch, merged back. Nil when empty.
	last   map[string]time.Time
	counts map[usageKey]int64
}

type usageKey struct {
	keyID, tenantID string
	hour            int64 // unix seconds of the hour's start
	code            Code
}

// usedCodes are the outcomes a found key's use has, one counter each.
var usedCodes = [...]Code{Valid, Revoked, Disabled, Expired, ForbiddenIP, InsufficientScope, RateLimited, UsageExceeded,
	InvalidSignature, TicketExpired, TicketNotYetValid}

func codeIndex(c Code) int {
	switch c {
	case Valid:
		return 0
	case Revoked:
		return 1
	case Disabled:
		return 2
	case Expired:
		return 3
	case ForbiddenIP:
		return 4
	case InsufficientScope:
		return 5
	case RateLimited:
		return 6
	case UsageExceeded:
		return 7
	case InvalidSignature:
		return 8
	case TicketExpired:
		return 9
	case TicketNotYetValid:
		return 10
	}
	return -1
}

// keyUse counts one record's uses in one hour until a flush drains it.
type keyUse struct {
	rec  *Record
	hour int64 // unix seconds of the hour's start
	// last is the latest valid use in unix nanoseconds, 0 for none.
	last  atomic.Int64
	dirty atomic.Bool // handed to the flusher and not drained since
	n     [len(usedCodes)]atomic.Int64
}

func newUsage() *usage { return &usage{} }

// record notes one verification of a found key.
func (u *usage) record(rec *Record, code Code, now time.Time) {
	hour := now.Unix() / 3600 * 3600
	i := codeIndex(code)
	if i < 0 {
		u.recordLocked(rec.Key, code, hour, now)
		return
	}
	p := rec.use.Load()
	for p == nil || p.hour != hour {
		if p != nil && p.hour > hour {
			// Another use, with a later reading of the clock, opened the
			// next hour: this one still belongs to its own.
			u.recordLocked(rec.Key, code, hour, now)
			return
		}
		np := &keyUse{rec: rec, hour: hour}
		if rec.use.CompareAndSwap(p, np) {
			p = np
			break
		}
		p = rec.use.Load()
	}
	// Counted before dirty is read: a flush that has not yet cleared dirty
	// has not drained either, so it counts this use; one that has, is
	// handed the object again here.
	p.n[i].Add(1)
	if code == Valid {
		t := now.UnixNano()
		for {
			cur := p.last.Load()
			if t <= cur || p.last.CompareAndSwap(cur, t) {
				break
			}
		}
	}
	if !p.dirty.Load() && p.dirty.CompareAndSwap(false, true) {
		u.mu.Lock()
		u.dirty = append(u.dirty, p)
		u.mu.Unlock()
	}
}

// recordLocked notes a use the counters do not hold.
func (u *usage) recordLocked(k *Key, code Code, hour int64, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.counts == nil {
		u.counts = map[usageKey]int64{}
	}
	u.counts[usageKey{keyID: k.ID, tenantID: k.TenantID, hour: hour, code: code}]++
	if code == Valid {
		u.noteLast(k.ID, now)
	}
}

// noteLast keeps the later of t and what is noted for id; mu held.
func (u *usage) noteLast(id string, t time.Time) {
	if u.last == nil {
		u.last = map[string]time.Time{}
	}
	if cur, ok := u.last[id]; !ok || t.After(cur) {
		u.last[id] = t
	}
}

// take swaps out what has been recorded, draining the counters handed
// over; nil maps when nothing was.
func (u *usage) take() (map[string]time.Time, map[usageKey]int64) {
	u.mu.Lock()
	dirty, last, counts := u.dirty, u.last, u.counts
	u.dirty, u.last, u.counts = nil, nil, nil
	u.mu.Unlock()
	if len(dirty) == 0 {
		return last, counts
	}
	if last == nil {
		last = map[string]time.Time{}
	}
	if counts == nil {
		counts = make(map[usageKey]int64, len(dirty))
	}
	for _, p := range dirty {
		// Cleared before the drain: a use counted after this hands the
		// object over again, so nothing is left behind.
		p.dirty.Store(false)
		p.rec.use.CompareAndSwap(p, nil)
		k := p.rec.Key
		for i := range p.n {
			if p.n[i].Load() == 0 {
				continue
			}
			if n := p.n[i].Swap(0); n != 0 {
				counts[usageKey{keyID: k.ID, tenantID: k.TenantID, hour: p.hour, code: usedCodes[i]}] += n
			}
		}
		if t := p.last.Swap(0); t != 0 {
			if tt := time.Unix(0, t).UTC(); tt.After(last[k.ID]) {
				last[k.ID] = tt
			}
		}
	}
	if len(last) == 0 && len(counts) == 0 {
		return nil, nil
	}
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
		if len(list) == 0 {
			return nil
		}
		return tx.AddUsage(ctx, list)
	})
	if err != nil {
		log.Warn("writing key usage failed; will retry", "error", err.Error(), "keys", len(last))
		u.mu.Lock()
		for id, t := range last {
			u.noteLast(id, t)
		}
		if len(counts) > 0 && u.counts == nil {
			u.counts = map[usageKey]int64{}
		}
		for k, n := range counts {
			u.counts[k] += n
		}
		u.mu.Unlock()
	}
	return err
}
