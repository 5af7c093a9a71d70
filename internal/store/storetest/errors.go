package storetest

import (
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

// The error cases check, for every way a store call can fail, that both
// stores answer the same store error of the root package, and that the
// error holds none of the values involved: no id, no name, no hash.

var errorCases = []testCase{
	{"NotFound", testErrNotFound},
	{"Exists", testErrExists},
	{"Referenced", testErrReferenced},
	{"Credits", testErrCredits},
	{"OutOfRange", testErrOutOfRange},
	{"ExpectedFailuresLeaveTransactionUsable", testErrLeaveTxUsable},
}

// errFixture is one of every object, for the error cases to fail on.
type errFixture struct {
	a, b    *keyhub.Tenant
	role    *keyhub.Role
	key     *keyhub.APIKey // a's, with the role and credits
	plain   *keyhub.APIKey // a's, without credits
	op      *keyhub.APIKey // an operator key
	client  *keyhub.Client
	signing *keyhub.SigningKey
	scope   *keyhub.ScopeEntry
	event   *keyhub.AuditEvent
	now     time.Time
}

func newErrFixture(t *testing.T, s keyhub.Store) *errFixture {
	t.Helper()
	a, b, now := twoTenants(t, s)
	f := &errFixture{a: a, b: b, now: at(now, 100)}
	f.role = createRole(t, s, a.ID, now)
	f.key = newKey(a.ID, at(now, 1))
	f.key.RoleID = f.role.ID
	f.key.Credits = &keyhub.Credits{Remaining: 10}
	createKey(t, s, f.key)
	f.plain = createKey(t, s, newKey(a.ID, at(now, 2)))
	f.op = createKey(t, s, newKey("", at(now, 3)))
	f.client = createClient(t, s, newClient(a.ID, at(now, 4)))
	f.signing = newSigningKey("kid-errors", at(now, 5))
	f.scope = &keyhub.ScopeEntry{Name: "payouts:write", Description: "pay", CreatedAt: at(now, 6)}
	f.event = newEvent(a.ID, at(now, 7), "api_key.created", f.key.ID)
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		if err := tx.CreateSigningKey(ctx, f.signing); err != nil {
			return err
		}
		if err := tx.CreateScope(ctx, f.scope); err != nil {
			return err
		}
		return tx.AppendAuditEvent(ctx, f.event)
	})
	return f
}

// values are what no error may repeat: every id, name and digest of the
// fixture, and the ids the cases make up.
func (f *errFixture) values(extra ...string) []string {
	out := []string{f.a.ID, f.b.ID, f.role.ID, f.role.Name, f.client.ID, f.client.Name, f.signing.ID,
		f.scope.Name, f.event.ID}
	for _, k := range []*keyhub.APIKey{f.key, f.plain, f.op} {
		out = append(out, k.ID, k.Name, hex.EncodeToString(k.Hash), string(k.Hash))
	}
	return append(out, extra...)
}

// errCase is one failing call. Reads run in View and in Update (where
// PostgreSQL locks what it reads); writes in Update only.
type errCase struct {
	name  string
	write bool
	fn    func(tx keyhub.Tx) error
}

// runErrCases runs each case in a transaction of its own and wants err.
func runErrCases(t *testing.T, s keyhub.Store, want *keyhub.Error, values []string, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			check := func(how string, err error) {
				t.Helper()
				wantErr(t, tc.name+" in "+how, err, want)
				noValues(t, err, values)
			}
			check("Update", update(t, s, tc.fn))
			if !tc.write {
				check("View", s.View(ctx, tc.fn))
			}
		})
	}
}

// noValues fails if err's text holds any of values.
func noValues(t *testing.T, err error, values []string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, v := range values {
		if v != "" && strings.Contains(msg, v) {
			t.Errorf("error %q holds the value %q", msg, v)
		}
	}
}

func testErrNotFound(t *testing.T, s keyhub.Store) {
	f := newErrFixture(t, s)
	unknownTenant := keyhub.NewID(keyhub.PrefixTenant, f.now)
	unknownRole := keyhub.NewID(keyhub.PrefixRole, f.now)
	unknownKey := keyhub.NewID(keyhub.PrefixAPIKey, f.now)
	unknownClient := keyhub.NewID(keyhub.PrefixClient, f.now)
	unknownHash := hashOf("never issued")
	// Copies of a's objects claimed by b: another tenant's id answers as an
	// unknown one does.
	roleOfB, keyOfB, clientOfB := *f.role, *f.key, *f.client
	roleOfB.TenantID, keyOfB.TenantID, clientOfB.TenantID = f.b.ID, f.b.ID, f.b.ID
	keyAsOperator := *f.key
	keyAsOperator.TenantID = ""
	newRoleOfA, newKeyOfA, newClientOfA := newRole(f.a.ID, f.now), newKey(f.a.ID, f.now), newClient(f.a.ID, f.now)
	hour := f.now.Truncate(time.Hour)
	read := func(fn func(tx keyhub.Tx) (any, error)) func(tx keyhub.Tx) error {
		return func(tx keyhub.Tx) error { _, err := fn(tx); return err }
	}
	cases := []errCase{
		{"GetTenantUnknown", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetTenant(ctx, unknownTenant) })},
		{"UpdateTenantUnknown", true, func(tx keyhub.Tx) error { return tx.UpdateTenant(ctx, newTenant(f.now)) }},
		{"DeleteScopeUnknown", true, func(tx keyhub.Tx) error { return tx.DeleteScope(ctx, "never:created") }},

		{"GetRoleUnknown", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetRole(ctx, f.a.ID, unknownRole) })},
		{"GetRoleOfOtherTenant", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetRole(ctx, f.b.ID, f.role.ID) })},
		{"GetRoleWithoutTenant", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetRole(ctx, "", f.role.ID) })},
		{"UpdateRoleUnknown", true, func(tx keyhub.Tx) error { return tx.UpdateRole(ctx, newRoleOfA) }},
		{"UpdateRoleOfOtherTenant", true, func(tx keyhub.Tx) error { return tx.UpdateRole(ctx, &roleOfB) }},
		{"DeleteRoleUnknown", true, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, f.a.ID, unknownRole) }},
		{"DeleteRoleOfOtherTenant", true, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, f.b.ID, f.role.ID) }},

		{"GetAPIKeyUnknown", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetAPIKey(ctx, f.a.ID, unknownKey) })},
		{"GetAPIKeyOfOtherTenant", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetAPIKey(ctx, f.b.ID, f.key.ID) })},
		{"GetTenantKeyAsOperator", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetAPIKey(ctx, "", f.key.ID) })},
		{"GetOperatorKeyAsTenant", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetAPIKey(ctx, f.a.ID, f.op.ID) })},
		{"GetAPIKeyByHashUnknown", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetAPIKeyByHash(ctx, unknownHash) })},
		{"UpdateAPIKeyUnknown", true, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, newKeyOfA) }},
		{"UpdateAPIKeyOfOtherTenant", true, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, &keyOfB) }},
		{"UpdateTenantKeyAsOperator", true, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, &keyAsOperator) }},
		{"SpendCreditsUnknown", true, func(tx keyhub.Tx) error {
			_, _, err := tx.SpendCredits(ctx, unknownKey, 1, time.Time{})
			return err
		}},
		{"AddCreditsUnknown", true, read(func(tx keyhub.Tx) (any, error) { return tx.AddCredits(ctx, f.a.ID, unknownKey, 1) })},
		{"AddCreditsOfOtherTenant", true, read(func(tx keyhub.Tx) (any, error) { return tx.AddCredits(ctx, f.b.ID, f.key.ID, 1) })},
		{"ListUsageUnknown", false, read(func(tx keyhub.Tx) (any, error) {
			return tx.ListUsage(ctx, f.a.ID, unknownKey, hour, hour.Add(time.Hour))
		})},
		{"ListUsageOfOtherTenant", false, read(func(tx keyhub.Tx) (any, error) {
			return tx.ListUsage(ctx, f.b.ID, f.key.ID, hour, hour.Add(time.Hour))
		})},

		{"GetClientUnknown", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetClient(ctx, f.a.ID, unknownClient) })},
		{"GetClientOfOtherTenant", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetClient(ctx, f.b.ID, f.client.ID) })},
		{"GetTenantClientAsOperator", false, read(func(tx keyhub.Tx) (any, error) { return tx.GetClient(ctx, "", f.client.ID) })},
		{"LookupClientUnknown", false, read(func(tx keyhub.Tx) (any, error) { return tx.LookupClient(ctx, unknownClient) })},
		{"UpdateClientUnknown", true, func(tx keyhub.Tx) error { return tx.UpdateClient(ctx, newClientOfA) }},
		{"UpdateClientOfOtherTenant", true, func(tx keyhub.Tx) error { return tx.UpdateClient(ctx, &clientOfB) }},
		{"DeleteClientUnknown", true, func(tx keyhub.Tx) error { return tx.DeleteClient(ctx, f.a.ID, unknownClient) }},
		{"DeleteClientOfOtherTenant", true, func(tx keyhub.Tx) error { return tx.DeleteClient(ctx, f.b.ID, f.client.ID) }},

		{"UpdateSigningKeyUnknown", true, func(tx keyhub.Tx) error {
			return tx.UpdateSigningKey(ctx, newSigningKey("kid-unknown", f.now))
		}},
		{"DeleteSigningKeyUnknown", true, func(tx keyhub.Tx) error { return tx.DeleteSigningKey(ctx, "kid-unknown") }},
	}
	runErrCases(t, s, keyhub.ErrNotFound, f.values(unknownTenant, unknownRole, unknownKey, unknownClient,
		hex.EncodeToString(unknownHash), "kid-unknown", "never:created"), cases)
	// Nothing was changed through another tenant.
	checkRole(t, getRole(t, s, f.a.ID, f.role.ID), f.role)
	checkKey(t, getKey(t, s, f.a.ID, f.key.ID), f.key)
	checkClient(t, getClient(t, s, f.a.ID, f.client.ID), f.client)
}

func getRole(t *testing.T, s keyhub.Store, tenantID, id string) *keyhub.Role {
	t.Helper()
	var r *keyhub.Role
	mustView(t, s, func(tx keyhub.Tx) error {
		var err error
		r, err = tx.GetRole(ctx, tenantID, id)
		return err
	})
	return r
}

func testErrExists(t *testing.T, s keyhub.Store) {
	f := newErrFixture(t, s)
	sameKeyID := newKey(f.a.ID, f.now)
	sameKeyID.ID = f.key.ID
	sameHashOtherTenant := newKey(f.b.ID, f.now)
	sameHashOtherTenant.Hash = f.key.Hash
	sameHashOperator := newKey("", f.now)
	sameHashOperator.Hash = f.key.Hash
	sameClientID := newClient(f.b.ID, f.now)
	sameClientID.ID = f.client.ID
	sameRoleID := newRole(f.b.ID, f.now)
	sameRoleID.ID = f.role.ID
	sameTenantID := newTenant(f.now)
	sameTenantID.ID = f.a.ID
	sameEventID := newEvent(f.b.ID, f.now, "tenant.updated", f.b.ID)
	sameEventID.ID = f.event.ID
	cases := []errCase{
		{"CreateTenantSameID", true, func(tx keyhub.Tx) error { return tx.CreateTenant(ctx, sameTenantID) }},
		{"CreateScopeSameName", true, func(tx keyhub.Tx) error {
			return tx.CreateScope(ctx, &keyhub.ScopeEntry{Name: f.scope.Name, Description: "other", CreatedAt: f.now})
		}},
		{"CreateRoleSameID", true, func(tx keyhub.Tx) error { return tx.CreateRole(ctx, sameRoleID) }},
		{"CreateAPIKeySameID", true, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, sameKeyID) }},
		{"CreateAPIKeySameHashOtherTenant", true, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, sameHashOtherTenant) }},
		{"CreateAPIKeySameHashOperator", true, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, sameHashOperator) }},
		{"CreateClientSameID", true, func(tx keyhub.Tx) error { return tx.CreateClient(ctx, sameClientID) }},
		{"CreateSigningKeySameID", true, func(tx keyhub.Tx) error {
			return tx.CreateSigningKey(ctx, newSigningKey(f.signing.ID, f.now))
		}},
		{"AppendAuditEventSameID", true, func(tx keyhub.Tx) error { return tx.AppendAuditEvent(ctx, sameEventID) }},
	}
	runErrCases(t, s, keyhub.ErrExists, f.values(sameHashOtherTenant.ID, sameHashOperator.ID), cases)
	// The first of each stays as it was.
	checkKey(t, getKey(t, s, f.a.ID, f.key.ID), f.key)
	checkClient(t, getClient(t, s, f.a.ID, f.client.ID), f.client)
	checkRole(t, getRole(t, s, f.a.ID, f.role.ID), f.role)
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetAPIKeyByHash(ctx, f.key.Hash)
		if err != nil || got.ID != f.key.ID {
			t.Errorf("GetAPIKeyByHash after refused duplicates = %v, %v; want %s", got, err, f.key.ID)
		}
		return nil
	})
}

func testErrReferenced(t *testing.T, s keyhub.Store) {
	f := newErrFixture(t, s)
	unknownRole := keyhub.NewID(keyhub.PrefixRole, f.now)
	unknownTenant := keyhub.NewID(keyhub.PrefixTenant, f.now)
	withUnknownRole := newKey(f.a.ID, f.now)
	withUnknownRole.RoleID = unknownRole
	ofUnknownTenant := newKey(unknownTenant, f.now)
	updatedToUnknownRole := *f.plain
	updatedToUnknownRole.RoleID = unknownRole
	// A revoked member still holds the role: keys are never deleted.
	revokedMember := newKey(f.a.ID, f.now)
	revokedRole := createRole(t, s, f.a.ID, f.now)
	revokedMember.RoleID, revokedMember.RevokedAt, revokedMember.Enabled = revokedRole.ID, ptr(f.now), false
	createKey(t, s, revokedMember)
	cases := []errCase{
		{"CreateAPIKeyWithUnknownRole", true, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, withUnknownRole) }},
		{"CreateAPIKeyOfUnknownTenant", true, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, ofUnknownTenant) }},
		{"UpdateAPIKeyToUnknownRole", true, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, &updatedToUnknownRole) }},
		{"DeleteRoleWithKeys", true, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, f.a.ID, f.role.ID) }},
		{"DeleteRoleWithRevokedKeys", true, func(tx keyhub.Tx) error { return tx.DeleteRole(ctx, f.a.ID, revokedRole.ID) }},
		{"CreateRoleOfUnknownTenant", true, func(tx keyhub.Tx) error { return tx.CreateRole(ctx, newRole(unknownTenant, f.now)) }},
		{"CreateClientOfUnknownTenant", true, func(tx keyhub.Tx) error {
			return tx.CreateClient(ctx, newClient(unknownTenant, f.now))
		}},
	}
	runErrCases(t, s, keyhub.ErrReferenced, f.values(unknownRole, unknownTenant, revokedRole.ID), cases)
	checkRole(t, getRole(t, s, f.a.ID, f.role.ID), f.role)
	checkKey(t, getKey(t, s, f.a.ID, f.plain.ID), f.plain)
}

func testErrCredits(t *testing.T, s keyhub.Store) {
	f := newErrFixture(t, s)
	negative := newKey(f.a.ID, f.now)
	negative.Credits = &keyhub.Credits{Remaining: -1}
	updatedNegative := *f.key
	updatedNegative.Credits = &keyhub.Credits{Remaining: -1}
	runErrCases(t, s, keyhub.ErrNoCredits, f.values(), []errCase{
		{"SpendWithoutCredits", true, func(tx keyhub.Tx) error {
			_, _, err := tx.SpendCredits(ctx, f.plain.ID, 1, time.Time{})
			return err
		}},
		{"SpendWithoutCreditsOperatorKey", true, func(tx keyhub.Tx) error {
			_, _, err := tx.SpendCredits(ctx, f.op.ID, 1, time.Time{})
			return err
		}},
		{"AddWithoutCredits", true, func(tx keyhub.Tx) error {
			_, err := tx.AddCredits(ctx, f.a.ID, f.plain.ID, 5)
			return err
		}},
	})
	runErrCases(t, s, keyhub.ErrBelowZero, f.values(), []errCase{
		{"AddBelowZero", true, func(tx keyhub.Tx) error {
			_, err := tx.AddCredits(ctx, f.a.ID, f.key.ID, -11)
			return err
		}},
		{"AddMostNegative", true, func(tx keyhub.Tx) error {
			_, err := tx.AddCredits(ctx, f.a.ID, f.key.ID, math.MinInt64)
			return err
		}},
		{"CreateWithNegativeBalance", true, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, negative) }},
		{"UpdateToNegativeBalance", true, func(tx keyhub.Tx) error { return tx.UpdateAPIKey(ctx, &updatedNegative) }},
	})
	checkKey(t, getKey(t, s, f.a.ID, f.key.ID), f.key)
	checkKey(t, getKey(t, s, f.a.ID, f.plain.ID), f.plain)
}

// testErrOutOfRange: sums past int64 are refused, not wrapped around or
// turned into floating point, and change nothing.
func testErrOutOfRange(t *testing.T, s keyhub.Store) {
	f := newErrFixture(t, s)
	hour := f.now.Truncate(time.Hour)
	countOf := func(code string, n int64) keyhub.UsageCount {
		return keyhub.UsageCount{KeyID: f.key.ID, TenantID: f.a.ID, Hour: hour, Code: code, Count: n}
	}
	count := func(n int64) keyhub.UsageCount { return countOf("VALID", n) }
	addUsage(t, s, count(math.MaxInt64-1))
	runErrCases(t, s, keyhub.ErrOutOfRange, f.values(), []errCase{
		{"AddCreditsPastMax", true, func(tx keyhub.Tx) error {
			_, err := tx.AddCredits(ctx, f.a.ID, f.key.ID, math.MaxInt64)
			return err
		}},
		{"AddUsagePastMaxAcrossBatches", true, func(tx keyhub.Tx) error { return tx.AddUsage(ctx, []keyhub.UsageCount{count(2)}) }},
		{"AddUsagePastMaxInOneBatch", true, func(tx keyhub.Tx) error {
			return tx.AddUsage(ctx, []keyhub.UsageCount{countOf("DENIED", 1), countOf("DENIED", math.MaxInt64)})
		}},
	})
	checkKey(t, getKey(t, s, f.a.ID, f.key.ID), f.key)
	got, err := listUsage(t, s, f.a.ID, f.key.ID, hour, hour.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListUsage: %v", err)
	}
	checkUsage(t, hour, got, count(math.MaxInt64-1))
	// Right up to the maximum is fine.
	addUsage(t, s, count(1))
	if got, _ := listUsage(t, s, f.a.ID, f.key.ID, hour, hour.Add(time.Hour)); len(got) != 1 || got[0].Count != math.MaxInt64 {
		t.Errorf("usage after adding up to the maximum = %+v, want %d", got, int64(math.MaxInt64))
	}
}

// testErrLeaveTxUsable: the failures a caller may meet in the normal course
// of things (not found, taken, a role in use, no credits, below zero) leave
// the transaction usable, as a failed statement does in SQLite; PostgreSQL
// keeps them from aborting its transaction. ErrReferenced from a write that
// names a missing object, ErrOutOfRange and ErrUnstorableText may abort a
// PostgreSQL transaction: callers return those.
func testErrLeaveTxUsable(t *testing.T, s keyhub.Store) {
	f := newErrFixture(t, s)
	later := newTenant(at(f.now, 1))
	dupKey := newKey(f.b.ID, f.now)
	dupKey.Hash = f.key.Hash
	dupTenant := newTenant(f.now)
	dupTenant.ID = f.a.ID
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		steps := []struct {
			name string
			err  error
			want *keyhub.Error
		}{
			{"CreateTenant twice", tx.CreateTenant(ctx, dupTenant), keyhub.ErrExists},
			{"CreateAPIKey same hash", tx.CreateAPIKey(ctx, dupKey), keyhub.ErrExists},
			{"CreateScope twice", tx.CreateScope(ctx, f.scope), keyhub.ErrExists},
			{"DeleteRole with keys", tx.DeleteRole(ctx, f.a.ID, f.role.ID), keyhub.ErrReferenced},
			{"GetTenant unknown", errOf(tx.GetTenant(ctx, later.ID)), keyhub.ErrNotFound},
			{"SpendCredits without credits", errOf3(tx.SpendCredits(ctx, f.plain.ID, 1, time.Time{})), keyhub.ErrNoCredits},
			{"AddCredits below zero", errOf(tx.AddCredits(ctx, f.a.ID, f.key.ID, -100)), keyhub.ErrBelowZero},
		}
		for _, st := range steps {
			wantErr(t, st.name, st.err, st.want)
		}
		if _, err := tx.GetRole(ctx, f.a.ID, f.role.ID); err != nil {
			t.Errorf("GetRole after the failures: %v", err)
		}
		return tx.CreateTenant(ctx, later)
	})
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.GetTenant(ctx, later.ID)
		if err != nil {
			t.Fatalf("tenant created after the failures was not committed: %v", err)
		}
		checkTenant(t, got, later)
		return nil
	})
}

func errOf[T any](_ T, err error) error { return err }

func errOf3[A, B any](_ A, _ B, err error) error { return err }
