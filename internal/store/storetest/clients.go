package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var clientCases = []testCase{
	{"CreateGetRoundTripsEveryField", testClientRoundTrip},
	{"TokenEpochRoundTrips", testClientTokenEpoch},
	{"EmptyValuesRoundTrip", testClientEmptyValues},
	{"CreateDuplicateIDConflict", testClientDuplicate},
	{"GetIsTenantScoped", testClientGetTenantScoped},
	{"LookupAnyTenant", testClientLookup},
	{"ListTenantScopedNewestFirstPaginated", testClientList},
	{"UpdateWritesMutableFields", testClientUpdate},
	{"UpdateOtherTenantNotFound", testClientUpdateOtherTenant},
	{"DeleteRemoves", testClientDelete},
	{"DeleteOtherTenantNotFoundAndKept", testClientDeleteOtherTenant},
}

// newClient returns an unsaved, enabled client of tenantID ("" for an
// operator client).
func newClient(tenantID string, now time.Time) *keyhub.Client {
	id := keyhub.NewID(keyhub.PrefixClient, now)
	return &keyhub.Client{
		ID:         id,
		TenantID:   tenantID,
		Name:       "client " + id,
		SecretHash: hashOf("client secret of " + id),
		Scopes:     []string{"read:api_keys", "payouts:*"},
		Audiences:  []string{"https://api.example.com"},
		TokenTTL:   keyhub.Duration(time.Hour),
		Enabled:    true,
		Creator:    keyhub.Actor{Type: "operator", ID: "key_creator"},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
}

func createClient(t *testing.T, s keyhub.Store, c *keyhub.Client) *keyhub.Client {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateClient(ctx, c) })
	return c
}

func getClient(t *testing.T, s keyhub.Store, tenantID, id string) *keyhub.Client {
	t.Helper()
	var c *keyhub.Client
	mustView(t, s, func(tx keyhub.Tx) error {
		var err error
		c, err = tx.GetClient(ctx, tenantID, id)
		return err
	})
	return c
}

func clientID(c *keyhub.Client) string { return c.ID }

// checkClient compares every field. An absent previous secret may come back
// nil or empty.
func checkClient(t *testing.T, got, want *keyhub.Client) {
	t.Helper()
	type plain struct {
		ID, TenantID, Name string
		TokenTTL           keyhub.Duration
		Enabled            bool
		TokenEpoch         int64
		Creator            keyhub.Actor
	}
	g := plain{got.ID, got.TenantID, got.Name, got.TokenTTL, got.Enabled, got.TokenEpoch, got.Creator}
	w := plain{want.ID, want.TenantID, want.Name, want.TokenTTL, want.Enabled, want.TokenEpoch, want.Creator}
	if g != w {
		t.Errorf("client = %+v, want %+v", g, w)
	}
	if !bytes.Equal(got.SecretHash, want.SecretHash) {
		t.Errorf("SecretHash differs from the one stored")
	}
	if !bytes.Equal(got.PreviousSecretHash, want.PreviousSecretHash) {
		t.Errorf("PreviousSecretHash differs from the one stored (got %d bytes, want %d)",
			len(got.PreviousSecretHash), len(want.PreviousSecretHash))
	}
	checkTimePtr(t, "PreviousSecretExpiresAt", got.PreviousSecretExpiresAt, want.PreviousSecretExpiresAt)
	checkStrings(t, "Scopes", got.Scopes, nonNil(want.Scopes))
	checkStrings(t, "Audiences", got.Audiences, nonNil(want.Audiences))
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func testClientRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	c := newClient(a.ID, now)
	c.PreviousSecretHash = hashOf("old secret")
	c.PreviousSecretExpiresAt = ptr(at(now, 3_600_000).Add(7 * time.Microsecond))
	c.Scopes = []string{"b:write", "a:read"} // order is kept
	c.Audiences = []string{"https://b.example", "https://a.example"}
	c.TokenTTL = keyhub.Duration(15*time.Minute + 30*time.Second)
	c.Enabled = false
	c.TokenEpoch = 7
	c.Creator = keyhub.Actor{Type: "api_key", ID: "key_x"}
	c.UpdatedAt = at(now, 4)
	createClient(t, s, c)
	checkClient(t, getClient(t, s, a.ID, c.ID), c)

	op := createClient(t, s, newClient("", at(now, 1)))
	checkClient(t, getClient(t, s, "", op.ID), op)
}

// testClientTokenEpoch: the epoch is written by Create and Update and read
// by Get, Lookup and List; a new client's is whatever it was created with.
func testClientTokenEpoch(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	zero := createClient(t, s, newClient(a.ID, now))
	c := newClient(a.ID, at(now, 1))
	c.TokenEpoch = 3
	createClient(t, s, c)
	read := func(want int64) {
		t.Helper()
		mustView(t, s, func(tx keyhub.Tx) error {
			got, err := tx.GetClient(ctx, a.ID, c.ID)
			if err != nil {
				t.Fatalf("GetClient: %v", err)
			}
			looked, err := tx.LookupClient(ctx, c.ID)
			if err != nil {
				t.Fatalf("LookupClient: %v", err)
			}
			list, err := tx.ListClients(ctx, a.ID, keyhub.Page{Limit: 10})
			if err != nil {
				t.Fatalf("ListClients: %v", err)
			}
			checkIDs(t, "ListClients", ids(list, clientID), []string{c.ID, zero.ID})
			if len(list) != 2 {
				return nil
			}
			if got.TokenEpoch != want || looked.TokenEpoch != want || list[0].TokenEpoch != want {
				t.Errorf("TokenEpoch by Get, Lookup, List = %d, %d, %d; want %d",
					got.TokenEpoch, looked.TokenEpoch, list[0].TokenEpoch, want)
			}
			if list[1].TokenEpoch != 0 {
				t.Errorf("TokenEpoch of a client created without one = %d, want 0", list[1].TokenEpoch)
			}
			return nil
		})
	}
	read(3)
	c.TokenEpoch = 4
	c.UpdatedAt = at(now, 2)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateClient(ctx, c) })
	read(4)
	checkClient(t, getClient(t, s, a.ID, c.ID), c)
}

func testClientEmptyValues(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	c := newClient(a.ID, now)
	c.Scopes, c.Audiences, c.TokenTTL = nil, nil, 0
	createClient(t, s, c)
	got := getClient(t, s, a.ID, c.ID)
	checkClient(t, got, c)
	if len(got.PreviousSecretHash) != 0 || got.PreviousSecretExpiresAt != nil {
		t.Errorf("absent previous secret came back set")
	}
}

func testClientDuplicate(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	c := createClient(t, s, newClient(a.ID, now))
	dup := newClient(b.ID, at(now, 1))
	dup.ID = c.ID
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CreateClient(ctx, dup) })
	wantErr(t, "CreateClient duplicate id", err, keyhub.ErrExists)
	checkClient(t, getClient(t, s, a.ID, c.ID), c)
}

func testClientGetTenantScoped(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	ca := createClient(t, s, newClient(a.ID, now))
	op := createClient(t, s, newClient("", at(now, 1)))
	tests := []struct {
		name, tenantID, id string
		want               *keyhub.Client
	}{
		{"OwnClient", a.ID, ca.ID, ca},
		{"OperatorClient", "", op.ID, op},
		{"OtherTenantsClient", b.ID, ca.ID, nil},
		{"TenantClientAsOperator", "", ca.ID, nil},
		{"OperatorClientAsTenant", a.ID, op.ID, nil},
		{"UnknownID", a.ID, keyhub.NewID(keyhub.PrefixClient, now), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustView(t, s, func(tx keyhub.Tx) error {
				got, err := tx.GetClient(ctx, tc.tenantID, tc.id)
				if tc.want == nil {
					wantErr(t, "GetClient", err, keyhub.ErrNotFound)
					return nil
				}
				if err != nil {
					t.Fatalf("GetClient: %v", err)
				}
				checkClient(t, got, tc.want)
				return nil
			})
		})
	}
}

func testClientLookup(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	clients := []*keyhub.Client{
		createClient(t, s, newClient(a.ID, now)),
		createClient(t, s, newClient(b.ID, at(now, 1))),
		createClient(t, s, newClient("", at(now, 2))),
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		for _, c := range clients {
			got, err := tx.LookupClient(ctx, c.ID)
			if err != nil {
				t.Fatalf("LookupClient(%s): %v", c.ID, err)
			}
			checkClient(t, got, c)
		}
		_, err := tx.LookupClient(ctx, keyhub.NewID(keyhub.PrefixClient, now))
		wantErr(t, "LookupClient unknown", err, keyhub.ErrNotFound)
		return nil
	})
}

func testClientList(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	var created []string
	for i := range 5 {
		created = append(created, createClient(t, s, newClient(a.ID, at(now, i))).ID)
	}
	cb := createClient(t, s, newClient(b.ID, at(now, 10)))
	op := createClient(t, s, newClient("", at(now, 11)))
	want := newestFirst(created...)

	mustView(t, s, func(tx keyhub.Tx) error {
		var all []string
		page := keyhub.Page{Limit: 2}
		for range 10 {
			got, err := tx.ListClients(ctx, a.ID, page)
			if err != nil {
				t.Fatalf("ListClients: %v", err)
			}
			if len(got) == 0 {
				break
			}
			if len(got) > 2 {
				t.Fatalf("page of %d clients, limit 2", len(got))
			}
			for _, c := range got {
				if c.Scopes == nil || c.Audiences == nil {
					t.Errorf("listed client %s has nil Scopes or Audiences", c.ID)
				}
			}
			all = append(all, ids(got, clientID)...)
			page.After = got[len(got)-1].ID
		}
		checkIDs(t, "ListClients pages", all, want)

		for _, tc := range []struct {
			name, tenantID string
			want           []string
		}{
			{"WholeList", a.ID, want},
			{"OtherTenant", b.ID, []string{cb.ID}},
			{"OperatorClientsOnly", "", []string{op.ID}},
			{"UnknownTenant", keyhub.NewID(keyhub.PrefixTenant, now), nil},
		} {
			got, err := tx.ListClients(ctx, tc.tenantID, wholeList)
			if err != nil {
				t.Fatalf("ListClients %s: %v", tc.name, err)
			}
			checkIDs(t, "ListClients "+tc.name, ids(got, clientID), tc.want)
		}
		return nil
	})
}

func testClientUpdate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	c := createClient(t, s, newClient(a.ID, now))
	// A rotation: the current secret becomes the previous one.
	c.PreviousSecretHash = c.SecretHash
	c.PreviousSecretExpiresAt = ptr(at(now, 86_400_000))
	c.SecretHash = hashOf("rotated secret")
	c.Name = "renamed"
	c.Scopes = []string{"verify:api_keys"}
	c.Audiences = []string{"https://other.example", "https://api.example.com"}
	c.TokenTTL = keyhub.Duration(5 * time.Minute)
	c.Enabled = false
	c.UpdatedAt = at(now, 5)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateClient(ctx, c) })
	checkClient(t, getClient(t, s, a.ID, c.ID), c)

	c.PreviousSecretHash, c.PreviousSecretExpiresAt = nil, nil
	c.Scopes, c.Audiences = nil, nil
	c.Enabled = true
	c.UpdatedAt = at(now, 6)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateClient(ctx, c) })
	got := getClient(t, s, a.ID, c.ID)
	checkClient(t, got, c)
	if len(got.PreviousSecretHash) != 0 || got.PreviousSecretExpiresAt != nil {
		t.Errorf("cleared previous secret came back set")
	}
}

func testClientUpdateOtherTenant(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	c := createClient(t, s, newClient(a.ID, now))
	changed := *c
	changed.TenantID = b.ID
	changed.Name = "stolen"
	changed.SecretHash = hashOf("attacker")
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdateClient(ctx, &changed) })
	wantErr(t, "UpdateClient of another tenant", err, keyhub.ErrNotFound)
	checkClient(t, getClient(t, s, a.ID, c.ID), c)

	unknown := newClient(a.ID, at(now, 1))
	err = update(t, s, func(tx keyhub.Tx) error { return tx.UpdateClient(ctx, unknown) })
	wantErr(t, "UpdateClient unknown", err, keyhub.ErrNotFound)
}

func testClientDelete(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	c := createClient(t, s, newClient(a.ID, now))
	op := createClient(t, s, newClient("", at(now, 1)))
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteClient(ctx, a.ID, c.ID) })
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteClient(ctx, "", op.ID) })
	mustView(t, s, func(tx keyhub.Tx) error {
		_, err := tx.GetClient(ctx, a.ID, c.ID)
		wantErr(t, "GetClient after delete", err, keyhub.ErrNotFound)
		_, err = tx.LookupClient(ctx, op.ID)
		wantErr(t, "LookupClient after delete", err, keyhub.ErrNotFound)
		return nil
	})
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteClient(ctx, a.ID, c.ID) })
	wantErr(t, "DeleteClient twice", err, keyhub.ErrNotFound)
}

func testClientDeleteOtherTenant(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	c := createClient(t, s, newClient(a.ID, now))
	for _, tenantID := range []string{b.ID, ""} {
		err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteClient(ctx, tenantID, c.ID) })
		wantErr(t, "DeleteClient of another tenant", err, keyhub.ErrNotFound)
	}
	checkClient(t, getClient(t, s, a.ID, c.ID), c)
}
