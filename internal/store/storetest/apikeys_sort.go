package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

// The sort cases compare the stores' order with sortKeys, an order written
// here from the contract of keyhub.APIKeyFilter.Sort: names ignore ASCII
// case only and compare as bytes; no role and no revocation come before any
// value ascending and after every value descending; id ascending breaks
// ties.

var apiKeySortCases = []testCase{
	{"Orders", testKeySortOrders},
	{"OffsetPages", testKeySortOffset},
	{"WithFilters", testKeySortFilters},
}

// sortKeys sorts keys as a list with Sort order must come back.
func sortKeys(keys []*keyhub.APIKey, order []keyhub.KeySort) {
	slices.SortFunc(keys, func(a, b *keyhub.APIKey) int {
		for _, s := range order {
			c := compareField(a, b, s.Field)
			if s.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// compareField compares one field ascending, absent before present.
func compareField(a, b *keyhub.APIKey, f keyhub.KeySortField) int {
	switch f {
	case keyhub.SortByID:
		return strings.Compare(a.ID, b.ID)
	case keyhub.SortByName:
		return strings.Compare(asciiLower(a.Name), asciiLower(b.Name))
	case keyhub.SortByRole:
		return cmp.Or(cmp.Compare(btoi(a.RoleID != ""), btoi(b.RoleID != "")), strings.Compare(a.RoleID, b.RoleID))
	case keyhub.SortByCreated:
		return a.CreatedAt.Compare(b.CreatedAt)
	case keyhub.SortByUpdated:
		return a.UpdatedAt.Compare(b.UpdatedAt)
	case keyhub.SortByRevoked:
		if a.RevokedAt == nil || b.RevokedAt == nil {
			return cmp.Compare(btoi(a.RevokedAt != nil), btoi(b.RevokedAt != nil))
		}
		return a.RevokedAt.Compare(*b.RevokedAt)
	}
	panic("storetest: no comparison for sort field " + string(f))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// asciiLower lowers A to Z and nothing else, as both stores must.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// sortFixture makes keys whose fields disagree with their id order and
// with each other, with ties on every field.
func sortFixture(t *testing.T, s keyhub.Store) (tenantID string, keys []*keyhub.APIKey) {
	t.Helper()
	a, b, now := twoTenants(t, s)
	r1, r2 := createRole(t, s, a.ID, now), createRole(t, s, a.ID, at(now, 1))
	sec := func(i int) time.Time { return now.Add(time.Duration(i) * time.Second) }
	specs := []struct {
		name    string
		role    string
		created int
		updated int
		revoked int // seconds; 0 means not revoked
	}{
		{"beta", r2.ID, 5, 9, 0},
		{"Alpha", "", 3, 9, 4},
		{"alpha", r1.ID, 3, 2, 0},
		{"BETA", r1.ID, 8, 1, 4},
		{"Ärger", "", 1, 5, 2},
		{"ärger", r2.ID, 9, 5, 0},
		{"_under", "", 7, 3, 7},
		{"100%", r1.ID, 2, 8, 0},
		{"zeta", "", 6, 4, 0},
		{"alpha", r2.ID, 4, 6, 2},
		{"Zeta", r1.ID, 6, 7, 9},
	}
	for i, sp := range specs {
		k := newKey(a.ID, at(now, 10+i))
		k.Name, k.RoleID = sp.name, sp.role
		k.CreatedAt, k.UpdatedAt = sec(sp.created), sec(sp.updated)
		if sp.revoked != 0 {
			k.RevokedAt, k.Enabled = ptr(sec(sp.revoked)), false
		}
		keys = append(keys, createKey(t, s, k))
	}
	// Keys of another tenant and of the operator, which no list of a shows.
	createKey(t, s, newKey(b.ID, at(now, 50)))
	createKey(t, s, newKey("", at(now, 51)))
	return a.ID, keys
}

// sortOrders are the orders every store must give alike.
var sortOrders = [][]keyhub.KeySort{
	{{Field: keyhub.SortByID}},
	{{Field: keyhub.SortByID, Desc: true}},
	{{Field: keyhub.SortByName}},
	{{Field: keyhub.SortByName, Desc: true}},
	{{Field: keyhub.SortByRole}},
	{{Field: keyhub.SortByRole, Desc: true}},
	{{Field: keyhub.SortByCreated}},
	{{Field: keyhub.SortByCreated, Desc: true}},
	{{Field: keyhub.SortByUpdated}},
	{{Field: keyhub.SortByUpdated, Desc: true}},
	{{Field: keyhub.SortByRevoked}},
	{{Field: keyhub.SortByRevoked, Desc: true}},
	{{Field: keyhub.SortByRole}, {Field: keyhub.SortByName, Desc: true}},
	{{Field: keyhub.SortByRevoked, Desc: true}, {Field: keyhub.SortByCreated}},
	{{Field: keyhub.SortByName}, {Field: keyhub.SortByUpdated, Desc: true}},
	{{Field: keyhub.SortByRole, Desc: true}, {Field: keyhub.SortByRevoked}, {Field: keyhub.SortByName}},
}

func orderName(order []keyhub.KeySort) string {
	parts := make([]string, 0, len(order))
	for _, s := range order {
		p := string(s.Field)
		if s.Desc {
			p = "-" + p
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

func listSorted(t *testing.T, s keyhub.Store, tenantID string, f keyhub.APIKeyFilter) []string {
	t.Helper()
	var out []string
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListAPIKeys(ctx, tenantID, f)
		if err != nil {
			t.Fatalf("ListAPIKeys %s: %v", orderName(f.Sort), err)
		}
		out = ids(got, keyID)
		return nil
	})
	return out
}

func testKeySortOrders(t *testing.T, s keyhub.Store) {
	tenantID, keys := sortFixture(t, s)
	for _, order := range sortOrders {
		t.Run(orderName(order), func(t *testing.T) {
			want := slices.Clone(keys)
			sortKeys(want, order)
			got := listSorted(t, s, tenantID, keyhub.APIKeyFilter{Page: wholeList, Sort: order})
			checkIDs(t, "sorted", got, ids(want, keyID))
		})
	}
}

// testKeySortOffset: pages of a sorted list taken by Offset add up to the
// whole list, with no key skipped or repeated across ties.
func testKeySortOffset(t *testing.T, s keyhub.Store) {
	tenantID, keys := sortFixture(t, s)
	for _, order := range sortOrders {
		t.Run(orderName(order), func(t *testing.T) {
			want := slices.Clone(keys)
			sortKeys(want, order)
			var got []string
			for offset := 0; offset < len(keys)+3; offset += 3 {
				page := listSorted(t, s, tenantID, keyhub.APIKeyFilter{Page: keyhub.Page{Limit: 3, Offset: offset}, Sort: order})
				if len(page) > 3 {
					t.Fatalf("page of %d with Limit 3", len(page))
				}
				got = append(got, page...)
			}
			checkIDs(t, "pages", got, ids(want, keyID))
		})
	}
}

func testKeySortFilters(t *testing.T, s keyhub.Store) {
	tenantID, keys := sortFixture(t, s)
	byName := []keyhub.KeySort{{Field: keyhub.SortByName}}
	tests := []struct {
		name   string
		filter keyhub.APIKeyFilter
		keep   func(k *keyhub.APIKey) bool
	}{
		{"NotRevoked", keyhub.APIKeyFilter{NotRevoked: true}, func(k *keyhub.APIKey) bool { return k.RevokedAt == nil }},
		{"NameContains", keyhub.APIKeyFilter{NameContains: "ALPH"},
			func(k *keyhub.APIKey) bool { return strings.Contains(asciiLower(k.Name), "alph") }},
		{"NotRevokedNameContains", keyhub.APIKeyFilter{NotRevoked: true, NameContains: "a"},
			func(k *keyhub.APIKey) bool { return k.RevokedAt == nil && strings.Contains(asciiLower(k.Name), "a") }},
		{"Role", keyhub.APIKeyFilter{RoleID: keys[0].RoleID}, func(k *keyhub.APIKey) bool { return k.RoleID == keys[0].RoleID }},
	}
	for _, tc := range tests {
		for _, order := range [][]keyhub.KeySort{byName, {{Field: keyhub.SortByRevoked, Desc: true}}} {
			t.Run(fmt.Sprintf("%s/%s", tc.name, orderName(order)), func(t *testing.T) {
				var want []*keyhub.APIKey
				for _, k := range keys {
					if tc.keep(k) {
						want = append(want, k)
					}
				}
				sortKeys(want, order)
				tc.filter.Sort, tc.filter.Page = order, wholeList
				checkIDs(t, "filtered and sorted", listSorted(t, s, tenantID, tc.filter), ids(want, keyID))
			})
		}
	}
}
