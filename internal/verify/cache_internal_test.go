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

// TestRecordBytesEstimate fills a cache with records of the usual shape,
// and of a key with every optional part, and checks that recordBytes, by
// which --cache-size bounds the cache, is not below what a record really
// holds on the heap, nor far above.
func TestRecordBytesEstimate(t *testing.T) {
	usual := func(h digest, now time.Time) (*keyhub.APIKey, *keyhub.Role) {
		return &keyhub.APIKey{ID: keyhub.NewID(keyhub.PrefixAPIKey, now), TenantID: keyhub.NewID(keyhub.PrefixTenant, now),
			Name: "bench-123456", Environment: "live", Start: "kh_live_abcd", Hash: append([]byte(nil), h[:]...),
			Scopes: []string{"payouts:write"}, IPs: []string{}, Meta: json.RawMessage(`{}`), Enabled: true,
			Kind: keyhub.KeyKindBearer, Creator: keyhub.Actor{Type: "system", ID: "bench"}, CreatedAt: now, UpdatedAt: now}, nil
	}
	full := func(h digest, now time.Time) (*keyhub.APIKey, *keyhub.Role) {
		k, _ := usual(h, now)
		exp, refilled, low := now.Add(time.Hour), now, int64(10)
		k.RoleID, k.ExpiresAt = keyhub.NewID(keyhub.PrefixRole, now), &exp
		k.Scopes = []string{"payouts:write", "payouts:read", "accounts:read"}
		k.IPs = []string{"203.0.113.0/24", "2001:db8::/32"}
		k.Meta = json.RawMessage(`{"customer":"cus_1234567890","plan":"pro"}`)
		k.RateLimit = &keyhub.RateLimit{Limit: 100, Duration: keyhub.Duration(time.Minute)}
		k.Credits = &keyhub.Credits{Remaining: 1000, Refill: &keyhub.Refill{Amount: 1000, Interval: keyhub.RefillDaily},
			RefilledAt: &refilled, LowThreshold: &low}
		role := &keyhub.Role{ID: k.RoleID, TenantID: k.TenantID, Name: "payments-service", Description: "what the payments service may do",
			Scopes: []string{"refunds:write", "refunds:read"}, CreatedAt: now, UpdatedAt: now}
		return k, role
	}
	for name, shape := range map[string]func(digest, time.Time) (*keyhub.APIKey, *keyhub.Role){"Usual": usual, "Full": full} {
		t.Run(name, func(t *testing.T) {
			const n = 20000
			var est uint64
			c := newCache(CacheConfig{Size: 2 * n}, newWatch(0, time.Now), func(_ context.Context, h digest) (*Record, error) {
				r, err := resolve(shape(h, time.Now().UTC()))
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
		})
	}
}

// TestRecordKeepsWhatVerificationReads: the compact copy of a key a record
// holds answers as the key does, and keeps what answers and signing read.
func TestRecordKeepsWhatVerificationReads(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	base := keyhub.APIKey{ID: "key_1", TenantID: "ten_1", Kind: keyhub.KeyKindSigning, Name: "n", Environment: "live",
		Start: "kh_live_abcd", RoleID: "rol_1", Meta: json.RawMessage(`{"a":1}`), Enabled: true, CreatedAt: past,
		RateLimit: &keyhub.RateLimit{Limit: 1}, Credits: &keyhub.Credits{Remaining: 2}, SealedSecret: []byte("sealed")}
	for name, edit := range map[string]func(*keyhub.APIKey){
		"Active":   func(*keyhub.APIKey) {},
		"Revoked":  func(k *keyhub.APIKey) { k.RevokedAt = &past },
		"Disabled": func(k *keyhub.APIKey) { k.Enabled = false },
		"Expired":  func(k *keyhub.APIKey) { k.ExpiresAt = &past },
		"Expires":  func(k *keyhub.APIKey) { k.ExpiresAt = &future },
		"Operator": func(k *keyhub.APIKey) { k.TenantID = "" },
	} {
		t.Run(name, func(t *testing.T) {
			k := base
			edit(&k)
			rec, err := resolve(&k, &keyhub.Role{ID: "rol_1", TenantID: "ten_1", Name: "r", Scopes: []string{"b:read"}})
			if err != nil {
				t.Fatal(err)
			}
			c := rec.Key
			if c.State(now) != k.State(now) || c.IsOperator() != k.IsOperator() {
				t.Errorf("state %s operator %v, the key's %s %v", c.State(now), c.IsOperator(), k.State(now), k.IsOperator())
			}
			if c.ID != k.ID || c.TenantID != k.TenantID || c.Kind != k.Kind || c.Name != k.Name || c.Environment != k.Environment ||
				c.Start != k.Start || c.RoleID != k.RoleID || string(c.Meta) != string(k.Meta) || c.ExpiresAt != k.ExpiresAt ||
				!c.CreatedAt.Equal(k.CreatedAt) || c.RateLimit != k.RateLimit || c.Credits != k.Credits || string(c.SealedSecret) != "sealed" {
				t.Errorf("compact key %+v of %+v", c, k)
			}
			if rec.Role.ID != "rol_1" || rec.Role.Name != "r" || len(rec.Scopes) != 1 {
				t.Errorf("role %+v, scopes %v", rec.Role, rec.Scopes)
			}
		})
	}
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
