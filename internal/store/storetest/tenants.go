package storetest

import (
	"testing"

	"github.com/keyhub/keyhub"
)

var tenantCases = []testCase{
	{"CreateGetRoundTrips", testTenantRoundTrip},
	{"GetUnknownNotFound", testTenantGetUnknown},
	{"GetSharedInUpdate", testTenantGetShared},
	{"CreateDuplicateIDConflict", testTenantDuplicate},
	{"ListNewestFirstPaginated", testTenantList},
	{"UpdateWritesNamePrefixesUpdatedAt", testTenantUpdate},
	{"UpdateUnknownNotFound", testTenantUpdateUnknown},
}

func testTenantRoundTrip(t *testing.T, s keyhub.Store) {
	tn := newTenant(baseTime())
	tn.KeyPrefixes = map[string]string{"live": "yat_live", "test": "yat_test", "staging": "yat_stg"}
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateTenant(ctx, tn) })
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		checkTenant(t, got, tn)
		return nil
	})
}

func testTenantGetUnknown(t *testing.T, s keyhub.Store) {
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetTenant(ctx, keyhub.NewID(keyhub.PrefixTenant, baseTime()))
		wantErr(t, "GetTenant", err, keyhub.ErrNotFound)
		return nil
	})
}

func testTenantGetShared(t *testing.T, s keyhub.Store) {
	tn := createTenant(t, s, baseTime())
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetTenantShared(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenantShared: %v", err)
		}
		checkTenant(t, got, tn)
		_, err = tx.GetTenantShared(ctx, keyhub.NewID(keyhub.PrefixTenant, baseTime()))
		wantErr(t, "GetTenantShared unknown", err, keyhub.ErrNotFound)
		return nil
	})
}

func testTenantDuplicate(t *testing.T, s keyhub.Store) {
	tn := createTenant(t, s, baseTime())
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CreateTenant(ctx, tn) })
	wantErr(t, "CreateTenant twice", err, keyhub.ErrExists)
}

func testTenantList(t *testing.T, s keyhub.Store) {
	now := baseTime()
	var all []string
	for i := range 5 {
		all = append(all, createTenant(t, s, at(now, i)).ID)
	}
	want := newestFirst(all...)
	id := func(tn *keyhub.Tenant) string { return tn.ID }
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListTenants(ctx, wholeList)
		if err != nil {
			t.Fatalf("ListTenants: %v", err)
		}
		checkIDs(t, "ListTenants whole list", ids(got, id), want)
		var pages []string
		after := ""
		for range 4 {
			got, err := tx.ListTenants(ctx, keyhub.Page{Limit: 2, After: after})
			if err != nil {
				t.Fatalf("ListTenants: %v", err)
			}
			if len(got) > 2 {
				t.Fatalf("ListTenants Limit 2 returned %d", len(got))
			}
			if len(got) == 0 {
				break
			}
			pages = append(pages, ids(got, id)...)
			after = got[len(got)-1].ID
		}
		checkIDs(t, "ListTenants pages", pages, want)
		return nil
	})
}

func testTenantUpdate(t *testing.T, s keyhub.Store) {
	now := baseTime()
	tn := createTenant(t, s, now)
	tn.Name = "renamed"
	tn.KeyPrefixes = map[string]string{"live": "yat_live"}
	tn.LeakPolicy = keyhub.LeakFlag
	tn.UpdatedAt = at(now, 1500)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateTenant(ctx, tn) })
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetTenant(ctx, tn.ID)
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
		checkTenant(t, got, tn)
		return nil
	})
}

func testTenantUpdateUnknown(t *testing.T, s keyhub.Store) {
	tn := newTenant(baseTime())
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdateTenant(ctx, tn) })
	wantErr(t, "UpdateTenant", err, keyhub.ErrNotFound)
}
