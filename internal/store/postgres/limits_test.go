package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// nodes opens n stores on one fresh database: n keyhub nodes, each with its
// own connection pool.
func nodes(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	url := pgtest.URL(t)
	out := make([]*postgres.Store, n)
	for i := range out {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		out[i] = s
	}
	return out
}

// createKeys creates n operator keys with the given credits and returns them.
func createKeys(t *testing.T, s keyhub.Store, n int, credits *keyhub.Credits) []*keyhub.APIKey {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	keys := make([]*keyhub.APIKey, n)
	err := s.Update(ctx, func(tx keyhub.Tx) error {
		for i := range keys {
			at := now.Add(time.Duration(i) * time.Millisecond)
			k := &keyhub.APIKey{ID: keyhub.NewID(keyhub.PrefixAPIKey, at), Name: "k", Environment: "live",
				Hash: []byte(fmt.Sprintf("hash-%d", i)), Enabled: true, Credits: credits, CreatedAt: at, UpdatedAt: at}
			if err := tx.CreateAPIKey(ctx, k); err != nil {
				return err
			}
			keys[i] = k
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// spendUntilRefused has workers spread over the nodes spend one credit at a
// time until refused, and returns how many spends succeeded.
func spendUntilRefused(t *testing.T, stores []*postgres.Store, id string, workers int, period time.Time) int64 {
	t.Helper()
	var spent atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
	}
	wg.Wait()
	return spent.Load()
}

// TestSpendCreditsAcrossNodes: credits are exact across nodes, not only
// across the connections of one pool.
func TestSpendCreditsAcrossNodes(t *testing.T) {
	stores := nodes(t, 4)
	k := createKeys(t, stores[0], 1, &keyhub.Credits{Remaining: 500})[0]
	if n := spendUntilRefused(t, stores, k.ID, 64, time.Time{}); n != 500 {
		t.Errorf("successful spends = %d, want exactly 500", n)
	}
}

// TestConcurrentRefillHappensOnce: when a refill falls due, spenders racing
// for the first spend of the period refill once between them. The refill
// condition is re-checked on the row each waiting spender finally updates.
func TestConcurrentRefillHappensOnce(t *testing.T) {
	stores := nodes(t, 4)
	now := time.Now().UTC()
	today := keyhub.RefillPeriodStart(keyhub.RefillDaily, now)
	yesterday := today.AddDate(0, 0, -1)
	k := createKeys(t, stores[0], 1, &keyhub.Credits{
		Remaining: 3, Refill: &keyhub.Refill{Amount: 200, Interval: keyhub.RefillDaily}, RefilledAt: &yesterday,
	})[0]
	if n := spendUntilRefused(t, stores, k.ID, 64, today); n != 200 {
		t.Errorf("successful spends = %d, want exactly the refill amount 200", n)
	}
	var got *keyhub.APIKey
	err := stores[1].View(ctx, func(tx keyhub.Tx) error {
		var err error
		got, err = tx.GetAPIKey(ctx, "", k.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Credits; c == nil || c.Remaining != 0 || c.RefilledAt == nil || !c.RefilledAt.Equal(today) {
		t.Errorf("credits after the race = %+v, want 0 remaining refilled at %v", c, today)
	}
}

// TestUsageBatchesAcrossNodesDoNotDeadlock flushes overlapping batches of
// touches and counts from several nodes at once, each in its own key
// order: none may fail, and every count must land.
func TestUsageBatchesAcrossNodesDoNotDeadlock(t *testing.T) {
	stores := nodes(t, 4)
	keys := createKeys(t, stores[0], 40, nil)
	hour := time.Now().UTC().Truncate(time.Hour)
	const flushers, rounds = 8, 10
	var wg sync.WaitGroup
	for f := range flushers {
		s := stores[f%len(stores)]
		wg.Add(1)
		go func() {
			defer wg.Done()
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
		}()
	}
	wg.Wait()
	latest := hour.Add(time.Duration(flushers*rounds-1) * time.Second)
	err := stores[0].View(ctx, func(tx keyhub.Tx) error {
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
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(latest) {
				t.Errorf("LastUsedAt of %s = %v, want %v", k.ID, got.LastUsedAt, latest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAddUsageMergesDuplicates: one batch may count the same key, hour and
// code twice (an upsert may not touch one row twice), and hours are kept
// to the hour.
func TestAddUsageMergesDuplicates(t *testing.T) {
	s := open(t)
	k := createKeys(t, s, 1, nil)[0]
	hour := time.Now().UTC().Truncate(time.Hour)
	err := s.Update(ctx, func(tx keyhub.Tx) error {
		return tx.AddUsage(ctx, []keyhub.UsageCount{
			{KeyID: k.ID, Hour: hour, Code: "VALID", Count: 2},
			{KeyID: k.ID, Hour: hour.Add(10 * time.Minute), Code: "VALID", Count: 3},
			{KeyID: k.ID, Hour: hour, Code: "REVOKED", Count: 1},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []keyhub.UsageCount
	err = s.View(ctx, func(tx keyhub.Tx) error {
		got, err = tx.ListUsage(ctx, "", k.ID, hour, hour.Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []keyhub.UsageCount{
		{KeyID: k.ID, Hour: hour, Code: "REVOKED", Count: 1},
		{KeyID: k.ID, Hour: hour, Code: "VALID", Count: 5},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListUsage = %v, want %v", got, want)
	}
}

// TestMigrationKeepsExistingKeys upgrades a database holding a key made
// under the first schema: the key comes back without limits or links.
func TestMigrationKeepsExistingKeys(t *testing.T) {
	url := pgtest.URL(t)
	first, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := keyhub.NewID(keyhub.PrefixAPIKey, now)
	for _, sql := range []string{
		string(first),
		`CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO schema_migrations (version) VALUES ('0001_init')`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("set up the first schema: %v", err)
		}
	}
	_, err = conn.Exec(ctx, `INSERT INTO api_keys (id, name, environment, start, hash, enabled, creator_type,
		creator_id, created_at, updated_at) VALUES ($1, 'old', 'live', 'kh_live_abcd', '\x01', true, 'system', '', $2, $2)`,
		id, now)
	_ = conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}

	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open over the first schema: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	var k *keyhub.APIKey
	err = s.View(ctx, func(tx keyhub.Tx) error {
		k, err = tx.GetAPIKey(ctx, "", id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "old" || k.RateLimit != nil || k.Credits != nil || k.RotatedFrom != "" || k.ReplacedBy != "" {
		t.Errorf("migrated key = %+v, want the old key without limits", k)
	}
	err = s.Update(ctx, func(tx keyhub.Tx) error {
		_, _, err := tx.SpendCredits(ctx, id, 1, time.Time{})
		return err
	})
	if !keyhub.IsKind(err, keyhub.KindInvalid) {
		t.Errorf("SpendCredits on a migrated key = %v, want invalid (no credits)", err)
	}
}
