package storetest

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var creditCases = []testCase{
	{"SpendTakesCost", testSpendTakesCost},
	{"SpendRefusesWhenShortAndChangesNothing", testSpendRefuses},
	{"SpendRefillsWhenDue", testSpendRefills},
	{"SpendRefillSetsNotAdds", testSpendRefillSets},
	{"SpendNoRefillWhenCurrent", testSpendNoRefillWhenCurrent},
	{"SpendRefillWithoutRefilledAt", testSpendRefillNeverRefilled},
	{"SpendZeroPeriodNeverRefills", testSpendZeroPeriod},
	{"SpendWithoutCreditsInvalid", testSpendWithoutCredits},
	{"SpendUnknownNotFound", testSpendUnknown},
	{"SpendConcurrentIsExact", testSpendConcurrent},
	{"AddCredits", testAddCredits},
	{"AddCreditsBelowZeroInvalid", testAddCreditsBelowZero},
	{"AddCreditsTenantScoped", testAddCreditsTenantScoped},
	{"AddCreditsWithoutCreditsInvalid", testAddCreditsWithoutCredits},
}

// creditNowCases are the spend cases again, each spend made outside any
// transaction (keyhub.CreditSpender), for a store that can: the same
// answers, the same exactness.
var creditNowCases = func() []testCase {
	var out []testCase
	for _, tc := range creditCases {
		if !strings.HasPrefix(tc.name, "Spend") {
			continue
		}
		out = append(out, testCase{tc.name, func(t *testing.T, s keyhub.Store) {
			sp, ok := s.(keyhub.CreditSpender)
			if !ok {
				t.Skip("the store spends credits in transactions only")
			}
			tc.fn(t, spendNowStore{Store: s, sp: sp})
		}})
	}
	return out
}()

// spendNowStore makes spend and spendOnce use SpendCreditsNow.
type spendNowStore struct {
	keyhub.Store
	sp keyhub.CreditSpender
}

// spendOnce spends as the store under test should: in a transaction, or
// outside one for a spendNowStore.
func spendOnce(s keyhub.Store, id string, cost int64, period time.Time) (int64, bool, error) {
	if ns, ok := s.(spendNowStore); ok {
		return ns.sp.SpendCreditsNow(ctx, id, cost, period)
	}
	var (
		n  int64
		ok bool
	)
	err := s.Update(ctx, func(tx keyhub.Tx) error {
		var err error
		n, ok, err = tx.SpendCredits(ctx, id, cost, period)
		return err
	})
	return n, ok, err
}

// creditKey creates a key of tenantID with the given credits.
func creditKey(t *testing.T, s keyhub.Store, tenantID string, now time.Time, c *keyhub.Credits) *keyhub.APIKey {
	t.Helper()
	k := newKey(tenantID, now)
	k.Credits = c
	return createKey(t, s, k)
}

func spend(t *testing.T, s keyhub.Store, id string, cost int64, period time.Time) (int64, bool, error) {
	t.Helper()
	return spendOnce(s, id, cost, period)
}

func mustSpend(t *testing.T, s keyhub.Store, id string, cost int64, period time.Time, wantN int64, wantOK bool) {
	t.Helper()
	n, ok, err := spend(t, s, id, cost, period)
	if err != nil {
		t.Fatalf("SpendCredits(%d): %v", cost, err)
	}
	if n != wantN || ok != wantOK {
		t.Errorf("SpendCredits(%d) = %d, %v; want %d, %v", cost, n, ok, wantN, wantOK)
	}
}

// storedCredits reads the key's credits back.
func storedCredits(t *testing.T, s keyhub.Store, tenantID, id string) *keyhub.Credits {
	t.Helper()
	c := getKey(t, s, tenantID, id).Credits
	if c == nil {
		t.Fatalf("key %s lost its credits", id)
	}
	return c
}

func testSpendTakesCost(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 10})
	mustSpend(t, s, k.ID, 3, time.Time{}, 7, true)
	mustSpend(t, s, k.ID, 1, time.Time{}, 6, true)
	if c := storedCredits(t, s, a.ID, k.ID); c.Remaining != 6 {
		t.Errorf("stored balance = %d, want 6", c.Remaining)
	}
	// Operator keys have credits too.
	op := creditKey(t, s, "", at(now, 1), &keyhub.Credits{Remaining: 2})
	mustSpend(t, s, op.ID, 2, time.Time{}, 0, true)
}

func testSpendRefuses(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 2})
	mustSpend(t, s, k.ID, 3, time.Time{}, 2, false)
	if c := storedCredits(t, s, a.ID, k.ID); c.Remaining != 2 {
		t.Errorf("balance after refusal = %d, want 2", c.Remaining)
	}
	mustSpend(t, s, k.ID, 2, time.Time{}, 0, true)
	mustSpend(t, s, k.ID, 1, time.Time{}, 0, false)
	if c := storedCredits(t, s, a.ID, k.ID); c.Remaining != 0 {
		t.Errorf("balance = %d, want 0", c.Remaining)
	}
}

func testSpendRefills(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	today := keyhub.RefillPeriodStart(keyhub.RefillDaily, now)
	yesterday := today.AddDate(0, 0, -1)
	refill := &keyhub.Refill{Amount: 100, Interval: keyhub.RefillDaily}
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 0, Refill: refill, RefilledAt: ptr(yesterday)})
	mustSpend(t, s, k.ID, 1, today, 99, true)
	c := storedCredits(t, s, a.ID, k.ID)
	if c.Remaining != 99 {
		t.Errorf("balance after refill = %d, want 99", c.Remaining)
	}
	checkTimePtr(t, "RefilledAt", c.RefilledAt, &today)
	// The same period does not refill again.
	mustSpend(t, s, k.ID, 9, today, 90, true)
	// The next period does.
	tomorrow := today.AddDate(0, 0, 1)
	mustSpend(t, s, k.ID, 10, tomorrow, 90, true)
	checkTimePtr(t, "RefilledAt", storedCredits(t, s, a.ID, k.ID).RefilledAt, &tomorrow)
}

// testSpendRefillSets checks that a refill tops the balance up to the
// amount rather than adding the amount to what is left.
func testSpendRefillSets(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	month := keyhub.RefillPeriodStart(keyhub.RefillMonthly, now)
	refill := &keyhub.Refill{Amount: 100, Interval: keyhub.RefillMonthly}
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 40, Refill: refill, RefilledAt: ptr(month.AddDate(0, -1, 0))})
	mustSpend(t, s, k.ID, 5, month, 95, true)
}

func testSpendNoRefillWhenCurrent(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	today := keyhub.RefillPeriodStart(keyhub.RefillDaily, now)
	refill := &keyhub.Refill{Amount: 100, Interval: keyhub.RefillDaily}
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 0, Refill: refill, RefilledAt: ptr(today)})
	mustSpend(t, s, k.ID, 1, today, 0, false)
	c := storedCredits(t, s, a.ID, k.ID)
	if c.Remaining != 0 {
		t.Errorf("balance = %d, want 0", c.Remaining)
	}
	checkTimePtr(t, "RefilledAt", c.RefilledAt, &today)
}

// testSpendRefillNeverRefilled: a key with a refill but no RefilledAt has
// never been refilled, so a refill is due.
func testSpendRefillNeverRefilled(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	today := keyhub.RefillPeriodStart(keyhub.RefillDaily, now)
	refill := &keyhub.Refill{Amount: 10, Interval: keyhub.RefillDaily}
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 0, Refill: refill})
	mustSpend(t, s, k.ID, 1, today, 9, true)
	checkTimePtr(t, "RefilledAt", storedCredits(t, s, a.ID, k.ID).RefilledAt, &today)
}

// testSpendZeroPeriod: callers pass the zero time when they know of no
// refill; the store then never refills.
func testSpendZeroPeriod(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	refill := &keyhub.Refill{Amount: 10, Interval: keyhub.RefillDaily}
	yesterday := keyhub.RefillPeriodStart(keyhub.RefillDaily, now).AddDate(0, 0, -1)
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 0, Refill: refill, RefilledAt: ptr(yesterday)})
	mustSpend(t, s, k.ID, 1, time.Time{}, 0, false)
}

func testSpendWithoutCredits(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	_, _, err := spend(t, s, k.ID, 1, time.Time{})
	wantErr(t, "SpendCredits without credits", err, keyhub.ErrNoCredits)
	if got := getKey(t, s, a.ID, k.ID); got.Credits != nil {
		t.Errorf("Credits = %+v after refused spend, want nil", *got.Credits)
	}
}

func testSpendUnknown(t *testing.T, s keyhub.Store) {
	_, _, err := spend(t, s, keyhub.NewID(keyhub.PrefixAPIKey, baseTime()), 1, time.Time{})
	wantErr(t, "SpendCredits unknown key", err, keyhub.ErrNotFound)
}

// testSpendConcurrent is the exactness guarantee: 64 goroutines spend one
// credit at a time until refused; exactly the balance is spent.
func testSpendConcurrent(t *testing.T, s keyhub.Store) {
	const (
		workers = 64
		balance = 1000
	)
	a, _, now := twoTenants(t, s)
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: balance})
	var (
		spent atomic.Int64
		wg    sync.WaitGroup
	)
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, ok, err := spendOnce(s, k.ID, 1, time.Time{})
				if err != nil {
					errs <- err
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
	close(errs)
	for err := range errs {
		t.Errorf("concurrent SpendCredits: %v", err)
	}
	if n := spent.Load(); n != balance {
		t.Errorf("successful spends = %d, want exactly %d", n, balance)
	}
	if c := storedCredits(t, s, a.ID, k.ID); c.Remaining != 0 {
		t.Errorf("final balance = %d, want 0", c.Remaining)
	}
}

func addCredits(t *testing.T, s keyhub.Store, tenantID, id string, delta int64) (int64, error) {
	t.Helper()
	var n int64
	err := update(t, s, func(tx keyhub.Tx) error {
		var err error
		n, err = tx.AddCredits(ctx, tenantID, id, delta)
		return err
	})
	return n, err
}

func testAddCredits(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	refill := &keyhub.Refill{Amount: 100, Interval: keyhub.RefillDaily}
	today := keyhub.RefillPeriodStart(keyhub.RefillDaily, now)
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 10, Refill: refill, RefilledAt: ptr(today)})
	steps := []struct {
		delta, want int64
	}{{5, 15}, {-3, 12}, {-12, 0}, {0, 0}, {1000, 1000}}
	for _, st := range steps {
		n, err := addCredits(t, s, a.ID, k.ID, st.delta)
		if err != nil || n != st.want {
			t.Fatalf("AddCredits(%d) = %d, %v; want %d", st.delta, n, err, st.want)
		}
	}
	c := storedCredits(t, s, a.ID, k.ID)
	if c.Remaining != 1000 {
		t.Errorf("stored balance = %d, want 1000", c.Remaining)
	}
	// Adding leaves the refill alone.
	checkCredits(t, c, &keyhub.Credits{Remaining: 1000, Refill: refill, RefilledAt: ptr(today)})

	op := creditKey(t, s, "", at(now, 1), &keyhub.Credits{Remaining: 1})
	if n, err := addCredits(t, s, "", op.ID, 2); err != nil || n != 3 {
		t.Errorf("AddCredits on operator key = %d, %v; want 3", n, err)
	}
}

func testAddCreditsBelowZero(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 10})
	_, err := addCredits(t, s, a.ID, k.ID, -11)
	wantErr(t, "AddCredits below zero", err, keyhub.ErrBelowZero)
	if c := storedCredits(t, s, a.ID, k.ID); c.Remaining != 10 {
		t.Errorf("balance after refused add = %d, want 10", c.Remaining)
	}
}

func testAddCreditsTenantScoped(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	k := creditKey(t, s, a.ID, now, &keyhub.Credits{Remaining: 10})
	tests := []struct {
		name, tenantID, id string
	}{
		{"OtherTenant", b.ID, k.ID},
		{"AsOperator", "", k.ID},
		{"Unknown", a.ID, keyhub.NewID(keyhub.PrefixAPIKey, now)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := addCredits(t, s, tc.tenantID, tc.id, 5)
			wantErr(t, "AddCredits", err, keyhub.ErrNotFound)
		})
	}
	if c := storedCredits(t, s, a.ID, k.ID); c.Remaining != 10 {
		t.Errorf("balance = %d, want 10", c.Remaining)
	}
}

func testAddCreditsWithoutCredits(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	_, err := addCredits(t, s, a.ID, k.ID, 5)
	wantErr(t, "AddCredits without credits", err, keyhub.ErrNoCredits)
	if got := getKey(t, s, a.ID, k.ID); got.Credits != nil {
		t.Errorf("Credits = %+v, want nil", *got.Credits)
	}
}
