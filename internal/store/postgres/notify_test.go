package postgres_test

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// recorder records invalidations as strings, and heartbeats.
type recorder struct {
	mu    sync.Mutex
	got   []string
	heard []time.Time
}

// Heard records the time and a "heard" entry among the invalidations, so
// that tests see what came first.
func (r *recorder) Heard(at time.Time) {
	r.mu.Lock()
	r.heard = append(r.heard, at)
	r.got = append(r.got, "heard")
	r.mu.Unlock()
}

func (r *recorder) add(s string)   { r.mu.Lock(); r.got = append(r.got, s); r.mu.Unlock() }
func (r *recorder) InvalidateAll() { r.add("all") }
func (r *recorder) Invalidate(c keyhub.Change) {
	switch c.Kind {
	case keyhub.ChangedKey:
		r.add("key " + hex.EncodeToString(c.KeyHash))
	case keyhub.ChangedRole:
		r.add("role " + c.TenantID + " " + c.ID)
	case keyhub.ChangedTenant:
		r.add("tenant " + c.TenantID)
	case keyhub.ChangedClient:
		r.add("client " + c.ID)
	}
}

// announce commits changes from store s, as a node's write does.
func announce(t *testing.T, s *postgres.Store, changes ...keyhub.Change) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx keyhub.Tx) error { return tx.Announce(context.Background(), changes) }); err != nil {
		t.Fatal(err)
	}
}

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
	go func() { b.Listen(ctx, rec, postgres.ListenConfig{Ready: ready}); close(done) }()
	<-ready

	announce(t, a, keyhub.Change{Kind: keyhub.ChangedKey, KeyHash: []byte{0xde, 0xad}},
		keyhub.Change{Kind: keyhub.ChangedRole, TenantID: "ten_1", ID: "role_2"},
		keyhub.Change{Kind: keyhub.ChangedTenant, TenantID: "ten_3"},
		keyhub.Change{Kind: keyhub.ChangedClient, ID: "cli_4"})
	// A rolled-back transaction announces nothing.
	rollback := errors.New("rollback")
	if err := a.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.Announce(ctx, []keyhub.Change{{Kind: keyhub.ChangedTenant, TenantID: "ten_rolled_back"}}); err != nil {
			return err
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	rec.waitFor(t, "key dead")
	rec.waitFor(t, "client cli_4")
	rec.waitFor(t, "role ten_1 role_2")
	rec.waitFor(t, "tenant ten_3")

	// Kill the listening connection: the listener reconnects and drops all.
	if _, err := a.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN keyhub_invalidate%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "all")
	announce(t, a, keyhub.Change{Kind: keyhub.ChangedTenant, TenantID: "ten_after"})
	rec.waitFor(t, "tenant ten_after")
	cancel()
	<-done
	if slices.Contains(rec.got, "tenant ten_rolled_back") {
		t.Fatal("a rolled-back change was announced")
	}
}

// TestAnnounceDeliveredOnCommitOnly listens beside a node that announces
// changes: nothing is heard while the transaction is open, nothing of a
// rolled-back one ever, and a committed one's changes arrive in order with
// their payloads, which the listener of another node applies.
func TestAnnounceDeliveredOnCommitOnly(t *testing.T) {
	url := pgtest.URL(t)
	s := openURL(t, url)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN keyhub_invalidate"); err != nil {
		t.Fatal(err)
	}
	// quiet reports whether no notification arrives within d.
	quiet := func(d time.Duration) bool {
		c, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		n, err := conn.WaitForNotification(c)
		if err == nil {
			t.Errorf("unexpected notification %q", n.Payload)
			return false
		}
		return true
	}

	boom := errors.New("boom")
	err = s.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.Announce(ctx, []keyhub.Change{{Kind: keyhub.ChangedKey, KeyHash: []byte{0xba, 0xd0}}}); err != nil {
			return err
		}
		quiet(300 * time.Millisecond) // not before the commit
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}

	changes := []keyhub.Change{
		{Kind: keyhub.ChangedKey, KeyHash: []byte{0xbe, 0xef}},
		{Kind: keyhub.ChangedRole, TenantID: "ten_1", ID: "role_2"},
		{Kind: keyhub.ChangedTenant, TenantID: "ten_3"},
		{Kind: keyhub.ChangedClient, ID: "cli_4"},
	}
	if err := s.Update(ctx, func(tx keyhub.Tx) error { return tx.Announce(ctx, changes) }); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in the order sent, so had the rolled-back one
	// been delivered it would come first.
	for _, want := range []string{"k:beef", "r:ten_1:role_2", "t:ten_3", "c:cli_4"} {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := conn.WaitForNotification(c)
		cancel()
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if n.Payload != want {
			t.Errorf("notification %q, want %q", n.Payload, want)
		}
	}
	quiet(100 * time.Millisecond)

	// Another node's listener applies what is announced.
	listener := openURL(t, url)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recorder{}
	ready, done := make(chan struct{}), make(chan struct{})
	go func() { listener.Listen(lctx, rec, postgres.ListenConfig{Ready: ready}); close(done) }()
	<-ready
	if err := s.Update(ctx, func(tx keyhub.Tx) error { return tx.Announce(ctx, changes[:3]) }); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "key beef")
	rec.waitFor(t, "role ten_1 role_2")
	rec.waitFor(t, "tenant ten_3")
	cancel()
	<-done
}

// TestHeartbeatConfirmsTheListener: the listener confirms its connection
// every heartbeat, with times that only grow, and a heartbeat sent after a
// change committed is confirmed only once that change is applied: Heard
// promises what bounded staleness relies on. When the connection dies the
// listener reconnects, drops everything, then confirms again.
func TestHeartbeatConfirmsTheListener(t *testing.T) {
	url := pgtest.URL(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{}
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		b.Listen(ctx, rec, postgres.ListenConfig{Ready: ready, Heartbeat: 50 * time.Millisecond})
		close(done)
	}()
	<-ready
	// until waits, boundedly, until cond holds of the events and heartbeat
	// times recorded so far.
	until := func(what string, cond func(got []string, heard []time.Time) bool) ([]string, []time.Time) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			rec.mu.Lock()
			got, heard := slices.Clone(rec.got), slices.Clone(rec.heard)
			rec.mu.Unlock()
			if cond(got, heard) {
				return got, heard
			}
		}
		t.Fatalf("never %s: %v", what, rec.got)
		return nil, nil
	}
	_, heard := until("4 heartbeats", func(_ []string, h []time.Time) bool { return len(h) >= 4 })
	for i := 1; i < len(heard); i++ {
		if !heard[i].After(heard[i-1]) {
			t.Fatalf("heartbeat %d at %v is not after %v", i, heard[i], heard[i-1])
		}
	}

	announce(t, a, keyhub.Change{Kind: keyhub.ChangedTenant, TenantID: "ten_beat"})
	committed := time.Now()
	got, heard := until("a heartbeat sent after the commit", func(_ []string, h []time.Time) bool {
		return h[len(h)-1].After(committed)
	})
	// The k-th "heard" event is heard[k]: the first heartbeat sent after
	// the commit comes after the change.
	k := slices.IndexFunc(heard, func(at time.Time) bool { return at.After(committed) })
	if change, beat := slices.Index(got, "tenant ten_beat"), nth(got, "heard", k); change < 0 || change > beat {
		t.Fatalf("a heartbeat sent after the commit was confirmed before the change was applied: %v", got)
	}

	// Kill the listening connection: the listener reconnects, drops
	// everything and confirms again.
	mark := len(got)
	if _, err := a.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN keyhub_invalidate%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	until("a heartbeat after the drop", func(g []string, _ []time.Time) bool {
		all := slices.Index(g[mark:], "all")
		return all >= 0 && slices.Contains(g[mark+all:], "heard")
	})
	cancel()
	<-done
}

// nth is the index of the k-th (from 0) occurrence of s in list, or -1.
func nth(list []string, s string, k int) int {
	for i, v := range list {
		if v == s {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return -1
}
