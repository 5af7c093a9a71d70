package idempotency_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/idempotency"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

var ctx = context.Background()

// stores are the real stores the keeper runs on.
func stores(t *testing.T) map[string]keyhub.Store {
	t.Helper()
	out := map[string]keyhub.Store{}
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	out["sqlite"] = lite
	if os.Getenv(pgtest.EnvVar) != "" {
		pg, err := postgres.Open(ctx, pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		out["postgres"] = pg
	}
	return out
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var master = bytes.Repeat([]byte{7}, 32)

func request(key, body string) idempotency.Request {
	return idempotency.Request{Credential: keyhub.Actor{Type: "api_key", ID: "key_a"}, Method: "POST", Path: "/v1/api-keys",
		Key: key, Digest: sha256.Sum256([]byte(body))}
}

const secretBody = `{"id":"key_1","key":"kh_live_THESECRETTHESECRETTHESECRETTHESEC"}`

func answer() idempotency.Response {
	return idempotency.Response{Status: 201, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(secretBody)}
}

// TestKeeper walks one key through its life on each store: claimed, in
// use, answered, replayed to the same request only, kept sealed, then
// forgotten after 24 hours.
func TestKeeper(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			k := idempotency.New(st, master, clk.now, nil)
			req := request("k1", "body")
			claim, replay, err := k.Begin(ctx, req)
			if err != nil || claim == nil || replay != nil {
				t.Fatalf("first Begin = %v, %v, %v", claim, replay, err)
			}
			// The same request while the first runs, from any node.
			other := idempotency.New(st, master, clk.now, nil)
			if _, _, err := other.Begin(ctx, req); !errors.Is(err, idempotency.ErrInProgress) {
				t.Fatalf("Begin while running = %v, want ErrInProgress", err)
			}
			if err := k.Finish(ctx, claim, answer()); err != nil {
				t.Fatal(err)
			}
			clk.add(keyhub.IdempotencyWindow - time.Microsecond)
			_, replay, err = other.Begin(ctx, req)
			if err != nil || replay == nil || replay.Status != 201 || string(replay.Body) != secretBody ||
				replay.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("Begin after the answer = %+v, %v; want the answer replayed", replay, err)
			}
			if _, _, err := k.Begin(ctx, request("k1", "another body")); !errors.Is(err, idempotency.ErrReused) {
				t.Fatalf("Begin with another request = %v, want ErrReused", err)
			}
			// Another credential with the same key is another request.
			mine := request("k1", "body")
			mine.Credential.ID = "key_b"
			if c, _, err := k.Begin(ctx, mine); err != nil || c == nil {
				t.Fatalf("another credential's Begin = %v, %v; want a claim of its own", c, err)
			}
			// The store holds the answer sealed: no secret at rest, no key
			// or credential in the id, and the master key of another
			// deployment opens nothing.
			rec, err := record(t, st, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, clear := range []string{"THESECRET", "kh_live", "key_1", "application/json"} {
				if bytes.Contains(rec.Response, []byte(clear)) {
					t.Errorf("the stored answer holds %q in clear", clear)
				}
			}
			if bytes.Contains([]byte(rec.ID), []byte("k1")) || bytes.Contains([]byte(rec.ID), []byte("key_a")) || len(rec.ID) != 64 {
				t.Errorf("record id %q", rec.ID)
			}
			if _, _, err := idempotency.New(st, bytes.Repeat([]byte{8}, 32), clk.now, nil).Begin(ctx, req); err == nil {
				t.Fatal("an answer sealed under another master key opened")
			}
			// 24 hours after the claim the key is forgotten.
			clk.add(time.Microsecond)
			if c, r, err := k.Begin(ctx, req); err != nil || c == nil || r != nil {
				t.Fatalf("Begin 24h later = %v, %+v, %v; want a new claim", c, r, err)
			}
		})
	}
}

// record reads the record of req from the store.
func record(t *testing.T, st keyhub.Store, req idempotency.Request) (*keyhub.IdempotencyRecord, error) {
	t.Helper()
	var r *keyhub.IdempotencyRecord
	err := st.View(ctx, func(tx keyhub.Tx) (err error) {
		r, err = tx.GetIdempotencyRecord(ctx, req.RecordID())
		return err
	})
	return r, err
}

// TestReleaseFreesTheKey: a request whose answer is not kept (a server
// error) frees its key, and its retry runs again.
func TestReleaseFreesTheKey(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			k := idempotency.New(st, master, nil, nil)
			req := request("k2", "body")
			claim, _, err := k.Begin(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Release(ctx, claim); err != nil {
				t.Fatal(err)
			}
			if c, r, err := k.Begin(ctx, req); err != nil || c == nil || r != nil {
				t.Fatalf("Begin after Release = %v, %+v, %v; want a new claim", c, r, err)
			}
		})
	}
}

// TestAbandonedClaimStaysRefused: a claim left without an answer for
// longer than any request runs (its node stopped mid-request) is refused
// as abandoned, never run a second time, until the window ends.
func TestAbandonedClaimStaysRefused(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			k := idempotency.New(st, master, clk.now, nil)
			req := request("k3", "body")
			if _, _, err := k.Begin(ctx, req); err != nil {
				t.Fatal(err)
			}
			clk.add(idempotency.Lease)
			if _, _, err := k.Begin(ctx, req); !errors.Is(err, idempotency.ErrAbandoned) {
				t.Fatalf("Begin after the lease = %v, want ErrAbandoned", err)
			}
			clk.add(keyhub.IdempotencyWindow)
			if c, _, err := k.Begin(ctx, req); err != nil || c == nil {
				t.Fatalf("Begin after the window = %v, %v; want a new claim", c, err)
			}
		})
	}
}

// TestPurge removes records older than the window, and only those.
func TestPurge(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
			k := idempotency.New(st, master, clk.now, nil)
			old, _, _ := k.Begin(ctx, request("old", "body"))
			if err := k.Finish(ctx, old, answer()); err != nil {
				t.Fatal(err)
			}
			clk.add(time.Hour)
			if _, _, err := k.Begin(ctx, request("young", "body")); err != nil {
				t.Fatal(err)
			}
			clk.add(keyhub.IdempotencyWindow - time.Hour + time.Microsecond)
			if err := k.Purge(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := record(t, st, request("old", "body")); !errors.Is(err, keyhub.ErrNotFound) {
				t.Errorf("the record older than the window after Purge: %v, want ErrNotFound", err)
			}
			if _, err := record(t, st, request("young", "body")); err != nil {
				t.Errorf("the younger record after Purge: %v", err)
			}
		})
	}
}
