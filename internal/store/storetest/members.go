package storetest

import (
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var memberCases = []testCase{
	{"CreateGetRoundTripsEveryField", testMemberRoundTrip},
	{"EmptyScopesRoundTrip", testMemberEmptyScopes},
	{"DuplicateIDEmailOrExternalIDConflict", testMemberDuplicates},
	{"UnknownTenantReferenced", testMemberUnknownTenant},
	{"GetIsTenantScoped", testMemberGetTenantScoped},
	{"GetByExternalID", testMemberByExternalID},
	{"ListTenantScopedNewestFirstPaginated", testMemberList},
	{"ListSearchesEmailAndNameIgnoringASCIICase", testMemberSearch},
	{"ListByEmailAcrossTenants", testMemberByEmail},
	{"UpdateWritesMutableFields", testMemberUpdate},
	{"UpdateTakenEmailConflictsAndTxGoesOn", testMemberUpdateTaken},
	{"UpdateOtherTenantNotFound", testMemberUpdateOtherTenant},
	{"DeleteRemovesOnlyOwn", testMemberDelete},
}

// newMember returns an unsaved member of tenantID with a unique email.
func newMember(tenantID string, now time.Time) *keyhub.Member {
	id := keyhub.NewID(keyhub.PrefixMember, now)
	return &keyhub.Member{
		ID: id, TenantID: tenantID, Email: "m" + id[4:] + "@example.com", Name: "Ada " + id,
		Scopes:  []string{"read:api_keys", "payouts:*"},
		Creator: keyhub.Actor{Type: "operator", ID: "key_creator"}, CreatedAt: now, UpdatedAt: now,
	}
}

func createMember(t *testing.T, s keyhub.Store, m *keyhub.Member) *keyhub.Member {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateMember(ctx, m) })
	return m
}

func getMember(t *testing.T, s keyhub.Store, tenantID, id string) (*keyhub.Member, error) {
	t.Helper()
	var m *keyhub.Member
	err := s.View(ctx, func(tx keyhub.Tx) (err error) {
		m, err = tx.GetMember(ctx, tenantID, id)
		return err
	})
	return m, err
}

func memberID(m *keyhub.Member) string { return m.ID }

func checkMember(t *testing.T, got, want *keyhub.Member) {
	t.Helper()
	type plain struct {
		ID, TenantID, Email, Name, ExternalID string
		Creator                               keyhub.Actor
	}
	g := plain{got.ID, got.TenantID, got.Email, got.Name, got.ExternalID, got.Creator}
	w := plain{want.ID, want.TenantID, want.Email, want.Name, want.ExternalID, want.Creator}
	if g != w {
		t.Errorf("member = %+v, want %+v", g, w)
	}
	checkStrings(t, "Scopes", got.Scopes, nonNil(want.Scopes))
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func testMemberRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	m := newMember(a.ID, now)
	m.Scopes = []string{"b:write", "a:read"} // order is kept
	m.ExternalID = "user_42"
	m.Name = "Ada Lovelace — ünïcode"
	m.UpdatedAt = at(now, 3).Add(7 * time.Microsecond)
	createMember(t, s, m)
	got, err := getMember(t, s, a.ID, m.ID)
	if err != nil {
		t.Fatalf("GetMember: %v", err)
	}
	checkMember(t, got, m)
}

func testMemberEmptyScopes(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	m := newMember(a.ID, now)
	m.Scopes = nil
	createMember(t, s, m)
	got, err := getMember(t, s, a.ID, m.ID)
	if err != nil {
		t.Fatalf("GetMember: %v", err)
	}
	checkMember(t, got, m)
	if got.ExternalID != "" {
		t.Errorf("ExternalID = %q, want empty", got.ExternalID)
	}
}

func testMemberDuplicates(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	m := newMember(a.ID, now)
	m.ExternalID = "user_1"
	createMember(t, s, m)
	sameID := newMember(a.ID, at(now, 1))
	sameID.ID = m.ID
	sameEmail := newMember(a.ID, at(now, 2))
	sameEmail.Email = m.Email
	sameExternal := newMember(a.ID, at(now, 3))
	sameExternal.ExternalID = m.ExternalID
	for name, dup := range map[string]*keyhub.Member{"id": sameID, "email": sameEmail, "external id": sameExternal} {
		err := update(t, s, func(tx keyhub.Tx) error { return tx.CreateMember(ctx, dup) })
		wantErr(t, "CreateMember with a taken "+name, err, keyhub.ErrExists)
	}
	// Another tenant may have a member with the same email and external id.
	other := newMember(b.ID, at(now, 4))
	other.Email, other.ExternalID = m.Email, m.ExternalID
	createMember(t, s, other)
	// Two members without an external id do not collide on it.
	createMember(t, s, newMember(a.ID, at(now, 5)))
	createMember(t, s, newMember(a.ID, at(now, 6)))
	got, err := getMember(t, s, a.ID, m.ID)
	if err != nil {
		t.Fatalf("GetMember: %v", err)
	}
	checkMember(t, got, m)
}

func testMemberUnknownTenant(t *testing.T, s keyhub.Store) {
	now := baseTime()
	m := newMember(keyhub.NewID(keyhub.PrefixTenant, now), now)
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CreateMember(ctx, m) })
	wantErr(t, "CreateMember in an unknown tenant", err, keyhub.ErrReferenced)
}

func testMemberGetTenantScoped(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	m := createMember(t, s, newMember(a.ID, now))
	for name, tc := range map[string]struct{ tenant, id string }{
		"OtherTenant": {b.ID, m.ID},
		"NoTenant":    {"", m.ID},
		"UnknownID":   {a.ID, keyhub.NewID(keyhub.PrefixMember, now)},
	} {
		_, err := getMember(t, s, tc.tenant, tc.id)
		wantErr(t, "GetMember "+name, err, keyhub.ErrNotFound)
	}
}

func testMemberByExternalID(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	m := newMember(a.ID, now)
	m.ExternalID = "user_7"
	createMember(t, s, m)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetMemberByExternalID(ctx, a.ID, "user_7")
		if err != nil {
			t.Fatalf("GetMemberByExternalID: %v", err)
		}
		checkMember(t, got, m)
		_, err = tx.GetMemberByExternalID(ctx, b.ID, "user_7")
		wantErr(t, "GetMemberByExternalID in another tenant", err, keyhub.ErrNotFound)
		_, err = tx.GetMemberByExternalID(ctx, a.ID, "user_8")
		wantErr(t, "GetMemberByExternalID unknown", err, keyhub.ErrNotFound)
		return nil
	})
}

func testMemberList(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	var created []string
	for i := range 5 {
		created = append(created, createMember(t, s, newMember(a.ID, at(now, i))).ID)
	}
	createMember(t, s, newMember(b.ID, at(now, 10)))
	var all []string
	page := keyhub.MemberFilter{Page: keyhub.Page{Limit: 2}}
	mustView(t, s, func(tx keyhub.Tx) error {
		for range 10 {
			got, err := tx.ListMembers(ctx, a.ID, page)
			if err != nil {
				t.Fatalf("ListMembers: %v", err)
			}
			if len(got) == 0 {
				break
			}
			if len(got) > 2 {
				t.Fatalf("page of %d members, limit 2", len(got))
			}
			for _, m := range got {
				if m.Scopes == nil {
					t.Errorf("listed member %s has nil Scopes", m.ID)
				}
			}
			all = append(all, ids(got, memberID)...)
			page.After = got[len(got)-1].ID
		}
		return nil
	})
	checkIDs(t, "ListMembers pages", all, newestFirst(created...))
}

func testMemberSearch(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	mk := func(i int, email, name string) string {
		m := newMember(a.ID, at(now, i))
		m.Email, m.Name = email, name
		return createMember(t, s, m).ID
	}
	ada := mk(0, "ada@acme.test", "Ada Lovelace")
	grace := mk(1, "grace@navy.test", "Grace HOPPER")
	pct := mk(2, "x_y%z@acme.test", "Ünïcode Name")
	other := newMember(b.ID, at(now, 3))
	other.Email = "ada@other.test"
	createMember(t, s, other)
	for _, tc := range []struct {
		search string
		want   []string
	}{
		{"ACME", newestFirst(ada, pct)},
		{"hopper", []string{grace}},
		{"lOvE", []string{ada}},
		{"_y%", []string{pct}}, // wildcards match only themselves
		{"%", []string{pct}},
		{"NïC", []string{pct}},
		{"ünï", nil}, // Ü is not folded
		{"ÜNÏ", nil}, // only ASCII letters fold, on both stores
		{"nobody", nil},
	} {
		mustView(t, s, func(tx keyhub.Tx) error {
			got, err := tx.ListMembers(ctx, a.ID, keyhub.MemberFilter{Page: wholeList, Search: tc.search})
			if err != nil {
				t.Fatalf("ListMembers(%q): %v", tc.search, err)
			}
			checkIDs(t, "ListMembers search "+tc.search, ids(got, memberID), tc.want)
			return nil
		})
	}
}

func testMemberByEmail(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	ma := newMember(a.ID, now)
	ma.Email = "ada@example.com"
	mb := newMember(b.ID, at(now, 1))
	mb.Email = "ada@example.com"
	createMember(t, s, ma)
	createMember(t, s, mb)
	createMember(t, s, newMember(a.ID, at(now, 2)))
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListMembersByEmail(ctx, "ada@example.com")
		if err != nil {
			t.Fatalf("ListMembersByEmail: %v", err)
		}
		checkIDs(t, "ListMembersByEmail", ids(got, memberID), newestFirst(ma.ID, mb.ID))
		got, err = tx.ListMembersByEmail(ctx, "ADA@example.com")
		if err != nil {
			t.Fatalf("ListMembersByEmail: %v", err)
		}
		checkIDs(t, "ListMembersByEmail is exact", ids(got, memberID), nil)
		return nil
	})
}

func testMemberUpdate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	m := createMember(t, s, newMember(a.ID, now))
	m.Email, m.Name, m.Scopes, m.ExternalID = "new@example.com", "New Name", []string{"read:audit"}, "ext_9"
	m.UpdatedAt = at(now, 5)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateMember(ctx, m) })
	got, err := getMember(t, s, a.ID, m.ID)
	if err != nil {
		t.Fatalf("GetMember: %v", err)
	}
	checkMember(t, got, m)
	m.ExternalID, m.Scopes = "", nil
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdateMember(ctx, m) })
	got, _ = getMember(t, s, a.ID, m.ID)
	checkMember(t, got, m)
}

// testMemberUpdateTaken: a taken email is ErrExists, changes nothing, and
// the transaction goes on (PostgreSQL would otherwise abort it).
func testMemberUpdateTaken(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	m1 := createMember(t, s, newMember(a.ID, now))
	m2 := createMember(t, s, newMember(a.ID, at(now, 1)))
	changed := *m2
	changed.Email = m1.Email
	renamed := *m1
	renamed.Name = "renamed"
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		wantErr(t, "UpdateMember to a taken email", tx.UpdateMember(ctx, &changed), keyhub.ErrExists)
		return tx.UpdateMember(ctx, &renamed)
	})
	got, _ := getMember(t, s, a.ID, m2.ID)
	checkMember(t, got, m2)
	got, _ = getMember(t, s, a.ID, m1.ID)
	checkMember(t, got, &renamed)
}

func testMemberUpdateOtherTenant(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	m := createMember(t, s, newMember(a.ID, now))
	moved := *m
	moved.TenantID, moved.Name = b.ID, "stolen"
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdateMember(ctx, &moved) })
	wantErr(t, "UpdateMember of another tenant", err, keyhub.ErrNotFound)
	got, _ := getMember(t, s, a.ID, m.ID)
	checkMember(t, got, m)
}

func testMemberDelete(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	m := createMember(t, s, newMember(a.ID, now))
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteMember(ctx, b.ID, m.ID) })
	wantErr(t, "DeleteMember of another tenant", err, keyhub.ErrNotFound)
	if _, err := getMember(t, s, a.ID, m.ID); err != nil {
		t.Fatalf("member gone after another tenant's delete: %v", err)
	}
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteMember(ctx, a.ID, m.ID) })
	_, err = getMember(t, s, a.ID, m.ID)
	wantErr(t, "GetMember after delete", err, keyhub.ErrNotFound)
	err = update(t, s, func(tx keyhub.Tx) error { return tx.DeleteMember(ctx, a.ID, m.ID) })
	wantErr(t, "DeleteMember twice", err, keyhub.ErrNotFound)
}
