package storetest

import (
	"fmt"
	"testing"

	"github.com/keyhub/keyhub"
)

// The paging cases hold every paged list to Page: Limit is exact and never
// capped (the service asks for one more than a page shows, so a cap at 200
// broke paging at the maximum), Offset skips, After continues after an id,
// and a Limit below 1 or a negative Offset is a bug answered with a plain
// error.

var pagingCases = []testCase{
	{"Tenants", pagingCase(true, tenantLister)},
	{"Roles", pagingCase(true, roleLister)},
	{"APIKeys", pagingCase(true, keyLister)},
	{"Clients", pagingCase(true, clientLister)},
	{"AuditEvents", pagingCase(true, eventLister)},
	{"APIKeysSorted", pagingCase(false, sortedKeyLister)},
	{"BugsAnsweredPlainly", testPagingBugs},
}

// pagedObjects is how many objects each paging case lists: more than the
// service's largest page, 200, plus the one it asks for on top.
const pagedObjects = 205

// listPage lists one page of the objects a lister made, as ids.
type listPage func(tx keyhub.Tx, p keyhub.Page) ([]string, error)

// lister saves n objects of one kind, among others that the list must not
// show, and returns their ids in list order and how to list them.
type lister func(t *testing.T, s keyhub.Store, n int) (want []string, list listPage)

type pageTest struct {
	name string
	page keyhub.Page
	want []string
}

// pagingCase checks a lister; keyset says its list pages by After (it has
// no Sort).
func pagingCase(keyset bool, l lister) func(t *testing.T, s keyhub.Store) {
	return func(t *testing.T, s keyhub.Store) {
		want, list := l(t, s, pagedObjects)
		if len(want) != pagedObjects {
			t.Fatalf("created %d objects, want %d", len(want), pagedObjects)
		}
		tests := []pageTest{
			{"LimitOne", keyhub.Page{Limit: 1}, want[:1]},
			{"LimitAboveTheLargestPage", keyhub.Page{Limit: 201}, want[:201]},
			{"LimitAllButOne", keyhub.Page{Limit: pagedObjects - 1}, want[:pagedObjects-1]},
			{"LimitExactlyAll", keyhub.Page{Limit: pagedObjects}, want},
			{"LimitAboveAll", keyhub.Page{Limit: 1000}, want},
			{"Offset", keyhub.Page{Limit: 10, Offset: 200}, want[200:]},
			{"OffsetMidList", keyhub.Page{Limit: 3, Offset: 7}, want[7:10]},
			{"OffsetAtEnd", keyhub.Page{Limit: 10, Offset: pagedObjects}, nil},
		}
		if keyset {
			tests = append(tests,
				pageTest{"After", keyhub.Page{Limit: 201, After: want[2]}, want[3:204]},
				pageTest{"AfterAndOffset", keyhub.Page{Limit: 2, After: want[2], Offset: 1}, want[4:6]},
				pageTest{"AfterLast", keyhub.Page{Limit: 5, After: want[pagedObjects-1]}, nil},
			)
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				mustView(t, s, func(tx keyhub.Tx) error {
					got, err := list(tx, tc.page)
					if err != nil {
						t.Fatalf("list %+v: %v", tc.page, err)
					}
					checkIDs(t, fmt.Sprintf("list %+v", tc.page), got, tc.want)
					return nil
				})
			})
		}
		// Walking the list page by page visits every object once.
		var walked []string
		mustView(t, s, func(tx keyhub.Tx) error {
			p := keyhub.Page{Limit: 51}
			for range pagedObjects {
				got, err := list(tx, p)
				if err != nil {
					t.Fatalf("list %+v: %v", p, err)
				}
				walked = append(walked, got...)
				if len(got) < p.Limit {
					return nil
				}
				if keyset {
					p.After = got[len(got)-1]
				} else {
					p.Offset += len(got)
				}
			}
			return nil
		})
		checkIDs(t, "pages walked", walked, want)
	}
}

// createMany saves n objects made by build(i) with save in one Update and
// returns their ids newest first, the order of the unsorted lists.
func createMany[T any](t *testing.T, s keyhub.Store, n int, build func(i int) (T, string), save func(tx keyhub.Tx, v T) error) []string {
	t.Helper()
	created := make([]string, n)
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		for i := range n {
			v, id := build(i)
			if err := save(tx, v); err != nil {
				return err
			}
			created[i] = id
		}
		return nil
	})
	return newestFirst(created...)
}

func tenantLister(t *testing.T, s keyhub.Store, n int) ([]string, listPage) {
	now := baseTime()
	want := createMany(t, s, n, func(i int) (*keyhub.Tenant, string) {
		tn := newTenant(at(now, i))
		return tn, tn.ID
	}, func(tx keyhub.Tx, tn *keyhub.Tenant) error { return tx.CreateTenant(ctx, tn) })
	return want, func(tx keyhub.Tx, p keyhub.Page) ([]string, error) {
		l, err := tx.ListTenants(ctx, p)
		return ids(l, func(tn *keyhub.Tenant) string { return tn.ID }), err
	}
}

func roleLister(t *testing.T, s keyhub.Store, n int) ([]string, listPage) {
	a, b, now := twoTenants(t, s)
	createRole(t, s, b.ID, now)
	want := createMany(t, s, n, func(i int) (*keyhub.Role, string) {
		r := newRole(a.ID, at(now, i+1))
		return r, r.ID
	}, func(tx keyhub.Tx, r *keyhub.Role) error { return tx.CreateRole(ctx, r) })
	return want, func(tx keyhub.Tx, p keyhub.Page) ([]string, error) {
		l, err := tx.ListRoles(ctx, a.ID, p)
		return ids(l, func(r *keyhub.Role) string { return r.ID }), err
	}
}

// pagedKeys saves n keys of a new tenant, with a key of another tenant and
// an operator key beside them, and returns the tenant's id and the keys.
func pagedKeys(t *testing.T, s keyhub.Store, n int) (string, []*keyhub.APIKey) {
	a, b, now := twoTenants(t, s)
	createKey(t, s, newKey(b.ID, now))
	createKey(t, s, newKey("", at(now, 1)))
	keys := make([]*keyhub.APIKey, n)
	createMany(t, s, n, func(i int) (*keyhub.APIKey, string) {
		k := newKey(a.ID, at(now, i+2))
		// Names repeat, so that sorting by name leans on the id tie-break.
		k.Name = fmt.Sprintf("key %02d", i%7)
		keys[i] = k
		return k, k.ID
	}, func(tx keyhub.Tx, k *keyhub.APIKey) error { return tx.CreateAPIKey(ctx, k) })
	return a.ID, keys
}

func keyLister(t *testing.T, s keyhub.Store, n int) ([]string, listPage) {
	tenantID, keys := pagedKeys(t, s, n)
	return newestFirst(ids(keys, keyID)...), func(tx keyhub.Tx, p keyhub.Page) ([]string, error) {
		l, err := tx.ListAPIKeys(ctx, tenantID, keyhub.APIKeyFilter{Page: p})
		return ids(l, keyID), err
	}
}

// sortedKeyLister lists keys by name descending, which pages by Offset.
func sortedKeyLister(t *testing.T, s keyhub.Store, n int) ([]string, listPage) {
	tenantID, keys := pagedKeys(t, s, n)
	order := []keyhub.KeySort{{Field: keyhub.SortByName, Desc: true}}
	sortKeys(keys, order)
	return ids(keys, keyID), func(tx keyhub.Tx, p keyhub.Page) ([]string, error) {
		l, err := tx.ListAPIKeys(ctx, tenantID, keyhub.APIKeyFilter{Page: p, Sort: order})
		return ids(l, keyID), err
	}
}

func clientLister(t *testing.T, s keyhub.Store, n int) ([]string, listPage) {
	a, b, now := twoTenants(t, s)
	createClient(t, s, newClient(b.ID, now))
	createClient(t, s, newClient("", at(now, 1)))
	want := createMany(t, s, n, func(i int) (*keyhub.Client, string) {
		c := newClient(a.ID, at(now, i+2))
		return c, c.ID
	}, func(tx keyhub.Tx, c *keyhub.Client) error { return tx.CreateClient(ctx, c) })
	return want, func(tx keyhub.Tx, p keyhub.Page) ([]string, error) {
		l, err := tx.ListClients(ctx, a.ID, p)
		return ids(l, clientID), err
	}
}

func eventLister(t *testing.T, s keyhub.Store, n int) ([]string, listPage) {
	a, b, now := twoTenants(t, s)
	appendEvents(t, s, newEvent(b.ID, now, "api_key.created", "key_b"))
	want := createMany(t, s, n, func(i int) (*keyhub.AuditEvent, string) {
		e := newEvent(a.ID, at(now, i+1), "api_key.created", "key_a")
		return e, e.ID
	}, func(tx keyhub.Tx, e *keyhub.AuditEvent) error { return tx.AppendAuditEvent(ctx, e) })
	return want, func(tx keyhub.Tx, p keyhub.Page) ([]string, error) {
		l, err := tx.ListAuditEvents(ctx, a.ID, keyhub.AuditFilter{Page: p})
		return eventIDs(l), err
	}
}

// testPagingBugs: a page a caller could not mean is a bug, answered with a
// plain error rather than a default or a store error.
func testPagingBugs(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	createKey(t, s, newKey(a.ID, now))
	byName := []keyhub.KeySort{{Field: keyhub.SortByName}}
	lists := []struct {
		name string
		list func(tx keyhub.Tx, p keyhub.Page) error
	}{
		{"ListTenants", func(tx keyhub.Tx, p keyhub.Page) error { return errOf(tx.ListTenants(ctx, p)) }},
		{"ListRoles", func(tx keyhub.Tx, p keyhub.Page) error { return errOf(tx.ListRoles(ctx, a.ID, p)) }},
		{"ListAPIKeys", func(tx keyhub.Tx, p keyhub.Page) error {
			return errOf(tx.ListAPIKeys(ctx, a.ID, keyhub.APIKeyFilter{Page: p}))
		}},
		{"ListAPIKeysSorted", func(tx keyhub.Tx, p keyhub.Page) error {
			return errOf(tx.ListAPIKeys(ctx, a.ID, keyhub.APIKeyFilter{Page: p, Sort: byName}))
		}},
		{"ListClients", func(tx keyhub.Tx, p keyhub.Page) error { return errOf(tx.ListClients(ctx, a.ID, p)) }},
		{"ListAuditEvents", func(tx keyhub.Tx, p keyhub.Page) error {
			return errOf(tx.ListAuditEvents(ctx, a.ID, keyhub.AuditFilter{Page: p}))
		}},
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		for _, l := range lists {
			for _, p := range []keyhub.Page{{}, {Limit: -1}, {Limit: 10, Offset: -1}} {
				wantBug(t, fmt.Sprintf("%s(%+v)", l.name, p), l.list(tx, p))
			}
		}
		filters := []struct {
			name string
			f    keyhub.APIKeyFilter
		}{
			{"UnknownSortField", keyhub.APIKeyFilter{Sort: []keyhub.KeySort{{Field: "hash"}}}},
			{"AfterWithSort", keyhub.APIKeyFilter{Sort: byName, Page: keyhub.Page{After: keyhub.NewID(keyhub.PrefixAPIKey, now)}}},
			{"UnknownState", keyhub.APIKeyFilter{State: "lost"}},
		}
		for _, tc := range filters {
			tc.f.Limit = 10
			wantBug(t, tc.name, errOf(tx.ListAPIKeys(ctx, a.ID, tc.f)))
		}
		return nil
	})
	// A negative spend would add credits; it is a bug too.
	k := newKey(a.ID, at(now, 1))
	k.Credits = &keyhub.Credits{Remaining: 5}
	createKey(t, s, k)
	_, _, err := spend(t, s, k.ID, -1, now)
	wantBug(t, "SpendCredits(-1)", err)
	if c := storedCredits(t, s, a.ID, k.ID); c.Remaining != 5 {
		t.Errorf("balance after a negative spend = %d, want 5", c.Remaining)
	}
}
