package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// cutStore is a store whose link the test can cut: while down, every
// transaction fails as an unreachable database does.
type cutStore struct {
	keyhub.Store
	down atomic.Bool
}

func (c *cutStore) View(ctx context.Context, fn func(keyhub.Tx) error) error {
	if c.down.Load() {
		return fmt.Errorf("test: link cut: %w", keyhub.ErrUnavailable)
	}
	return c.Store.View(ctx, fn)
}

func (c *cutStore) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	if c.down.Load() {
		return fmt.Errorf("test: link cut: %w", keyhub.ErrUnavailable)
	}
	return c.Store.Update(ctx, fn)
}

// staleEnv is a node whose watch tracks, as on PostgreSQL, beside another
// node that writes to the same store without this node hearing of it: the
// listener of this node is down.
type staleEnv struct {
	*env
	cut   *cutStore
	other *service.Service
	watch *verify.Watch
}

const maxStale = verify.DefaultMaxStale

func newStaleEnv(t *testing.T, st keyhub.Store) *staleEnv {
	cut := &cutStore{Store: st}
	e := newEnv(t, cut)
	w := e.ver.Watch()
	w.Track()
	w.Heard(e.clk.Now())
	return &staleEnv{env: e, cut: cut, other: service.New(verify.NewStore(st), service.WithClock(e.clk.Now)), watch: w}
}

// TestStaleCacheRereadsTheStore: once the listener has been silent for
// max-stale, a cached answer is read again, so a key another node revoked
// meanwhile answers REVOKED, and a key another node made is found.
func TestStaleCacheRereadsTheStore(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			e := newStaleEnv(t, open(t))
			k, key := e.create(t, service.KeyCreate{})
			unknown := secret.NewKey("kh_live")
			e.verify(t, key)
			e.verify(t, unknown)

			// Another node revokes the key; this node does not hear of it.
			if _, err := e.other.RevokeKey(context.Background(), e.op, k.ID); err != nil {
				t.Fatal(err)
			}
			// While the listener is confirmed, answers come from the cache.
			e.clk.Add(maxStale - time.Second)
			e.watch.Heard(e.clk.Now())
			before := e.store.views.Load()
			if r := e.verify(t, key); r.Code != verify.Valid {
				t.Fatalf("confirmed cache: %s, want the cached VALID", r.Code)
			}
			if e.store.views.Load() != before {
				t.Fatal("a trusted cache entry read the store")
			}
			// The listener falls silent: the entry is served until
			// max-stale after the last confirmation, then read again.
			e.clk.Add(maxStale - time.Millisecond)
			if r := e.verify(t, key); r.Code != verify.Valid {
				t.Fatalf("within max-stale: %s", r.Code)
			}
			if err := e.watch.Err(); err != nil {
				t.Fatalf("Err within max-stale: %v", err)
			}
			e.clk.Add(time.Millisecond)
			if r := e.verify(t, key); r.Code != verify.Revoked {
				t.Fatalf("after max-stale: %s, want REVOKED from the store", r.Code)
			}
			if err := e.watch.Err(); !keyhub.IsKind(err, keyhub.KindUnavailable) {
				t.Fatalf("Err after max-stale = %v, want unavailable", err)
			}

			// An unknown key another node created is found the same way.
			_, fresh, err := e.other.CreateKey(context.Background(), e.op, service.KeyCreate{Name: "fresh"})
			if err != nil {
				t.Fatal(err)
			}
			if r := e.verify(t, fresh); r.Code != verify.Valid {
				t.Fatalf("a key made elsewhere while unheard: %s", r.Code)
			}
			// Reloaded entries are trusted for max-stale after their load.
			before = e.store.views.Load()
			e.clk.Add(maxStale / 2)
			e.verify(t, key)
			e.verify(t, fresh)
			if e.store.views.Load() != before {
				t.Fatal("entries reloaded while unheard read the store again within max-stale")
			}
			// The listener is back: everything is trusted again.
			e.watch.Heard(e.clk.Now())
			if err := e.watch.Err(); err != nil {
				t.Fatalf("Err after Heard: %v", err)
			}
		})
	}
}

// TestStaleCacheFailsClosed: with the store unreachable too, a node past
// max-stale answers an error, never the cached VALID of a key that may
// have been revoked; management authentication from the cache likewise.
func TestStaleCacheFailsClosed(t *testing.T) {
	e := newStaleEnv(t, openSQLite(t))
	_, key := e.create(t, service.KeyCreate{})
	_, mgmt := e.create(t, service.KeyCreate{Scopes: []string{"read:api_keys"}})
	e.verify(t, key)
	auth := authn.New(e.store, e.ver, authn.WithClock(e.clk.Now))
	if _, err := auth.Authenticate(context.Background(), mgmt, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	e.cut.down.Store(true)
	e.clk.Add(maxStale - time.Millisecond)
	if r := e.verify(t, key); r.Code != verify.Valid {
		t.Fatalf("within max-stale, store down: %s, want the cached VALID", r.Code)
	}
	if _, err := auth.Authenticate(context.Background(), mgmt, netip.Addr{}); err != nil {
		t.Fatalf("within max-stale, store down: %v", err)
	}
	e.clk.Add(time.Millisecond)
	for range 3 {
		r, err := e.ver.Verify(context.Background(), verify.Request{Key: key, Cost: 1})
		if !errors.Is(err, keyhub.ErrUnavailable) || r.Valid {
			t.Fatalf("after max-stale, store down: %+v, %v; want ErrUnavailable", r, err)
		}
		if _, err := auth.Authenticate(context.Background(), mgmt, netip.Addr{}); !errors.Is(err, keyhub.ErrUnavailable) {
			t.Fatalf("authentication after max-stale, store down: %v; want ErrUnavailable", err)
		}
	}
	// The link returns: answers come back by themselves.
	e.cut.down.Store(false)
	if r := e.verify(t, key); r.Code != verify.Valid {
		t.Fatalf("after the store returned: %s", r.Code)
	}
}

// TestUntrackedWatchTrustsTheCache: a node alone on its store (SQLite)
// never goes stale, however long nothing was heard.
func TestUntrackedWatchTrustsTheCache(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	_, key := e.create(t, service.KeyCreate{})
	e.verify(t, key)
	before := e.store.views.Load()
	e.clk.Add(maxStale * 5)
	e.verify(t, key)
	if e.store.views.Load() != before {
		t.Fatal("an untracked cache read the store")
	}
	if err := e.ver.Watch().Err(); err != nil {
		t.Fatalf("Err of an untracked watch: %v", err)
	}
}
