package oauth

import (
	"context"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

func TestDenyListAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, c := newTestStore(t), newClock()
	a, b := NewDenyList(st, c.Now), NewDenyList(st, c.Now)
	for _, d := range []*DenyList{a, b} {
		d.Interval = 10 * time.Millisecond
		d.Log = quietLog()
		if err := d.Load(ctx); err != nil {
			t.Fatal(err)
		}
		go d.Run(ctx)
	}
	if err := a.Revoke(ctx, "jti-1", c.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !a.Revoked("jti-1") {
		t.Fatal("revocation not applied on its own node at once")
	}
	if a.Revoked("jti-2") {
		t.Fatal("unrelated jti revoked")
	}
	waitFor(t, func() bool { return b.Revoked("jti-1") }, "node b to see the revocation")
	if err := a.Revoke(ctx, "jti-1", c.Now().Add(time.Hour)); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}

	// A third node starting later loads it.
	late := NewDenyList(st, c.Now)
	if err := late.Load(ctx); err != nil || !late.Revoked("jti-1") {
		t.Fatalf("late node: revoked=%v, %v", late.Revoked("jti-1"), err)
	}
}

func TestDenyListExpiry(t *testing.T) {
	ctx := context.Background()
	st, c := newTestStore(t), newClock()
	d := NewDenyList(st, c.Now)
	exp := c.Now().Add(time.Hour)
	if err := d.Revoke(ctx, "jti-1", exp); err != nil {
		t.Fatal(err)
	}
	// Verify accepts a token for Leeway after exp, so the entry must last
	// at least that long.
	c.Add(time.Hour + Leeway)
	if err := d.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if !d.Revoked("jti-1") {
		t.Fatal("entry dropped while the token is still accepted with leeway")
	}
	c.Add(denyGrace)
	if err := d.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Revoked("jti-1") || d.Len() != 0 {
		t.Fatal("expired entry kept in memory")
	}

	// Run purges it from the store.
	d.Interval = 5 * time.Millisecond
	d.Log = quietLog()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go d.Run(runCtx)
	waitFor(t, func() bool {
		var n int
		st.View(ctx, func(tx keyhub.Tx) error {
			l, err := tx.ListRevokedTokens(ctx, time.Time{})
			n = len(l)
			return err
		})
		return n == 0
	}, "the store to be purged")
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func BenchmarkRevoked(b *testing.B) {
	d := NewDenyList(newTestStore(b), nil)
	for i := range 1000 {
		d.Revoke(context.Background(), string(rune('a'+i%26))+time.Duration(i).String(), time.Now().Add(time.Hour))
	}
	b.ReportAllocs()
	for b.Loop() {
		d.Revoked("not-revoked")
	}
}
