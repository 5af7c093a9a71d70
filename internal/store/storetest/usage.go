package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var touchCases = []testCase{
	{"SetsAndMovesOnlyForward", testTouchForward},
	{"ManyKeysAtOnce", testTouchMany},
	{"UnknownKeysIgnored", testTouchUnknown},
}

var usageCases = []testCase{
	{"AddAccumulates", testUsageAccumulates},
	{"AddMergesDuplicatesInOneBatch", testUsageMergesDuplicates},
	{"ListWindowIsHalfOpen", testUsageWindow},
	{"ListOnlyTheKey", testUsageOnlyKey},
	{"ListTenantScoped", testUsageTenantScoped},
	{"AddEmptyIsNoop", testUsageEmpty},
}

func touch(t *testing.T, s keyhub.Store, used map[string]time.Time) {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.TouchAPIKeys(ctx, used) })
}

func testTouchForward(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	steps := []struct {
		name      string
		touch     time.Time
		wantAfter time.Time
	}{
		{"FirstUseSets", at(now, 1000), at(now, 1000)},
		{"LaterMovesForward", at(now, 2000), at(now, 2000)},
		{"EarlierIgnored", at(now, 1500), at(now, 2000)},
		{"EqualKeeps", at(now, 2000), at(now, 2000)},
	}
	for _, st := range steps {
		touch(t, s, map[string]time.Time{k.ID: st.touch})
		got := getKey(t, s, a.ID, k.ID)
		checkTimePtr(t, st.name+": LastUsedAt", got.LastUsedAt, &st.wantAfter)
		// Touching changes nothing else, not even updated_at.
		k.LastUsedAt = &st.wantAfter
		checkKey(t, got, k)
	}
}

func testTouchMany(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	keys := []*keyhub.APIKey{
		createKey(t, s, newKey(a.ID, now)),
		createKey(t, s, newKey(b.ID, at(now, 1))),
		createKey(t, s, newKey("", at(now, 2))),
	}
	used := map[string]time.Time{}
	for i, k := range keys {
		used[k.ID] = at(now, 1000*(i+1))
	}
	touch(t, s, used)
	for _, k := range keys {
		want := used[k.ID]
		checkTimePtr(t, "LastUsedAt of "+k.ID, getKey(t, s, k.TenantID, k.ID).LastUsedAt, &want)
	}
	touch(t, s, map[string]time.Time{})
}

// testTouchUnknown: usage is written in batches after the fact, so a key
// the store does not know must not fail the batch.
func testTouchUnknown(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	touch(t, s, map[string]time.Time{k.ID: at(now, 5), keyhub.NewID(keyhub.PrefixAPIKey, now): at(now, 5)})
	want := at(now, 5)
	checkTimePtr(t, "LastUsedAt", getKey(t, s, a.ID, k.ID).LastUsedAt, &want)
}

// hourOf returns the UTC hour i hours after now's.
func hourOf(now time.Time, i int) time.Time {
	return now.UTC().Truncate(time.Hour).Add(time.Duration(i) * time.Hour)
}

func addUsage(t *testing.T, s keyhub.Store, counts ...keyhub.UsageCount) {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.AddUsage(ctx, counts) })
}

func listUsage(t *testing.T, s keyhub.Store, tenantID, id string, from, to time.Time) ([]keyhub.UsageCount, error) {
	t.Helper()
	var out []keyhub.UsageCount
	err := s.View(ctx, func(tx keyhub.Tx) error {
		var err error
		out, err = tx.ListUsage(ctx, tenantID, id, from, to)
		return err
	})
	return out, err
}

// usageString renders counts as sorted "hour code count" lines, so that
// comparisons depend neither on order nor on time zone.
func usageString(base time.Time, counts []keyhub.UsageCount) string {
	lines := make([]string, 0, len(counts))
	for _, c := range counts {
		lines = append(lines, fmt.Sprintf("%s+%dh %s %d", c.KeyID, int(c.Hour.Sub(base)/time.Hour), c.Code, c.Count))
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

func checkUsage(t *testing.T, base time.Time, got []keyhub.UsageCount, want ...keyhub.UsageCount) {
	t.Helper()
	if got == nil {
		t.Errorf("ListUsage = nil, want a non-nil slice")
	}
	if g, w := usageString(base, got), usageString(base, want); g != w {
		t.Errorf("ListUsage = [%s], want [%s]", g, w)
	}
	for _, c := range got {
		if c.Hour.Location() != time.UTC {
			t.Errorf("Hour %v is not UTC", c.Hour)
		}
	}
}

func testUsageAccumulates(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	h := hourOf(now, 0)
	uc := func(code string, n int64) keyhub.UsageCount {
		return keyhub.UsageCount{KeyID: k.ID, TenantID: a.ID, Hour: h, Code: code, Count: n}
	}
	addUsage(t, s, uc("VALID", 3), uc("USAGE_EXCEEDED", 1))
	addUsage(t, s, uc("VALID", 2))
	addUsage(t, s, uc("VALID", 4), uc("RATE_LIMITED", 7))
	got, err := listUsage(t, s, a.ID, k.ID, h, h.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListUsage: %v", err)
	}
	checkUsage(t, h, got, uc("VALID", 9), uc("USAGE_EXCEEDED", 1), uc("RATE_LIMITED", 7))
	for _, c := range got {
		if c.TenantID != a.ID {
			t.Errorf("TenantID = %q, want %q", c.TenantID, a.ID)
		}
	}
}

// testUsageMergesDuplicates: one batch may count the same key, hour and
// code more than once (PostgreSQL's upsert may not touch a row twice in one
// statement); the counts add up.
func testUsageMergesDuplicates(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	h := hourOf(now, 0)
	uc := func(hour time.Time, code string, n int64) keyhub.UsageCount {
		return keyhub.UsageCount{KeyID: k.ID, TenantID: a.ID, Hour: hour, Code: code, Count: n}
	}
	addUsage(t, s, uc(h, "VALID", 2), uc(h, "REVOKED", 1), uc(h, "VALID", 3), uc(h.Add(time.Hour), "VALID", 4), uc(h, "VALID", 5))
	got, err := listUsage(t, s, a.ID, k.ID, h, h.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("ListUsage: %v", err)
	}
	checkUsage(t, h, got, uc(h, "VALID", 10), uc(h, "REVOKED", 1), uc(h.Add(time.Hour), "VALID", 4))
}

func testUsageWindow(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	base := hourOf(now, -10)
	var all []keyhub.UsageCount
	for i := range 4 {
		all = append(all, keyhub.UsageCount{KeyID: k.ID, TenantID: a.ID, Hour: base.Add(time.Duration(i) * time.Hour), Code: "VALID", Count: int64(i + 1)})
	}
	addUsage(t, s, all...)
	tests := []struct {
		name     string
		from, to time.Time
		want     []keyhub.UsageCount
	}{
		{"Everything", base, base.Add(4 * time.Hour), all},
		{"FromInclusiveToExclusive", base.Add(time.Hour), base.Add(3 * time.Hour), all[1:3]},
		{"MidHourBounds", base.Add(30 * time.Minute), base.Add(150 * time.Minute), all[1:3]},
		{"Before", base.Add(-5 * time.Hour), base, nil},
		{"After", base.Add(4 * time.Hour), base.Add(9 * time.Hour), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := listUsage(t, s, a.ID, k.ID, tc.from, tc.to)
			if err != nil {
				t.Fatalf("ListUsage: %v", err)
			}
			checkUsage(t, base, got, tc.want...)
		})
	}
}

func testUsageOnlyKey(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k1 := createKey(t, s, newKey(a.ID, now))
	k2 := createKey(t, s, newKey(a.ID, at(now, 1)))
	h := hourOf(now, 0)
	u1 := keyhub.UsageCount{KeyID: k1.ID, TenantID: a.ID, Hour: h, Code: "VALID", Count: 1}
	u2 := keyhub.UsageCount{KeyID: k2.ID, TenantID: a.ID, Hour: h, Code: "VALID", Count: 2}
	addUsage(t, s, u1, u2)
	got, err := listUsage(t, s, a.ID, k1.ID, h, h.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListUsage: %v", err)
	}
	checkUsage(t, h, got, u1)
	// A key without usage lists nothing, without error.
	k3 := createKey(t, s, newKey(a.ID, at(now, 2)))
	got, err = listUsage(t, s, a.ID, k3.ID, h, h.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListUsage of unused key: %v", err)
	}
	checkUsage(t, h, got)
}

// testUsageTenantScoped: another tenant's key answers KindNotFound, exactly
// as an unknown key does.
func testUsageTenantScoped(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	op := createKey(t, s, newKey("", at(now, 1)))
	h := hourOf(now, 0)
	uk := keyhub.UsageCount{KeyID: k.ID, TenantID: a.ID, Hour: h, Code: "VALID", Count: 1}
	uo := keyhub.UsageCount{KeyID: op.ID, TenantID: "", Hour: h, Code: "VALID", Count: 2}
	addUsage(t, s, uk, uo)
	tests := []struct {
		name, tenantID, id string
		want               []keyhub.UsageCount // nil: not found
	}{
		{"Own", a.ID, k.ID, []keyhub.UsageCount{uk}},
		{"Operator", "", op.ID, []keyhub.UsageCount{uo}},
		{"OtherTenant", b.ID, k.ID, nil},
		{"TenantKeyAsOperator", "", k.ID, nil},
		{"OperatorKeyAsTenant", a.ID, op.ID, nil},
		{"Unknown", a.ID, keyhub.NewID(keyhub.PrefixAPIKey, now), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := listUsage(t, s, tc.tenantID, tc.id, h, h.Add(time.Hour))
			if tc.want == nil {
				wantErr(t, "ListUsage", err, keyhub.ErrNotFound)
				return
			}
			if err != nil {
				t.Fatalf("ListUsage: %v", err)
			}
			checkUsage(t, h, got, tc.want...)
		})
	}
}

func testUsageEmpty(t *testing.T, s keyhub.Store) {
	addUsage(t, s)
	addUsage(t, s, []keyhub.UsageCount{}...)
}
