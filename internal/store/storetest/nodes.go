package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

// The node cases open several stores on one database, as several keyhub
// processes on one SQLite file or one PostgreSQL server do, and check that
// what holds on one handle holds across them.

var nodeCases = []nodeCase{
	{"WritesSeenByOtherNodes", testNodesSeeWrites},
	{"ConcurrentUpdatesAllSucceed", testNodesConcurrentUpdates},
	{"SpendCreditsIsExact", testNodesSpend},
	{"ConcurrentRefillHappensOnce", testNodesRefillOnce},
	{"UsageBatchesNeitherFailNorLoseCounts", testNodesUsageBatches},
	{"ConcurrentBootstrapCreatesOneKey", testNodesBootstrap},
	{"ConcurrentIdempotencyClaimsOneWins", testNodesOneClaimWins},
	{"ConcurrentCreatesShareTheTenant", testNodesCreatesShareTenant},
}

// openNodes opens n stores on the database.
func openNodes(open func() keyhub.Store, n int) []keyhub.Store {
	out := make([]keyhub.Store, n)
	for i := range out {
		out[i] = open()
	}
	return out
}

func testNodesSeeWrites(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 2)
	tn := createTenant(t, nodes[0], baseTime())
	mustView(t, nodes[1], func(tx keyhub.Tx) error {
		got, err := tx.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenant on the other node: %v", err)
		}
		checkTenant(t, got, tn)
		return nil
	})
}

// testNodesConcurrentUpdates: writers of several nodes queue rather than
// fail; a busy database must not surface as an error.
func testNodesConcurrentUpdates(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 2)
	const n = 32
	now := baseTime()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- nodes[i%len(nodes)].Update(ctx, func(tx keyhub.Tx) error {
				if _, err := tx.ListTenants(ctx, keyhub.Page{Limit: 1}); err != nil {
					return err
				}
				return tx.CreateTenant(ctx, newTenant(at(now, i)))
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update: %v", err)
		}
	}
	mustView(t, nodes[0], func(tx keyhub.Tx) error {
		got, err := tx.ListTenants(ctx, wholeList)
		if err != nil || len(got) != n {
			t.Errorf("ListTenants = %d tenants, %v; want %d", len(got), err, n)
		}
		return nil
	})
}

// createKeys creates n operator keys with the given credits.
func createKeys(t *testing.T, s keyhub.Store, n int, credits *keyhub.Credits) []*keyhub.APIKey {
	t.Helper()
	now := baseTime()
	keys := make([]*keyhub.APIKey, n)
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		for i := range keys {
			k := newKey("", at(now, i))
			k.Credits = credits
			if err := tx.CreateAPIKey(ctx, k); err != nil {
				return err
			}
			keys[i] = k
		}
		return nil
	})
	return keys
}

// spendUntilRefused has workers spread over the nodes spend one credit at a
// time until refused, and returns how many spends succeeded.
func spendUntilRefused(t *testing.T, nodes []keyhub.Store, id string, workers int, period time.Time) int64 {
	t.Helper()
	var spent atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		s := nodes[w%len(nodes)]
		wg.Go(func() {
			for {
				var ok bool
				err := s.Update(ctx, func(tx keyhub.Tx) error {
					var err error
					_, ok, err = tx.SpendCredits(ctx, id, 1, period)
					return err
				})
				if err != nil {
					t.Errorf("SpendCredits: %v", err)
					return
				}
				if !ok {
					return
				}
				spent.Add(1)
			}
		})
	}
	wg.Wait()
	return spent.Load()
}

// testNodesSpend: credits are exact across nodes, not only across the
// connections of one handle.
func testNodesSpend(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 4)
	k := createKeys(t, nodes[0], 1, &keyhub.Credits{Remaining: 500})[0]
	if n := spendUntilRefused(t, nodes, k.ID, 64, time.Time{}); n != 500 {
		t.Errorf("successful spends = %d, want exactly 500", n)
	}
	if c := storedCredits(t, nodes[1], "", k.ID); c.Remaining != 0 {
		t.Errorf("final balance = %d, want 0", c.Remaining)
	}
}

// testNodesRefillOnce: when a refill falls due, spenders of several nodes
// racing for the first spend of the period refill once between them.
func testNodesRefillOnce(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 4)
	now := time.Now().UTC()
	today := keyhub.RefillPeriodStart(keyhub.RefillDaily, now)
	yesterday := today.AddDate(0, 0, -1)
	k := createKeys(t, nodes[0], 1, &keyhub.Credits{
		Remaining: 3, Refill: &keyhub.Refill{Amount: 200, Interval: keyhub.RefillDaily}, RefilledAt: &yesterday,
	})[0]
	if n := spendUntilRefused(t, nodes, k.ID, 64, today); n != 200 {
		t.Errorf("successful spends = %d, want exactly the refill amount 200", n)
	}
	c := storedCredits(t, nodes[1], "", k.ID)
	if c.Remaining != 0 || c.RefilledAt == nil || !c.RefilledAt.Equal(today) {
		t.Errorf("credits after the race = %+v, want 0 remaining refilled at %v", c, today)
	}
}

// testNodesUsageBatches flushes overlapping batches of touches and counts
// from several nodes at once, each in its own key order, as the usage
// batchers of several nodes do: none may fail (PostgreSQL must not
// deadlock) and every count must land.
func testNodesUsageBatches(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 4)
	keys := createKeys(t, nodes[0], 40, nil)
	hour := time.Now().UTC().Truncate(time.Hour)
	const flushers, rounds = 8, 10
	var wg sync.WaitGroup
	for f := range flushers {
		s := nodes[f%len(nodes)]
		wg.Go(func() {
			for r := range rounds {
				used := map[string]time.Time{}
				var counts []keyhub.UsageCount
				for _, i := range rand.Perm(len(keys)) {
					used[keys[i].ID] = hour.Add(time.Duration(f*rounds+r) * time.Second)
					counts = append(counts, keyhub.UsageCount{KeyID: keys[i].ID, Hour: hour, Code: "VALID", Count: 1})
				}
				err := s.Update(ctx, func(tx keyhub.Tx) error {
					if err := tx.TouchAPIKeys(ctx, used); err != nil {
						return err
					}
					return tx.AddUsage(ctx, counts)
				})
				if err != nil {
					t.Errorf("flush: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	latest := hour.Add(time.Duration(flushers*rounds-1) * time.Second)
	mustView(t, nodes[1], func(tx keyhub.Tx) error {
		for _, k := range keys {
			counts, err := tx.ListUsage(ctx, "", k.ID, hour, hour.Add(time.Hour))
			if err != nil {
				return err
			}
			if len(counts) != 1 || counts[0].Count != flushers*rounds {
				t.Errorf("usage of %s = %+v, want one count of %d", k.ID, counts, flushers*rounds)
			}
			got, err := tx.GetAPIKey(ctx, "", k.ID)
			if err != nil {
				return err
			}
			checkTimePtr(t, "LastUsedAt of "+k.ID, got.LastUsedAt, &latest)
		}
		return nil
	})
}

// testNodesBootstrap runs the bootstrap pattern, count operator keys and
// create one when there is none, on many nodes at once: exactly one key.
func testNodesBootstrap(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 16)
	var wg sync.WaitGroup
	for i, s := range nodes {
		wg.Go(func() {
			err := s.Update(ctx, func(tx keyhub.Tx) error {
				n, err := tx.CountOperatorKeys(ctx)
				if err != nil || n > 0 {
					return err
				}
				k := newKey("", baseTime())
				k.Name, k.Environment, k.Hash = "op", "operator", hashOf(fmt.Sprint("bootstrap ", i))
				return tx.CreateAPIKey(ctx, k)
			})
			if err != nil {
				t.Errorf("bootstrap: %v", err)
			}
		})
	}
	wg.Wait()
	mustView(t, nodes[0], func(tx keyhub.Tx) error {
		n, err := tx.CountOperatorKeys(ctx)
		if err == nil && n != 1 {
			t.Errorf("%d operator keys after concurrent bootstrap, want 1", n)
		}
		return err
	})
}

// testNodesCreatesShareTheTenant creates keys of one tenant from several
// nodes at once, each reading the tenant with GetTenantShared as key
// creation does: every create succeeds (no deadlock between the shared
// locks and the key inserts' foreign-key checks) and every key is there.
func testNodesCreatesShareTenant(t *testing.T, open func() keyhub.Store) {
	nodes := openNodes(open, 4)
	tn := createTenant(t, nodes[0], baseTime())
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range each {
				err := nodes[w%len(nodes)].Update(ctx, func(tx keyhub.Tx) error {
					if _, err := tx.GetTenantShared(ctx, tn.ID); err != nil {
						return err
					}
					return tx.CreateAPIKey(ctx, newKey(tn.ID, time.Now()))
				})
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	mustView(t, nodes[1], func(tx keyhub.Tx) error {
		got, err := tx.ListAPIKeys(ctx, tn.ID, keyhub.APIKeyFilter{Page: wholeList})
		if err != nil {
			t.Fatalf("ListAPIKeys: %v", err)
		}
		if len(got) != writers*each {
			t.Errorf("%d keys, want %d", len(got), writers*each)
		}
		return nil
	})
}
