package verify

import (
	"context"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// TestRecordBytesOfStoredKeys is TestRecordBytesEstimate for keys read
// back from SQLite, where every text of a key is an allocation of its own:
// recordBytes, by which --cache-size bounds the cache, is not below what
// such a record holds, nor far above.
func TestRecordBytesOfStoredKeys(t *testing.T) {
	const n = 10000
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	ten := &keyhub.Tenant{ID: keyhub.NewID(keyhub.PrefixTenant, now), Name: "acme", KeyPrefixes: map[string]string{"live": "kh_live"},
		LeakPolicy: keyhub.LeakRevoke, CreatedAt: now, UpdatedAt: now}
	keys := make([]string, n)
	err = st.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.CreateTenant(ctx, ten); err != nil {
			return err
		}
		for i := range keys {
			keys[i] = secret.NewKey("kh_live")
			h := secret.Hash(keys[i])
			k := &keyhub.APIKey{ID: keyhub.NewID(keyhub.PrefixAPIKey, now), TenantID: ten.ID, Kind: keyhub.KeyKindBearer,
				Name: "bench-" + strconv.Itoa(i), Environment: "live", Start: secret.Start(keys[i]), Hash: h[:],
				Scopes: []string{"payouts:write"}, Meta: json.RawMessage(`{}`), Enabled: true,
				Creator: keyhub.Actor{Type: "system", ID: "bench"}, CreatedAt: now, UpdatedAt: now}
			k.Normalize()
			if err := tx.CreateAPIKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ver := New(st, Config{})
	defer ver.Close()
	lookup := func(keys []string) {
		for _, k := range keys {
			if _, code, err := ver.Lookup(ctx, k); err != nil || code != Valid {
				t.Fatal(code, err)
			}
		}
	}
	// The first lookups warm the store's statements and the cache's tables.
	lookup(keys[:100])
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lookup(keys[100:])
	runtime.GC()
	runtime.ReadMemStats(&after)
	real := float64(after.HeapAlloc-before.HeapAlloc) / (n - 100)
	var est uint64
	for _, rec := range ver.cache.pos.All() {
		est += uint64(recordBytes(rec))
	}
	perKey := float64(est) / n
	t.Logf("a cached record of a stored key holds %.0f bytes; recordBytes says %.0f", real, perKey)
	if perKey < 0.9*real || perKey > 1.5*real {
		t.Errorf("recordBytes estimates %.0f bytes for a record that holds %.0f", perKey, real)
	}
	runtime.KeepAlive(ver)
}
