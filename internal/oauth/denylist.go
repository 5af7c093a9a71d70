package oauth

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyhub/keyhub"
)

// Defaults of DenyList.
const (
	// DefaultDenyListInterval is how often Run reloads the deny-list, which
	// bounds how long a revocation on another node takes to apply here.
	DefaultDenyListInterval = time.Second
	// denyPurgeEvery spaces out the purge of expired entries in the store:
	// it is housekeeping, not worth a write every second on every node.
	denyPurgeEvery = time.Minute
	// denyGrace keeps an entry past its token's expiry for longer than the
	// Leeway with which Verify still accepts an expired token.
	denyGrace = 2 * Leeway
)

// DenyList is the set of revoked JWT ids (RFC 7009). Revoked reads an
// immutable map through an atomic pointer, so the check on every request
// takes no lock. Entries are only ever added until they expire: a reload
// merges into the set and never drops a revocation made meanwhile.
type DenyList struct {
	store keyhub.Store
	now   func() time.Time
	// Interval is how often Run reloads; set it before Run.
	Interval time.Duration
	// Log receives failures of Run; slog.Default() if nil.
	Log *slog.Logger

	set atomic.Pointer[map[string]time.Time] // jti → token expiry
	mu  sync.Mutex                           // serialises copy-on-write updates
}

// NewDenyList returns an empty deny-list over store; now is the clock
// (time.Now if nil). Call Load, then Run.
func NewDenyList(store keyhub.Store, now func() time.Time) *DenyList {
	if now == nil {
		now = time.Now
	}
	d := &DenyList{store: store, now: now, Interval: DefaultDenyListInterval}
	empty := map[string]time.Time{}
	d.set.Store(&empty)
	return d
}

// Load reads the revoked tokens that have not expired from the store.
func (d *DenyList) Load(ctx context.Context) error {
	var list []*keyhub.RevokedToken
	err := d.store.View(ctx, func(tx keyhub.Tx) error {
		var err error
		list, err = tx.ListRevokedTokens(ctx, d.now().Add(-denyGrace))
		return err
	})
	if err != nil {
		return err
	}
	d.merge(list...)
	return nil
}

// Revoke puts jti on the deny-list until exp, the token's own expiry. It
// applies on this node before it returns and on the others within
// Interval. Revoking twice is no error.
func (d *DenyList) Revoke(ctx context.Context, jti string, exp time.Time) error {
	t := &keyhub.RevokedToken{JTI: jti, ExpiresAt: exp.UTC()}
	if err := d.store.Update(ctx, func(tx keyhub.Tx) error { return tx.RevokeToken(ctx, t) }); err != nil {
		return err
	}
	d.merge(t)
	return nil
}

// Revoked reports whether the token with this jti is revoked.
func (d *DenyList) Revoked(jti string) bool {
	_, ok := (*d.set.Load())[jti]
	return ok
}

// Len returns the number of entries held in memory.
func (d *DenyList) Len() int { return len(*d.set.Load()) }

// merge adds entries to a copy of the set, dropping the expired ones, and
// publishes the copy.
func (d *DenyList) merge(add ...*keyhub.RevokedToken) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := *d.set.Load()
	cutoff := d.now().Add(-denyGrace)
	missing := false
	for _, t := range add {
		if _, ok := old[t.JTI]; !ok && t.ExpiresAt.After(cutoff) {
			missing = true
			break
		}
	}
	stale := false
	for _, exp := range old {
		if !exp.After(cutoff) {
			stale = true
			break
		}
	}
	if !missing && !stale {
		return // the common reload: nothing changed, keep the map
	}
	next := make(map[string]time.Time, len(old)+len(add))
	maps.Copy(next, old)
	maps.DeleteFunc(next, func(_ string, exp time.Time) bool { return !exp.After(cutoff) })
	for _, t := range add {
		if t.ExpiresAt.After(cutoff) {
			next[t.JTI] = t.ExpiresAt
		}
	}
	d.set.Store(&next)
}

// Run reloads the deny-list every Interval and purges expired entries from
// the store about once a minute, until ctx ends. Failures are logged and
// retried; the entries already held keep applying.
func (d *DenyList) Run(ctx context.Context) {
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	interval := d.Interval
	if interval <= 0 {
		interval = DefaultDenyListInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastPurge time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.Load(ctx); err != nil && ctx.Err() == nil {
			log.Error("reloading the token deny-list failed", "error", err.Error())
		}
		if now := d.now(); now.Sub(lastPurge) >= denyPurgeEvery {
			lastPurge = now
			err := d.store.Update(ctx, func(tx keyhub.Tx) error {
				return tx.PurgeRevokedTokens(ctx, now.Add(-denyGrace))
			})
			if err != nil && ctx.Err() == nil {
				log.Error("purging the token deny-list failed", "error", err.Error())
			}
		}
	}
}
