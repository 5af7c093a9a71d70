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

// recorder records invalidations as strings.
type recorder struct {
	mu  sync.Mutex
	got []string
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
	go func() { b.Listen(ctx, rec, nil, ready); close(done) }()
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
	go func() { listener.Listen(lctx, rec, nil, ready); close(done) }()
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
