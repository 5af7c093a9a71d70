package storetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/keyhub/keyhub"
)

var txCases = []testCase{
	{"Ping", testPing},
	{"UpdateRollsBackOnError", testUpdateRollsBack},
	{"UpdateCommitsOnNil", testUpdateCommits},
	{"ConcurrentUpdatesAllSucceed", testConcurrentUpdates},
	{"ConcurrentReadModifyWriteLosesNothing", testNoLostUpdate},
}

func testPing(t *testing.T, s keyhub.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testUpdateRollsBack(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := newTenant(now)
	k := newKey("", now)
	boom := errors.New("boom")
	err := update(t, s, func(tx keyhub.Tx) error {
		if err := tx.CreateTenant(ctx, tn); err != nil {
			return err
		}
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the error fn returned", err)
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetTenant(ctx, tn.ID)
		wantKind(t, "GetTenant after rollback", err, keyhub.KindNotFound)
		_, err = tx.GetAPIKey(ctx, "", k.ID)
		wantKind(t, "GetAPIKey after rollback", err, keyhub.KindNotFound)
		n, err := tx.CountOperatorKeys(ctx)
		if err != nil || n != 0 {
			t.Errorf("CountOperatorKeys = %d, %v; want 0", n, err)
		}
		return nil
	})
}

func testUpdateCommits(t *testing.T, s keyhub.Store) {
	tn := createTenant(t, s, baseTime())
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		checkTenant(t, got, tn)
		return nil
	})
}

// testConcurrentUpdates checks that writers queue rather than fail: a busy
// database must never surface to callers as an error.
func testConcurrentUpdates(t *testing.T, s keyhub.Store) {
	const n = 32
	now := baseTime()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, func(tx keyhub.Tx) error {
				if err := tx.CreateTenant(ctx, newTenant(at(now, i))); err != nil {
					return err
				}
				_, err := tx.ListTenants(ctx, keyhub.Page{Limit: 1})
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update: %v", err)
		}
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListTenants(ctx, keyhub.Page{Limit: keyhub.MaxPageLimit})
		if err != nil || len(got) != n {
			t.Errorf("ListTenants = %d tenants, %v; want %d", len(got), err, n)
		}
		return nil
	})
}

// testNoLostUpdate checks Store.Update's promise that a read followed by a
// write in one Update sees no lost update: 32 concurrent increments of one
// counter must all count.
func testNoLostUpdate(t *testing.T, s keyhub.Store) {
	const n = 32
	tn := newTenant(baseTime())
	tn.KeyPrefixes = map[string]string{"counter": "0"}
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateTenant(ctx, tn) })
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, func(tx keyhub.Tx) error {
				cur, err := tx.GetTenant(ctx, tn.ID)
				if err != nil {
					return err
				}
				v, err := strconv.Atoi(cur.KeyPrefixes["counter"])
				if err != nil {
					return err
				}
				cur.KeyPrefixes["counter"] = strconv.Itoa(v + 1)
				return tx.UpdateTenant(ctx, cur)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update: %v", err)
		}
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		if c := got.KeyPrefixes["counter"]; c != strconv.Itoa(n) {
			t.Errorf("counter = %s after %d increments", c, n)
		}
		return nil
	})
}
