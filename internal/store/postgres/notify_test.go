package postgres_test

import (
	"context"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// recorder records invalidations as strings.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) add(s string)           { r.mu.Lock(); r.got = append(r.got, s); r.mu.Unlock() }
func (r *recorder) InvalidateKey(h []byte) { r.add("key " + hex.EncodeToString(h)) }
func (r *recorder) InvalidateRole(t, id string) {
	r.add("role " + t + " " + id)
}
func (r *recorder) InvalidateTenant(t string) { r.add("tenant " + t) }
func (r *recorder) InvalidateAll()            { r.add("all") }

func (r *recorder) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		ok := slices.Contains(r.got, want)
		r.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never received %q; got %v", want, r.got)
}

// TestInvalidationsReachOtherNodes publishes from one store and listens on
// another, as two nodes on one database do; a lost listening connection
// makes the listener drop everything, since it may have missed some.
func TestInvalidationsReachOtherNodes(t *testing.T) {
	url := pgtest.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rec := &recorder{}
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() { b.Listen(ctx, rec, nil, ready); close(done) }()
	<-ready

	pub := a.Publisher(nil)
	pub.InvalidateKey([]byte{0xde, 0xad})
	pub.InvalidateRole("ten_1", "role_2")
	pub.InvalidateTenant("ten_3")
	rec.waitFor(t, "key dead")
	rec.waitFor(t, "role ten_1 role_2")
	rec.waitFor(t, "tenant ten_3")

	// Kill the listening connection: the listener reconnects and drops all.
	if _, err := a.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN keyhub_invalidate%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "all")
	pub.InvalidateTenant("ten_after")
	rec.waitFor(t, "tenant ten_after")
	cancel()
	<-done
}
