package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var txCases = []testCase{
	{"Ping", testPing},
	{"UpdateRollsBackOnError", testUpdateRollsBack},
	{"UpdateCommitsOnNil", testUpdateCommits},
	{"ConcurrentUpdatesAllSucceed", testConcurrentUpdates},
	{"ConcurrentReadModifyWriteLosesNothing", testNoLostUpdate},
	{"CanceledContextPassesThrough", testCanceledContext},
	{"AnnounceInUpdate", testAnnounce},
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
		wantErr(t, "GetTenant after rollback", err, keyhub.ErrNotFound)
		_, err = tx.GetAPIKey(ctx, "", k.ID)
		wantErr(t, "GetAPIKey after rollback", err, keyhub.ErrNotFound)
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
		got, err := tx.ListTenants(ctx, wholeList)
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

// testCanceledContext: a context that ended is the caller's error, passed
// through as itself (errors.Is), never a store error such as unavailable.
func testCanceledContext(t *testing.T, s keyhub.Store) {
	tn := createTenant(t, s, baseTime())
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	list := func(c context.Context) func(tx keyhub.Tx) error {
		return func(tx keyhub.Tx) error { return errOf(tx.ListTenants(c, wholeList)) }
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"View", s.View(canceled, list(canceled)), context.Canceled},
		{"Update", s.Update(canceled, func(keyhub.Tx) error { return nil }), context.Canceled},
		{"ViewDeadline", s.View(expired, list(expired)), context.DeadlineExceeded},
		{"UpdateDeadline", s.Update(expired, func(keyhub.Tx) error { return nil }), context.DeadlineExceeded},
		// A statement given an ended context inside a live transaction.
		{"StatementInView", s.View(ctx, func(tx keyhub.Tx) error { return errOf(tx.GetTenant(canceled, tn.ID)) }), context.Canceled},
		{"StatementInUpdate", s.Update(ctx, func(tx keyhub.Tx) error {
			return tx.UpdateTenant(canceled, tn)
		}), context.Canceled},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.err, tc.want)
		}
		if keyhub.ErrorKind(tc.err) != keyhub.KindInternal {
			t.Errorf("%s = %v: a store error, want the context's own", tc.name, tc.err)
		}
	}
	// The store is fine afterwards.
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenant after the canceled calls: %v", err)
		}
		checkTenant(t, got, tn)
		return nil
	})
}

// testAnnounce: Announce may be called in Update with any changes, before
// or after the writes, and commits or rolls back with them. What other
// nodes hear is the PostgreSQL store's own test.
func testAnnounce(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := newTenant(now)
	changes := []keyhub.Change{
		{Kind: keyhub.ChangedKey, KeyHash: hashOf("announced")},
		{Kind: keyhub.ChangedRole, TenantID: tn.ID, ID: keyhub.NewID(keyhub.PrefixRole, now)},
		{Kind: keyhub.ChangedTenant, TenantID: tn.ID},
		{Kind: keyhub.ChangedClient, ID: keyhub.NewID(keyhub.PrefixClient, now)},
	}
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		if err := tx.Announce(ctx, nil); err != nil {
			return err
		}
		if err := tx.Announce(ctx, changes[:1]); err != nil {
			return err
		}
		if err := tx.CreateTenant(ctx, tn); err != nil {
			return err
		}
		return tx.Announce(ctx, changes)
	})
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetTenant(ctx, tn.ID)
		return err
	})
	boom := errors.New("boom")
	rolledBack := newTenant(at(now, 1))
	err := update(t, s, func(tx keyhub.Tx) error {
		if err := tx.CreateTenant(ctx, rolledBack); err != nil {
			return err
		}
		if err := tx.Announce(ctx, changes); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the error fn returned", err)
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetTenant(ctx, rolledBack.ID)
		wantErr(t, "GetTenant after rollback", err, keyhub.ErrNotFound)
		return nil
	})
}
