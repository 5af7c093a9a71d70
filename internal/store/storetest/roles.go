package storetest

import (
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var roleCases = []testCase{
	{"CreateGetRoundTrips", testRoleRoundTrip},
	{"NilScopesReturnedEmpty", testRoleNilScopes},
	{"GetOtherTenantNotFound", testRoleGetOtherTenant},
	{"ListTenantScopedNewestFirstPaginated", testRoleList},
	{"UpdateWritesMutableFields", testRoleUpdate},
	{"UpdateOtherTenantNotFound", testRoleUpdateOtherTenant},
	{"DeleteRemoves", testRoleDelete},
	{"DeleteOtherTenantNotFoundAndKept", testRoleDeleteOtherTenant},
	{"DeleteReferencedConflict", testRoleDeleteReferenced},
	{"CountMembersIncludesRevoked", testRoleCountMembers},
}

// twoTenants creates two tenants, so tests can check isolation.
func twoTenants(t *testing.T, s keyhub.Store) (a, b *keyhub.Tenant, now time.Time) {
	t.Helper()
	now = baseTime()
	return createTenant(t, s, now), createTenant(t, s, at(now, 1)), at(now, 2)
}

func testRoleRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetRole(ctx, a.ID, r.ID)
		if err != nil {
			t.Fatalf("GetRole: %v", err)
		}
		checkRole(t, got, r)
		return nil
	})
}

func testRoleNilScopes(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := newRole(a.ID, now)
	r.Scopes = nil
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateRole(ctx, r) })
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetRole(ctx, a.ID, r.ID)
		if err != nil {
			t.Fatalf("GetRole: %v", err)
		}
		checkStrings(t, "Scopes", got.Scopes, []string{})
		return nil
	})
}

func testRoleGetOtherTenant(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetRole(ctx, b.ID, r.ID)
		wantErr(t, "GetRole of another tenant", err, keyhub.ErrNotFound)
		_, err = tx.GetRole(ctx, "", r.ID)
		wantErr(t, "GetRole with no tenant", err, keyhub.ErrNotFound)
		_, err = tx.GetRole(ctx, a.ID, keyhub.NewID(keyhub.PrefixRole, now))
		wantErr(t, "GetRole unknown", err, keyhub.ErrNotFound)
		return nil
	})
}

func testRoleList(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	var mine []string
	for i := range 5 {
		mine = append(mine, createRole(t, s, a.ID, at(now, 2*i)).ID)
		createRole(t, s, b.ID, at(now, 2*i+1))
	}
	want := newestFirst(mine...)
	id := func(r *keyhub.Role) string { return r.ID }
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListRoles(ctx, a.ID, wholeList)
		if err != nil {
			t.Fatalf("ListRoles: %v", err)
		}
		checkIDs(t, "ListRoles", ids(got, id), want)
		for _, r := range got {
			if r.Scopes == nil {
				t.Errorf("ListRoles: role %s Scopes nil", r.ID)
			}
		}
		first, err := tx.ListRoles(ctx, a.ID, keyhub.Page{Limit: 3})
		if err != nil {
			t.Fatalf("ListRoles: %v", err)
		}
		checkIDs(t, "ListRoles page 1", ids(first, id), want[:3])
		if len(first) == 3 {
			second, err := tx.ListRoles(ctx, a.ID, keyhub.Page{Limit: 3, After: first[2].ID})
			if err != nil {
				t.Fatalf("ListRoles: %v", err)
			}
			checkIDs(t, "ListRoles page 2", ids(second, id), want[3:])
		}
		return nil
	})
}

func testRoleUpdate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	r.Name = "renamed"
	r.Description = "new description"
	r.Scopes = []string{"labs:read"}
	r.UpdatedAt = at(now, 2500)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateRole(ctx, r) })
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetRole(ctx, a.ID, r.ID)
		if err != nil {
			t.Fatalf("GetRole: %v", err)
		}
		checkRole(t, got, r)
		return nil
	})
}

func testRoleUpdateOtherTenant(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	changed := *r
	changed.TenantID = b.ID
	changed.Name = "stolen"
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdateRole(ctx, &changed) })
	wantErr(t, "UpdateRole of another tenant", err, keyhub.ErrNotFound)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetRole(ctx, a.ID, r.ID)
		if err != nil {
			t.Fatalf("GetRole: %v", err)
		}
		checkRole(t, got, r)
		return nil
	})
}

func testRoleDelete(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, a.ID, r.ID) })
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetRole(ctx, a.ID, r.ID)
		wantErr(t, "GetRole after delete", err, keyhub.ErrNotFound)
		return nil
	})
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, a.ID, r.ID) })
	wantErr(t, "DeleteRole twice", err, keyhub.ErrNotFound)
}

func testRoleDeleteOtherTenant(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, b.ID, r.ID) })
	wantErr(t, "DeleteRole of another tenant", err, keyhub.ErrNotFound)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetRole(ctx, a.ID, r.ID)
		if err != nil {
			t.Fatalf("GetRole after refused delete: %v", err)
		}
		checkRole(t, got, r)
		return nil
	})
}

func testRoleDeleteReferenced(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	k := newKey(a.ID, at(now, 1))
	k.RoleID = r.ID
	createKey(t, s, k)
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, a.ID, r.ID) })
	wantErr(t, "DeleteRole referenced by a key", err, keyhub.ErrReferenced)
	mustView(t, s, func(tx keyhub.Tx) error {
		if _, err := tx.GetRole(ctx, a.ID, r.ID); err != nil {
			t.Errorf("GetRole after refused delete: %v", err)
		}
		return nil
	})
}

func testRoleCountMembers(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	other := createRole(t, s, a.ID, at(now, 1))
	count := func() int {
		var n int
		mustView(t, s, func(tx keyhub.Tx) error {
			var err error
			n, err = tx.CountRoleMembers(ctx, a.ID, r.ID)
			return err
		})
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("CountRoleMembers of new role = %d, want 0", n)
	}
	live := newKey(a.ID, at(now, 2))
	live.RoleID = r.ID
	revoked := newKey(a.ID, at(now, 3))
	revoked.RoleID = r.ID
	revoked.RevokedAt = ptr(at(now, 4))
	revoked.Enabled = false
	elsewhere := newKey(a.ID, at(now, 5))
	elsewhere.RoleID = other.ID
	for _, k := range []*keyhub.APIKey{live, revoked, elsewhere, newKey(a.ID, at(now, 6))} {
		createKey(t, s, k)
	}
	if n := count(); n != 2 {
		t.Errorf("CountRoleMembers = %d, want 2 (revoked keys count)", n)
	}
}
