package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var apiKeyListCases = []testCase{
	{"Filters", testKeyListFilters},
	{"NewestFirstPaginated", testKeyListPagination},
	{"TenantIsolation", testKeyListIsolation},
}

// keyFixture is a set of keys of one tenant covering every filter, each
// named by what makes it distinct.
type keyFixture struct {
	tenant *keyhub.Tenant
	role   *keyhub.Role
	now    time.Time
	keys   map[string]*keyhub.APIKey
}

func newKeyFixture(t *testing.T, s keyhub.Store) *keyFixture {
	t.Helper()
	a, b, now := twoTenants(t, s)
	f := &keyFixture{tenant: a, role: createRole(t, s, a.ID, now), now: at(now, 100_000), keys: map[string]*keyhub.APIKey{}}
	specs := []struct {
		label, name, env string
		mutate           func(k *keyhub.APIKey)
	}{
		{"active", "billing-service", "live", nil},
		{"activeFuture", "billing-cron", "live", func(k *keyhub.APIKey) { k.ExpiresAt = ptr(f.now.Add(time.Microsecond)) }},
		{"expiredNow", "reports", "live", func(k *keyhub.APIKey) { k.ExpiresAt = ptr(f.now) }},
		{"expiredPast", "reports-old", "test", func(k *keyhub.APIKey) { k.ExpiresAt = ptr(f.now.Add(-time.Hour)) }},
		{"disabled", "ci", "test", func(k *keyhub.APIKey) { k.Enabled = false }},
		{"disabledExpired", "ci-old", "test", func(k *keyhub.APIKey) {
			k.Enabled = false
			k.ExpiresAt = ptr(f.now.Add(-time.Hour))
		}},
		{"revoked", "bill", "live", func(k *keyhub.APIKey) {
			k.RevokedAt = ptr(now)
			k.Enabled = false
			k.ExpiresAt = ptr(f.now.Add(-time.Hour))
		}},
		{"role", "100%_sure", "live", func(k *keyhub.APIKey) { k.RoleID = f.role.ID }},
		{"literal", "100xxsure", "live", nil},
		{"underscore", "a_b", "staging", nil},
		{"underscoreLookalike", "axb", "staging", nil},
		{"backslash", `x\y`, "staging", nil},
		{"backslashLookalike", "xy", "staging", nil},
		{"upper", "Billing-Admin", "live", nil},
		{"umlautUpper", "Ärger", "staging", nil},
		{"umlautLower", "ärger", "staging", nil},
	}
	for i, sp := range specs {
		k := newKey(a.ID, at(now, i+1))
		k.Name, k.Environment = sp.name, sp.env
		if sp.mutate != nil {
			sp.mutate(k)
		}
		f.keys[sp.label] = createKey(t, s, k)
	}
	// Another tenant's and an operator's key, which no filter on a must show.
	createKey(t, s, newKey(b.ID, at(now, 50)))
	createKey(t, s, newKey("", at(now, 51)))
	return f
}

func (f *keyFixture) ids(labels ...string) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		out = append(out, f.keys[l].ID)
	}
	return newestFirst(out...)
}

func testKeyListFilters(t *testing.T, s keyhub.Store) {
	f := newKeyFixture(t, s)
	all := []string{}
	for l := range f.keys {
		all = append(all, l)
	}
	tests := []struct {
		name   string
		filter keyhub.APIKeyFilter
		want   []string
	}{
		{"NoFilter", keyhub.APIKeyFilter{}, all},
		{"Environment", keyhub.APIKeyFilter{Environment: "test"}, []string{"expiredPast", "disabled", "disabledExpired"}},
		{"EnvironmentUnknown", keyhub.APIKeyFilter{Environment: "nope"}, nil},
		{"StateActive", keyhub.APIKeyFilter{State: keyhub.StateActive},
			[]string{"active", "activeFuture", "role", "literal", "underscore", "underscoreLookalike",
				"backslash", "backslashLookalike", "upper", "umlautUpper", "umlautLower"}},
		{"StateExpiredAtOrBeforeNow", keyhub.APIKeyFilter{State: keyhub.StateExpired}, []string{"expiredNow", "expiredPast"}},
		{"StateDisabledBeatsExpired", keyhub.APIKeyFilter{State: keyhub.StateDisabled}, []string{"disabled", "disabledExpired"}},
		{"StateRevokedBeatsAll", keyhub.APIKeyFilter{State: keyhub.StateRevoked}, []string{"revoked"}},
		{"Role", keyhub.APIKeyFilter{RoleID: f.role.ID}, []string{"role"}},
		{"RoleUnknown", keyhub.APIKeyFilter{RoleID: keyhub.NewID(keyhub.PrefixRole, f.now)}, nil},
		{"NamePrefix", keyhub.APIKeyFilter{NamePrefix: "bill"}, []string{"active", "activeFuture", "revoked"}},
		{"NamePrefixIsCaseSensitive", keyhub.APIKeyFilter{NamePrefix: "Bill"}, []string{"upper"}},
		{"NamePrefixWholeName", keyhub.APIKeyFilter{NamePrefix: "reports"}, []string{"expiredNow", "expiredPast"}},
		{"NamePrefixPercentIsLiteral", keyhub.APIKeyFilter{NamePrefix: "100%"}, []string{"role"}},
		{"NamePrefixPercentUnderscoreLiteral", keyhub.APIKeyFilter{NamePrefix: "100%_s"}, []string{"role"}},
		{"NamePrefixUnderscoreIsLiteral", keyhub.APIKeyFilter{NamePrefix: "a_"}, []string{"underscore"}},
		{"NamePrefixBackslashIsLiteral", keyhub.APIKeyFilter{NamePrefix: `x\`}, []string{"backslash"}},
		// A prefix ending in a multi-byte character, whose range ends
		// before the next character (å); Ä differs in a leading byte.
		{"NamePrefixMultiByte", keyhub.APIKeyFilter{NamePrefix: "är"}, []string{"umlautLower"}},
		{"NamePrefixMultiByteWhole", keyhub.APIKeyFilter{NamePrefix: "ä"}, []string{"umlautLower"}},
		{"NameContains", keyhub.APIKeyFilter{NameContains: "bill"}, []string{"active", "activeFuture", "revoked", "upper"}},
		{"NameContainsIgnoresASCIICase", keyhub.APIKeyFilter{NameContains: "ING-"}, []string{"active", "activeFuture", "upper"}},
		{"NameContainsWholeName", keyhub.APIKeyFilter{NameContains: "reports-old"}, []string{"expiredPast"}},
		{"NameContainsPercentIsLiteral", keyhub.APIKeyFilter{NameContains: "%"}, []string{"role"}},
		{"NameContainsUnderscoreIsLiteral", keyhub.APIKeyFilter{NameContains: "_"}, []string{"role", "underscore"}},
		{"NameContainsPercentUnderscoreLiteral", keyhub.APIKeyFilter{NameContains: "0%_S"}, []string{"role"}},
		{"NameContainsBackslashIsLiteral", keyhub.APIKeyFilter{NameContains: `\`}, []string{"backslash"}},
		// Only ASCII letters fold: Ä and ä stay apart, on both stores,
		// whatever the database's locale.
		{"NameContainsKeepsNonASCIICase", keyhub.APIKeyFilter{NameContains: "ärger"}, []string{"umlautLower"}},
		{"NameContainsKeepsNonASCIICaseUpper", keyhub.APIKeyFilter{NameContains: "ÄRGER"}, []string{"umlautUpper"}},
		{"NameContainsNoMatch", keyhub.APIKeyFilter{NameContains: "nomatch"}, nil},
		{"NotRevoked", keyhub.APIKeyFilter{NotRevoked: true}, without(all, "revoked")},
		{"NotRevokedAndState", keyhub.APIKeyFilter{NotRevoked: true, State: keyhub.StateRevoked}, nil},
		{"NotRevokedAndNameContains", keyhub.APIKeyFilter{NotRevoked: true, NameContains: "BiLL"},
			[]string{"active", "activeFuture", "upper"}},
		{"Combined", keyhub.APIKeyFilter{Environment: "live", State: keyhub.StateActive, NamePrefix: "bill"},
			[]string{"active", "activeFuture"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.filter.Now, tc.filter.Page = f.now, wholeList
			mustView(t, s, func(tx keyhub.Tx) error {
				got, err := tx.ListAPIKeys(ctx, f.tenant.ID, tc.filter)
				if err != nil {
					t.Fatalf("ListAPIKeys: %v", err)
				}
				checkIDs(t, "ListAPIKeys", ids(got, keyID), f.ids(tc.want...))
				return nil
			})
		})
	}
}

func keyID(k *keyhub.APIKey) string { return k.ID }

// without returns labels less drop.
func without(labels []string, drop ...string) []string {
	var out []string
	for _, l := range labels {
		if !slices.Contains(drop, l) {
			out = append(out, l)
		}
	}
	return out
}

func testKeyListPagination(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	var created []string
	for i := range 7 {
		k := newKey(a.ID, at(now, i))
		if i%2 == 1 {
			k.Environment = "test"
		}
		created = append(created, createKey(t, s, k).ID)
	}
	want := newestFirst(created...)
	wantLive := newestFirst(created[0], created[2], created[4], created[6])
	pages := func(f keyhub.APIKeyFilter) (all []string, sizes []int) {
		mustView(t, s, func(tx keyhub.Tx) error {
			for range 10 {
				got, err := tx.ListAPIKeys(ctx, a.ID, f)
				if err != nil {
					t.Fatalf("ListAPIKeys: %v", err)
				}
				if len(got) == 0 {
					return nil
				}
				sizes = append(sizes, len(got))
				all = append(all, ids(got, keyID)...)
				f.After = got[len(got)-1].ID
			}
			return nil
		})
		return all, sizes
	}
	tests := []struct {
		name      string
		filter    keyhub.APIKeyFilter
		want      []string
		wantSizes []int
	}{
		{"LimitAboveCount", keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 50}}, want, []int{7}},
		{"LimitExactlyCount", keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 7}}, want, []int{7}},
		{"LimitThree", keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 3}}, want, []int{3, 3, 1}},
		{"LimitOne", keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 1}}, want, []int{1, 1, 1, 1, 1, 1, 1}},
		{"AfterMidList", keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 10, After: want[2]}}, want[3:], []int{4}},
		{"WithFilter", keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 3}, Environment: "live"}, wantLive, []int{3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.filter.Now = now
			got, sizes := pages(tc.filter)
			checkIDs(t, "pages", got, tc.want)
			if len(sizes) != len(tc.wantSizes) {
				t.Errorf("page sizes = %v, want %v", sizes, tc.wantSizes)
				return
			}
			for i := range sizes {
				if sizes[i] != tc.wantSizes[i] {
					t.Errorf("page sizes = %v, want %v", sizes, tc.wantSizes)
					break
				}
			}
		})
	}
}

func testKeyListIsolation(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	ka := createKey(t, s, newKey(a.ID, now))
	kb := createKey(t, s, newKey(b.ID, at(now, 1)))
	op := createKey(t, s, newKey("", at(now, 2)))
	tests := []struct {
		name     string
		tenantID string
		want     []string
	}{
		{"TenantA", a.ID, []string{ka.ID}},
		{"TenantB", b.ID, []string{kb.ID}},
		{"OperatorKeysOnly", "", []string{op.ID}},
		{"UnknownTenant", keyhub.NewID(keyhub.PrefixTenant, now), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustView(t, s, func(tx keyhub.Tx) error {
				got, err := tx.ListAPIKeys(ctx, tc.tenantID, keyhub.APIKeyFilter{Now: now, Page: wholeList})
				if err != nil {
					t.Fatalf("ListAPIKeys: %v", err)
				}
				checkIDs(t, "ListAPIKeys", ids(got, keyID), tc.want)
				for _, k := range got {
					if k.Scopes == nil || k.IPs == nil || len(k.Meta) == 0 {
						t.Errorf("listed key %s has nil Scopes, IPs or Meta", k.ID)
					}
				}
				return nil
			})
		})
	}
}
