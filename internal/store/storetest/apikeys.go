package storetest

import (
	"encoding/json"
	"testing"

	"github.com/keyhub/keyhub"
)

var apiKeyCases = []testCase{
	{"CreateGetRoundTripsEveryField", testKeyRoundTrip},
	{"NilPointersStayNil", testKeyNilPointers},
	{"EmptyValuesRoundTrip", testKeyEmptyValues},
	{"GetIsTenantScoped", testKeyGetTenantScoped},
	{"GetByHashAnyTenant", testKeyGetByHash},
	{"GetByHashOutsideTransaction", testKeyGetByHashOutsideTx},
	{"CreateDuplicateHashConflict", testKeyDuplicateHash},
	{"UpdateRoundTripsMutableFields", testKeyUpdate},
	{"UpdateClearsOptionalFields", testKeyUpdateClears},
	{"UpdateOtherTenantNotFound", testKeyUpdateOtherTenant},
	{"CountOperatorKeys", testCountOperatorKeys},
}

func getKey(t *testing.T, s keyhub.Store, tenantID, id string) *keyhub.APIKey {
	t.Helper()
	var k *keyhub.APIKey
	mustView(t, s, func(tx keyhub.Tx) error {
		var err error
		k, err = tx.GetAPIKey(ctx, tenantID, id)
		return err
	})
	return k
}

func testKeyRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	k := newKey(a.ID, at(now, 1))
	k.RoleID = r.ID
	k.Environment = "test"
	k.Scopes = []string{"b:write", "a:read", "experiments:*"} // order is kept
	k.Meta = json.RawMessage(`{"nested":{"list":[1,"two",null]},"unicode":"ünï"}`)
	k.ExpiresAt = ptr(at(now, 90_000).Add(123 * 1000)) // odd microseconds
	k.RevokedAt = ptr(at(now, 3))
	k.LastUsedAt = ptr(at(now, 2))
	k.Enabled = false
	k.Creator = keyhub.Actor{Type: "client", ID: "cli_x"}
	k.UpdatedAt = at(now, 4)
	createKey(t, s, k)
	checkKey(t, getKey(t, s, a.ID, k.ID), k)
}

func testKeyNilPointers(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	got := getKey(t, s, a.ID, k.ID)
	checkKey(t, got, k)
	if got.ExpiresAt != nil || got.RevokedAt != nil || got.LastUsedAt != nil {
		t.Errorf("nil time pointers came back set: %v %v %v", got.ExpiresAt, got.RevokedAt, got.LastUsedAt)
	}
}

// testKeyEmptyValues checks how empty values come back, alike on both
// stores: nil lists as empty non-nil lists, absent meta (nil, no bytes or
// null) as nil, {} as {}, no role as "". The service writes meta {} for
// none; the store neither adds nor drops it.
func testKeyEmptyValues(t *testing.T, s keyhub.Store) {
	tests := []struct {
		name string
		meta json.RawMessage
	}{
		{"NilMeta", nil},
		{"EmptyMeta", json.RawMessage{}},
		{"NullMeta", json.RawMessage(`null`)},
		{"EmptyObjectMeta", json.RawMessage(`{}`)},
		{"ArrayMeta", json.RawMessage(`[]`)},
	}
	a, _, now := twoTenants(t, s)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newKey(a.ID, at(now, i))
			k.Scopes, k.IPs, k.Meta, k.RoleID = nil, nil, tc.meta, ""
			createKey(t, s, k)
			got := getKey(t, s, a.ID, k.ID)
			checkKey(t, got, k)
			if got.RoleID != "" {
				t.Errorf("RoleID = %q, want empty", got.RoleID)
			}
			// UpdateAPIKey writes the same way: set, then clear again.
			k.Scopes, k.IPs, k.Meta = []string{}, []string{}, json.RawMessage(`{"a":1}`)
			mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
			checkKey(t, getKey(t, s, a.ID, k.ID), k)
			k.Scopes, k.IPs, k.Meta = nil, nil, tc.meta
			mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
			checkKey(t, getKey(t, s, a.ID, k.ID), k)
		})
	}
}

func testKeyGetTenantScoped(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	ka := createKey(t, s, newKey(a.ID, now))
	op := createKey(t, s, newKey("", at(now, 1)))
	tests := []struct {
		name     string
		tenantID string
		id       string
		want     *keyhub.APIKey
	}{
		{"OwnKey", a.ID, ka.ID, ka},
		{"OperatorKey", "", op.ID, op},
		{"OtherTenantsKey", b.ID, ka.ID, nil},
		{"TenantKeyAsOperator", "", ka.ID, nil},
		{"OperatorKeyAsTenant", a.ID, op.ID, nil},
		{"UnknownID", a.ID, keyhub.NewID(keyhub.PrefixAPIKey, now), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustView(t, s, func(tx keyhub.Tx) error {
				got, err := tx.GetAPIKey(ctx, tc.tenantID, tc.id)
				if tc.want == nil {
					wantErr(t, "GetAPIKey", err, keyhub.ErrNotFound)
					return nil
				}
				if err != nil {
					t.Fatalf("GetAPIKey: %v", err)
				}
				checkKey(t, got, tc.want)
				return nil
			})
		})
	}
}

func testKeyGetByHash(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	keys := []*keyhub.APIKey{
		createKey(t, s, newKey(a.ID, now)),
		createKey(t, s, newKey(b.ID, at(now, 1))),
		createKey(t, s, newKey("", at(now, 2))),
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		for _, k := range keys {
			got, err := tx.GetAPIKeyByHash(ctx, k.Hash)
			if err != nil {
				t.Fatalf("GetAPIKeyByHash(%s): %v", k.ID, err)
			}
			checkKey(t, got, k)
		}
		_, err := tx.GetAPIKeyByHash(ctx, hashOf("never issued"))
		wantErr(t, "GetAPIKeyByHash unknown", err, keyhub.ErrNotFound)
		return nil
	})
}

// testKeyGetByHashOutsideTx: a store that reads keys by digest outside a
// transaction (keyhub.KeyByHashReader) answers as a transaction does.
func testKeyGetByHashOutsideTx(t *testing.T, s keyhub.Store) {
	r, ok := s.(keyhub.KeyByHashReader)
	if !ok {
		t.Skip("the store reads keys by digest in transactions only")
	}
	a, b, now := twoTenants(t, s)
	for i, tenant := range []string{a.ID, b.ID, ""} {
		k := createKey(t, s, newKey(tenant, at(now, i)))
		got, err := r.GetAPIKeyByHash(ctx, k.Hash)
		if err != nil {
			t.Fatalf("GetAPIKeyByHash(%s): %v", k.ID, err)
		}
		checkKey(t, got, k)
	}
	_, err := r.GetAPIKeyByHash(ctx, hashOf("never issued"))
	wantErr(t, "GetAPIKeyByHash unknown", err, keyhub.ErrNotFound)
}

func testKeyDuplicateHash(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	first := createKey(t, s, newKey(a.ID, now))
	dup := newKey(b.ID, at(now, 1))
	dup.Hash = first.Hash
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, dup) })
	wantErr(t, "CreateAPIKey duplicate hash", err, keyhub.ErrExists)
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetAPIKey(ctx, b.ID, dup.ID)
		wantErr(t, "GetAPIKey of refused key", err, keyhub.ErrNotFound)
		return nil
	})
}

func testKeyUpdate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	k := createKey(t, s, newKey(a.ID, at(now, 1)))
	k.Name = "renamed"
	k.Scopes = []string{"labs:read", "experiments:*"}
	k.RoleID = r.ID
	k.IPs = []string{"192.0.2.0/24"}
	k.Meta = json.RawMessage(`{"changed":true}`)
	k.Enabled = false
	k.ExpiresAt = ptr(at(now, 60_000))
	k.RevokedAt = ptr(at(now, 5))
	k.UpdatedAt = at(now, 5)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
	checkKey(t, getKey(t, s, a.ID, k.ID), k)
}

func testKeyUpdateClears(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	r := createRole(t, s, a.ID, now)
	k := newKey(a.ID, at(now, 1))
	k.RoleID = r.ID
	k.ExpiresAt = ptr(at(now, 60_000))
	k.RevokedAt = ptr(at(now, 2))
	createKey(t, s, k)
	k.RoleID, k.ExpiresAt, k.RevokedAt = "", nil, nil
	k.Scopes, k.IPs, k.Meta = nil, nil, nil
	k.Enabled = true
	k.UpdatedAt = at(now, 3)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, k) })
	checkKey(t, getKey(t, s, a.ID, k.ID), k)
	mustView(t, s, func(tx keyhub.Tx) error {
		n, err := tx.CountRoleMembers(ctx, a.ID, r.ID)
		if err != nil || n != 0 {
			t.Errorf("CountRoleMembers after clearing role = %d, %v; want 0", n, err)
		}
		return nil
	})
}

func testKeyUpdateOtherTenant(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	k := createKey(t, s, newKey(a.ID, now))
	changed := *k
	changed.TenantID = b.ID
	changed.Name = "stolen"
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, &changed) })
	wantErr(t, "UpdateAPIKey of another tenant", err, keyhub.ErrNotFound)
	checkKey(t, getKey(t, s, a.ID, k.ID), k)

	unknown := newKey(a.ID, at(now, 1))
	err = update(t, s, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, unknown) })
	wantErr(t, "UpdateAPIKey unknown", err, keyhub.ErrNotFound)
}

func testCountOperatorKeys(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	count := func() int {
		var n int
		mustView(t, s, func(tx keyhub.Tx) error {
			var err error
			n, err = tx.CountOperatorKeys(ctx)
			return err
		})
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("CountOperatorKeys on empty store = %d", n)
	}
	createKey(t, s, newKey(a.ID, now))
	createKey(t, s, newKey("", at(now, 1)))
	createKey(t, s, newKey("", at(now, 2)))
	if n := count(); n != 2 {
		t.Errorf("CountOperatorKeys = %d, want 2", n)
	}
}
