package verify

import (
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// TestRecordBytesEstimate fills a cache with records of the usual shape
// and checks that recordBytes, by which --cache-size bounds the cache, is
// not below what a record really holds on the heap, nor far above.
func TestRecordBytesEstimate(t *testing.T) {
	const n = 20000
	var est uint64
	c := newCache(CacheConfig{Size: 2 * n}, newWatch(0, time.Now), func(_ context.Context, h digest) (*Record, error) {
		now := time.Now().UTC()
		k := &keyhub.APIKey{ID: keyhub.NewID(keyhub.PrefixAPIKey, now), TenantID: keyhub.NewID(keyhub.PrefixTenant, now),
			Name: "bench-123456", Environment: "live", Start: "kh_live_abcd", Hash: append([]byte(nil), h[:]...),
			Scopes: []string{"payouts:write"}, IPs: []string{}, Meta: json.RawMessage(`{}`), Enabled: true,
			Kind: keyhub.KeyKindBearer, Creator: keyhub.Actor{Type: "system", ID: "bench"}, CreatedAt: now, UpdatedAt: now}
		r, err := resolve(k, nil)
		if err == nil {
			est += uint64(recordBytes(r))
		}
		return r, err
	}, newMetrics(nil))
	defer c.close()
	hashes := make([]digest, n)
	for i := range hashes {
		hashes[i] = secret.Hash("key " + strconv.Itoa(i))
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, h := range hashes {
		if _, err := c.get(context.Background(), h); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	real := float64(after.HeapAlloc-before.HeapAlloc) / n
	perKey := float64(est) / n
	t.Logf("a cached record holds %.0f bytes; recordBytes says %.0f", real, perKey)
	if perKey < 0.9*real || perKey > 1.5*real {
		t.Errorf("recordBytes estimates %.0f bytes for a record that holds %.0f", perKey, real)
	}
	runtime.KeepAlive(c)
}

// TestCacheTTL: a record is kept for the configured TTL (--cache-ttl), and
// for DefaultCacheTTL when none is set.
func TestCacheTTL(t *testing.T) {
	for name, c := range map[string]struct{ set, want time.Duration }{
		"Default": {0, DefaultCacheTTL},
		"Set":     {3 * time.Hour, 3 * time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			k := &keyhub.APIKey{ID: "key_1", TenantID: "ten_1", Kind: keyhub.KeyKindBearer, Enabled: true}
			cache := newCache(CacheConfig{TTL: c.set}, newWatch(0, time.Now), func(context.Context, digest) (*Record, error) {
				return resolve(k, nil)
			}, newMetrics(nil))
			defer cache.close()
			h := secret.Hash("key")
			if _, err := cache.get(context.Background(), h); err != nil {
				t.Fatal(err)
			}
			e, ok := cache.pos.GetEntryQuietly(h)
			if !ok {
				t.Fatal("record not cached")
			}
			if got := e.ExpiresAfter(); got > c.want || got < c.want-time.Minute {
				t.Errorf("record expires after %s, want %s", got, c.want)
			}
		})
	}
}
