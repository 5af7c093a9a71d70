package storetest

import (
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var keyLimitCases = []testCase{
	{"RoundTripThroughCreateGetListAndHash", testKeyLimitsRoundTrip},
	{"AbsentLimitsStayNil", testKeyLimitsAbsent},
	{"ZeroBalanceIsNotNoCredits", testKeyZeroBalance},
	{"CreditsWithoutRefill", testKeyCreditsWithoutRefill},
	{"UpdateSetsAndClears", testKeyLimitsUpdate},
}

// withLimits gives k a rate limit, credits with a monthly refill and a
// rotation link to from.
func withLimits(k *keyhub.APIKey, from string, now time.Time) *keyhub.APIKey {
	k.RateLimit = &keyhub.RateLimit{Limit: 100, Duration: keyhub.Duration(90 * time.Second)}
	k.Credits = &keyhub.Credits{
		Remaining:  42,
		Refill:     &keyhub.Refill{Amount: 1000, Interval: keyhub.RefillMonthly},
		RefilledAt: ptr(keyhub.RefillPeriodStart(keyhub.RefillMonthly, now)),
	}
	k.RotatedFrom = from
	return k
}

func testKeyLimitsRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	old := createKey(t, s, newKey(a.ID, now))
	k := createKey(t, s, withLimits(newKey(a.ID, at(now, 1)), old.ID, now))
	checkKey(t, getKey(t, s, a.ID, k.ID), k)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetAPIKeyByHash(ctx, k.Hash)
		if err != nil {
			t.Fatalf("GetAPIKeyByHash: %v", err)
		}
		checkKey(t, got, k)
		list, err := tx.ListAPIKeys(ctx, a.ID, keyhub.APIKeyFilter{Now: now, Page: wholeList})
		if err != nil {
			t.Fatalf("ListAPIKeys: %v", err)
		}
		checkIDs(t, "ListAPIKeys", ids(list, keyID), []string{k.ID, old.ID})
		if len(list) == 2 {
			checkKey(t, list[0], k)
			checkKey(t, list[1], old)
		}
		return nil
	})
}

func testKeyLimitsAbsent(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	got := getKey(t, s, a.ID, k.ID)
	checkKey(t, got, k)
	if got.RateLimit != nil || got.Credits != nil || got.RotatedFrom != "" || got.ReplacedBy != "" {
		t.Errorf("absent limits came back set: %v %v %q %q", got.RateLimit, got.Credits, got.RotatedFrom, got.ReplacedBy)
	}
}

// testKeyZeroBalance checks that an exhausted key keeps its credits: only a
// nil Credits means "no credit limit".
func testKeyZeroBalance(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := newKey(a.ID, now)
	k.Credits = &keyhub.Credits{Remaining: 0}
	createKey(t, s, k)
	got := getKey(t, s, a.ID, k.ID)
	if got.Credits == nil {
		t.Fatalf("Credits = nil for a zero balance; want {Remaining: 0}")
	}
	checkKey(t, got, k)
}

func testKeyCreditsWithoutRefill(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := newKey(a.ID, now)
	k.Credits = &keyhub.Credits{Remaining: 7}
	createKey(t, s, k)
	got := getKey(t, s, a.ID, k.ID)
	checkKey(t, got, k)
	if got.Credits != nil && (got.Credits.Refill != nil || got.Credits.RefilledAt != nil) {
		t.Errorf("Credits = %+v, want no refill", *got.Credits)
	}
}

func testKeyLimitsUpdate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	next := createKey(t, s, newKey(a.ID, now))
	k := createKey(t, s, newKey(a.ID, at(now, 1)))

	withLimits(k, next.ID, now)
	k.Credits.Refill.Interval = keyhub.RefillDaily
	k.Credits.RefilledAt = ptr(keyhub.RefillPeriodStart(keyhub.RefillDaily, now))
	k.ReplacedBy = next.ID
	k.UpdatedAt = at(now, 2)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
	checkKey(t, getKey(t, s, a.ID, k.ID), k)

	// Changing the balance through Update writes it.
	k.Credits.Remaining = 5
	k.RateLimit = &keyhub.RateLimit{Limit: 1, Duration: keyhub.Duration(time.Hour)}
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
	checkKey(t, getKey(t, s, a.ID, k.ID), k)

	// Dropping the refill keeps the credits.
	k.Credits.Refill, k.Credits.RefilledAt = nil, nil
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
	checkKey(t, getKey(t, s, a.ID, k.ID), k)

	k.RateLimit, k.Credits, k.RotatedFrom, k.ReplacedBy = nil, nil, "", ""
	k.UpdatedAt = at(now, 3)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
	checkKey(t, getKey(t, s, a.ID, k.ID), k)
}
