package verify

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/keyhub/keyhub"
)

// digest is the SHA-256 of a key: the cache key, as in the store.
type digest = [sha256.Size]byte

// cache holds resolved records by digest, and digests known not to exist.
//
// Invalidation of one key relies on otter discarding a load that races an
// invalidation of the same key. Invalidation of a role or tenant sweeps the
// cache for records that name it; a load in flight during the sweep is
// caught by the epoch: the sweep bumps it first, and a lookup that sees it
// move during its load drops what it loaded and loads again.
//
// Every entry remembers when it was read from the store, and watch decides
// whether it may still be served: an entry it no longer trusts is read
// again, so a node cut off from other nodes' changes answers from the
// store or not at all.
type cache struct {
	pos   *otter.Cache[digest, *Record]
	neg   *otter.Cache[digest, int64] // the watch stamp of the lookup that found nothing
	epoch atomic.Uint64
	load  otter.LoaderFunc[digest, *Record]
	met   *metrics
	watch *Watch
}

// CacheConfig bounds the verification cache.
type CacheConfig struct {
	// Bytes bounds the resolved keys kept by their estimated size in
	// memory (recordBytes); default DefaultCacheBytes. Size, when set,
	// bounds them by count instead.
	Bytes int64
	// Size is the most resolved keys kept, instead of Bytes.
	Size int
	// NegativeSize is the most unknown digests kept (default 100 000).
	NegativeSize int
	// TTL bounds how long a record is served before it is read again even
	// though no invalidation reached it (default DefaultCacheTTL).
	TTL time.Duration
	// NegativeTTL bounds how long an unknown digest is remembered.
	NegativeTTL time.Duration
}

// DefaultCacheBytes is the default bound of the verification cache: a
// million keys of the usual shape (about 630 bytes each by recordBytes),
// so a deployment of a million active keys answers from memory. The cache
// only grows with the keys in use; at its bound Go's collector lets the
// heap reach about twice that (bench/RESULTS.md: 1.8 GB anonymous memory
// with a million keys cached), which a 2 GB machine holds only just, and
// GOMEMLIMIT trims.
const DefaultCacheBytes = 640 << 20

// DefaultCacheTTL is how long a record is served before it is read again
// regardless (--cache-ttl). Freshness does not rest on it: every write
// through keyhub drops what it changed on its own node before returning
// (Store), a node on SQLite is the only writer, and a node on PostgreSQL
// serves a record only while its Watch vouches that every other node's
// change up to --max-stale ago has reached it, reading it again otherwise.
// The TTL is the net under those two: a change made behind keyhub's back
// (by hand in the database) or a write path that failed to announce. Ten
// minutes keeps that bound short while a key used once every few minutes,
// as each of a million keys is at some thousands of verifications a
// second, is read once per TTL instead of on nearly every use (a minute).
const DefaultCacheTTL = 10 * time.Minute

func (c *CacheConfig) defaults() {
	if c.Size <= 0 && c.Bytes <= 0 {
		c.Bytes = DefaultCacheBytes
	}
	if c.NegativeSize <= 0 {
		c.NegativeSize = 100_000
	}
	if c.TTL <= 0 {
		c.TTL = DefaultCacheTTL
	}
	if c.NegativeTTL <= 0 {
		c.NegativeTTL = 10 * time.Second
	}
}

func newCache(cfg CacheConfig, watch *Watch, load func(ctx context.Context, h digest) (*Record, error), met *metrics) *cache {
	cfg.defaults()
	c := &cache{
		watch: watch,
		pos:   otter.Must(posOptions(cfg, met)),
		neg: otter.Must(&otter.Options[digest, int64]{
			MaximumSize:      cfg.NegativeSize,
			ExpiryCalculator: otter.ExpiryWriting[digest, int64](cfg.NegativeTTL),
			OnDeletion:       onDeletion[int64](met, cacheUnknown),
		}),
		met: met,
	}
	c.load = func(ctx context.Context, h digest) (*Record, error) {
		// Stamped before the read: the entry is at least this current.
		at := watch.Stamp()
		rec, err := load(ctx, h)
		if keyhub.IsKind(err, keyhub.KindNotFound) {
			return nil, otter.ErrNotFound
		}
		if rec != nil {
			rec.loaded = at
		}
		return rec, err
	}
	return c
}

func posOptions(cfg CacheConfig, met *metrics) *otter.Options[digest, *Record] {
	o := &otter.Options[digest, *Record]{
		ExpiryCalculator: otter.ExpiryWriting[digest, *Record](cfg.TTL),
		OnDeletion:       onDeletion[*Record](met, cacheKeys),
	}
	if cfg.Size > 0 {
		o.MaximumSize = cfg.Size
	} else {
		o.MaximumWeight = uint64(cfg.Bytes)
		o.Weigher = func(_ digest, r *Record) uint32 { return recordBytes(r) }
	}
	return o
}

// recordOverhead is what a cached record costs beyond the text, lists and
// optional parts recordBytes counts: the Record, Key and Principal structs,
// the digest as the cache's key, the cache's own entry, the Go heap's
// rounding of each text a store read allocated apart. Measured
// (TestRecordBytesEstimate, TestRecordBytesOfStoredKeys): a key of the
// usual shape costs about 600–620 bytes in all (830 when records held the
// whole APIKey).
const recordOverhead = 512

// recordBytes estimates the heap a cached record holds, for the cache's
// bound in bytes. It errs high for small records rather than low.
func recordBytes(r *Record) uint32 {
	k := r.Key
	n := recordOverhead + len(k.ID) + len(k.TenantID) + len(k.Name) + len(k.Environment) + len(k.Start) +
		len(k.Meta) + len(k.RoleID) + len(k.SealedSecret)
	// The effective scopes: the key's own list, or the list with the
	// role's folded in (the key's own is then not kept).
	for _, s := range r.Scopes {
		n += 16 + len(s)
	}
	n += 32 * len(r.Prefixes)
	if k.ExpiresAt != nil {
		n += 24
	}
	if k.RevokedAt != nil {
		n += 24
	}
	if k.RateLimit != nil {
		n += 16
	}
	if k.Credits != nil {
		n += 96 // with its refill, refill time and threshold
	}
	if r.Role != nil {
		n += 176 + len(r.Role.ID) + len(r.Role.TenantID) + len(r.Role.Name)
	}
	return uint32(min(n, 1<<30))
}

// get answers the record of h, nil if no key has that digest. Concurrent
// misses of one digest load it once. An entry the watch no longer trusts
// is dropped and loaded again.
func (c *cache) get(ctx context.Context, h digest) (*Record, error) {
	if rec, ok := c.pos.GetIfPresent(h); ok {
		if c.watch.Trusted(rec.loaded) {
			c.met.hit()
			return rec, nil
		}
		c.pos.Invalidate(h)
	}
	if at, ok := c.neg.GetIfPresent(h); ok {
		if c.watch.Trusted(at) {
			c.met.unknownHit()
			return nil, nil
		}
		c.neg.Invalidate(h)
	}
	c.met.miss()
	for {
		e := c.epoch.Load()
		at := c.watch.Stamp()
		rec, err := c.pos.Get(ctx, h, c.load)
		if errors.Is(err, otter.ErrNotFound) {
			c.neg.Set(h, at)
			if c.epoch.Load() != e {
				c.neg.Invalidate(h)
			}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if c.epoch.Load() == e {
			return rec, nil
		}
		c.pos.Invalidate(h)
	}
}

// invalidateDigest drops one key.
func (c *cache) invalidateDigest(h digest) {
	c.pos.Invalidate(h)
	c.neg.Invalidate(h)
}

// invalidateWhere drops every record match selects. Role and tenant changes
// are rare; a sweep keeps lookups free of any secondary index.
func (c *cache) invalidateWhere(match func(*Record) bool) {
	c.epoch.Add(1)
	for h, rec := range c.pos.All() {
		if match(rec) {
			c.pos.Invalidate(h)
		}
	}
}

// invalidateAll drops everything, for a lost invalidation channel.
func (c *cache) invalidateAll() {
	c.epoch.Add(1)
	c.pos.InvalidateAll()
	c.neg.InvalidateAll()
}

func (c *cache) close() {
	c.pos.StopAllGoroutines()
	c.neg.StopAllGoroutines()
}
