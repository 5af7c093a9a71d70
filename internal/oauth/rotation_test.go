package oauth

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/keyhub/keyhub"
)

func TestRotation(t *testing.T) {
	ctx := context.Background()
	f := newKeysFixture(t)
	k := f.loaded(t, ES256)
	first := k.Current()
	oldTok, _ := k.Sign(f.claims())

	f.clock.Add(time.Minute)
	rotated, err := k.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.ID == first.ID || k.Current().ID != rotated.ID {
		t.Fatalf("current %s after rotating to %s", k.Current().ID, rotated.ID)
	}
	newTok, _ := k.Sign(f.claims())
	if decodeSegment(t, newTok, 0)["kid"] != rotated.ID {
		t.Fatal("new token not signed by the new key")
	}
	for _, tok := range []string{oldTok, newTok} {
		if _, err := k.Verify(tok, ""); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	if got := jwksKIDs(t, k.JWKS()); len(got) != 2 {
		t.Fatalf("JWKS kids %v, want both", got)
	}
	var old *keyhub.SigningKey
	for _, r := range f.listKeys(t) {
		if r.ID == first.ID {
			old = r
		}
	}
	if old.RetiredAt == nil || old.ExpiresAt == nil || !old.ExpiresAt.Equal(old.RetiredAt.Add(DefaultRetain)) {
		t.Fatalf("old key retired_at %v expires_at %v", old.RetiredAt, old.ExpiresAt)
	}

	// Just before ExpiresAt the old key is still published.
	f.clock.Add(DefaultRetain - time.Second)
	if err := k.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, k.JWKS()); len(got) != 2 {
		t.Fatalf("JWKS kids %v before ExpiresAt", got)
	}
	f.clock.Add(time.Second)
	if err := k.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, k.JWKS()); len(got) != 1 || got[0] != rotated.ID {
		t.Fatalf("JWKS kids %v after ExpiresAt, want only %s", got, rotated.ID)
	}
	if recs := f.listKeys(t); len(recs) != 1 || recs[0].ID != rotated.ID {
		t.Fatalf("store still holds %d keys", len(recs))
	}
}

func TestAutoRotate(t *testing.T) {
	ctx := context.Background()
	f := newKeysFixture(t)
	k := f.loaded(t, ES256)
	first := k.Current().ID
	f.clock.Add(DefaultMaxAge - time.Minute)
	if err := k.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if k.Current().ID != first {
		t.Fatal("rotated too early")
	}
	f.clock.Add(time.Minute)
	if err := k.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if k.Current().ID == first {
		t.Fatal("not rotated at MaxAge")
	}
	if len(jwksKIDs(t, k.JWKS())) != 2 {
		t.Fatal("old key left the JWKS at rotation")
	}
}

func TestAlgorithmChange(t *testing.T) {
	f := newKeysFixture(t)
	es := f.loaded(t, ES256)
	esTok, _ := es.Sign(f.claims())
	ed := f.loaded(t, EdDSA)
	if ed.Current().Algorithm != EdDSA {
		t.Fatalf("current key is %s after configuring EdDSA", ed.Current().Algorithm)
	}
	if _, err := ed.Verify(esTok, ""); err != nil {
		t.Fatalf("ES256 token after switching to EdDSA: %v", err)
	}
}

// TestConcurrentLoadCreatesOneKey starts several nodes at once, each with
// its own handle on one database, like separate processes.
func TestConcurrentLoadCreatesOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyhub.db")
	f := &keysFixture{store: openTestStore(t, path), clock: newClock(), master: testMaster(t)}
	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	ks := make([]*Keys, nodes)
	for i := range nodes {
		ks[i] = NewKeys(openTestStore(t, path), KeysConfig{Issuer: testIssuer, Master: f.master, Now: f.clock.Now, Log: quietLog()})
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ks[i].Load(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if recs := f.listKeys(t); len(recs) != 1 {
		t.Fatalf("%d keys created, want 1", len(recs))
	}
	for _, k := range ks[1:] {
		if k.Current().ID != ks[0].Current().ID {
			t.Fatal("nodes disagree on the current key")
		}
	}
}

// TestIdleMaintainDoesNotWrite: a node with nothing to do reads the store
// once per tick and never takes the write lock.
func TestIdleMaintainDoesNotWrite(t *testing.T) {
	st := newMemStore()
	f := &keysFixture{store: st, clock: newClock(), master: testMaster(t)}
	k := f.loaded(t, ES256)
	before := st.updates
	for range 5 {
		f.clock.Add(DefaultInterval)
		if err := k.maintain(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if st.updates != before {
		t.Fatalf("%d writes while idle", st.updates-before)
	}
}

func TestCrossNodeRotation(t *testing.T) {
	f := newKeysFixture(t)
	a, b := f.loaded(t, ES256), f.loaded(t, ES256)
	if _, err := b.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, _ := b.Sign(f.claims())
	// a has not reloaded yet: the unknown kid makes it look once.
	if _, err := a.Verify(tok, ""); err != nil {
		t.Fatalf("node a rejects node b's new key: %v", err)
	}
}

func TestRunReloads(t *testing.T) {
	f := newKeysFixture(t)
	a := f.loaded(t, ES256)
	b := NewKeys(f.store, KeysConfig{Issuer: testIssuer, Master: f.master, Now: f.clock.Now, Log: quietLog(), Interval: 10 * time.Millisecond})
	if err := b.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx)
	rotated, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Current().ID != rotated.ID {
		if time.Now().After(deadline) {
			t.Fatal("node b never saw the rotation")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDuplicateCurrentTidied: should two keys ever be current (two nodes
// racing on a store that let them), every node signs with the newest and
// the next pass retires the other.
func TestDuplicateCurrentTidied(t *testing.T) {
	ctx := context.Background()
	f := newKeysFixture(t)
	var recs []*keyhub.SigningKey
	for i := range 2 {
		rec, err := newSigningKey(f.master, jose.ES256, keyhub.NewID("sig_", f.clock.Now()), f.clock.Now().Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		if err := f.store.Update(ctx, func(tx keyhub.Tx) error { return tx.CreateSigningKey(ctx, rec) }); err != nil {
			t.Fatal(err)
		}
	}
	k := f.loaded(t, ES256)
	if k.Current().ID != recs[1].ID {
		t.Fatalf("current %s, want the newest %s", k.Current().ID, recs[1].ID)
	}
	current := 0
	for _, r := range f.listKeys(t) {
		if r.RetiredAt == nil {
			current++
		}
	}
	if current != 1 || len(jwksKIDs(t, k.JWKS())) != 2 {
		t.Fatalf("%d current keys after Load, JWKS %v", current, jwksKIDs(t, k.JWKS()))
	}
}

func TestFirstKIDShared(t *testing.T) {
	m, now := testMaster(t), newClock().Now()
	if firstKID(m, now) != firstKID(m, now.Add(time.Hour)) {
		t.Fatal("first kid differs within a day")
	}
	if firstKID(m, now) == firstKID(m, now.Add(24*time.Hour)) || firstKID(m, now) == firstKID(testMaster(t), now) {
		t.Fatal("first kid reused across days or deployments")
	}
}
