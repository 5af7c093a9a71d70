package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var portalSessionCases = []testCase{
	{"CreateGetRoundTripsEveryField", testSessionRoundTrip},
	{"EmptyValuesRoundTrip", testSessionEmptyValues},
	{"DuplicateIDOrHashConflict", testSessionDuplicate},
	{"UpdateWritesLastSeenAndActingTenant", testSessionUpdate},
	{"DeleteRemovesOne", testSessionDelete},
	{"DeleteSubjectSessionsOnlyThatSubjectsInTenant", testSessionDeleteSubject},
	{"PurgeRemovesEnded", testSessionPurge},
}

var portalTokenCases = []testCase{
	{"CreateUseRoundTripsEveryField", testTokenRoundTrip},
	{"UseTwiceNotFound", testTokenUseTwice},
	{"ConcurrentUseOnlyOnce", testTokenConcurrentUse},
	{"DuplicateHashConflict", testTokenDuplicate},
	{"CountPerEmailSince", testTokenCount},
	{"PurgeRemovesExpired", testTokenPurge},
}

func newSession(tenantID, subjectID string, now time.Time) *keyhub.PortalSession {
	id := keyhub.NewID(keyhub.PrefixSession, now)
	return &keyhub.PortalSession{
		ID: id, Hash: hashOf("session " + id), Kind: keyhub.PortalMagicLink,
		Subject: keyhub.Actor{Type: "member", ID: subjectID}, TenantID: tenantID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour),
	}
}

func createSession(t *testing.T, s keyhub.Store, ps *keyhub.PortalSession) *keyhub.PortalSession {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreatePortalSession(ctx, ps) })
	return ps
}

func getSession(t *testing.T, s keyhub.Store, hash []byte) (*keyhub.PortalSession, error) {
	t.Helper()
	var ps *keyhub.PortalSession
	err := s.View(ctx, func(tx keyhub.Tx) (err error) {
		ps, err = tx.GetPortalSession(ctx, hash)
		return err
	})
	return ps, err
}

func checkSession(t *testing.T, got, want *keyhub.PortalSession) {
	t.Helper()
	type plain struct {
		ID, Kind, TenantID, ActingTenantID, ReturnURL string
		Subject                                       keyhub.Actor
	}
	g := plain{got.ID, got.Kind, got.TenantID, got.ActingTenantID, got.ReturnURL, got.Subject}
	w := plain{want.ID, want.Kind, want.TenantID, want.ActingTenantID, want.ReturnURL, want.Subject}
	if g != w {
		t.Errorf("session = %+v, want %+v", g, w)
	}
	if !bytes.Equal(got.Hash, want.Hash) || !bytes.Equal(got.KeyHash, want.KeyHash) {
		t.Errorf("session digests differ from those stored")
	}
	checkStrings(t, "Scopes", got.Scopes, nonNil(want.Scopes))
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "LastSeenAt", got.LastSeenAt, want.LastSeenAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func mustGetSession(t *testing.T, s keyhub.Store, want *keyhub.PortalSession) {
	t.Helper()
	got, err := getSession(t, s, want.Hash)
	if err != nil {
		t.Fatalf("GetPortalSession: %v", err)
	}
	checkSession(t, got, want)
}

func testSessionRoundTrip(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	ps := newSession(a.ID, "mem_x", now)
	ps.Kind = keyhub.PortalHandoff
	ps.Scopes = []string{"read:api_keys", "payouts:*"}
	ps.ReturnURL = "https://platform.example/settings?x=1"
	ps.LastSeenAt = at(now, 3).Add(9 * time.Microsecond)
	createSession(t, s, ps)
	mustGetSession(t, s, ps)

	op := newSession("", "key_op", at(now, 1))
	op.Kind, op.Subject.Type, op.KeyHash, op.ActingTenantID = keyhub.PortalCredential, "operator", hashOf("kh_op_x"), b.ID
	createSession(t, s, op)
	mustGetSession(t, s, op)
}

func testSessionEmptyValues(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	ps := newSession(a.ID, "mem_y", now)
	ps.Scopes = nil
	createSession(t, s, ps)
	got, err := getSession(t, s, ps.Hash)
	if err != nil {
		t.Fatalf("GetPortalSession: %v", err)
	}
	checkSession(t, got, ps)
	if len(got.KeyHash) != 0 {
		t.Errorf("absent KeyHash came back set")
	}
	_, err = getSession(t, s, hashOf("no such session"))
	wantErr(t, "GetPortalSession unknown", err, keyhub.ErrNotFound)
}

func testSessionDuplicate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	ps := createSession(t, s, newSession(a.ID, "mem_x", now))
	sameID := newSession(a.ID, "mem_x", at(now, 1))
	sameID.ID = ps.ID
	sameHash := newSession(a.ID, "mem_x", at(now, 2))
	sameHash.Hash = ps.Hash
	for name, dup := range map[string]*keyhub.PortalSession{"id": sameID, "hash": sameHash} {
		err := update(t, s, func(tx keyhub.Tx) error { return tx.CreatePortalSession(ctx, dup) })
		wantErr(t, "CreatePortalSession with a taken "+name, err, keyhub.ErrExists)
	}
	mustGetSession(t, s, ps)
}

func testSessionUpdate(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	ps := createSession(t, s, newSession(a.ID, "mem_x", now))
	changed := *ps
	changed.LastSeenAt, changed.ActingTenantID = at(now, 60_000), b.ID
	// Only LastSeenAt and ActingTenantID are written.
	changed.Scopes, changed.ReturnURL, changed.ExpiresAt = []string{"*"}, "https://evil.example", at(now, 1e9)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdatePortalSession(ctx, &changed) })
	want := *ps
	want.LastSeenAt, want.ActingTenantID = changed.LastSeenAt, b.ID
	mustGetSession(t, s, &want)
	want.ActingTenantID = ""
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.UpdatePortalSession(ctx, &want) })
	mustGetSession(t, s, &want)
	gone := newSession(a.ID, "mem_x", at(now, 1))
	err := update(t, s, func(tx keyhub.Tx) error { return tx.UpdatePortalSession(ctx, gone) })
	wantErr(t, "UpdatePortalSession unknown", err, keyhub.ErrNotFound)
}

func testSessionDelete(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	ps := createSession(t, s, newSession(a.ID, "mem_x", now))
	keep := createSession(t, s, newSession(a.ID, "mem_x", at(now, 1)))
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeletePortalSession(ctx, ps.ID) })
	_, err := getSession(t, s, ps.Hash)
	wantErr(t, "GetPortalSession after delete", err, keyhub.ErrNotFound)
	mustGetSession(t, s, keep)
	err = update(t, s, func(tx keyhub.Tx) error { return tx.DeletePortalSession(ctx, ps.ID) })
	wantErr(t, "DeletePortalSession twice", err, keyhub.ErrNotFound)
}

func testSessionDeleteSubject(t *testing.T, s keyhub.Store) {
	a, b, now := twoTenants(t, s)
	gone := []*keyhub.PortalSession{
		createSession(t, s, newSession(a.ID, "mem_1", now)),
		createSession(t, s, newSession(a.ID, "mem_1", at(now, 1))),
	}
	kept := []*keyhub.PortalSession{
		createSession(t, s, newSession(a.ID, "mem_2", at(now, 2))),
		createSession(t, s, newSession(b.ID, "mem_1", at(now, 3))), // same id, other tenant
		createSession(t, s, newSession("", "mem_1", at(now, 4))),
	}
	var n int
	mustUpdate(t, s, func(tx keyhub.Tx) (err error) {
		n, err = tx.DeleteSubjectSessions(ctx, a.ID, "mem_1")
		return err
	})
	if n != 2 {
		t.Errorf("DeleteSubjectSessions = %d, want 2", n)
	}
	for _, ps := range gone {
		_, err := getSession(t, s, ps.Hash)
		wantErr(t, "GetPortalSession of a deleted subject", err, keyhub.ErrNotFound)
	}
	for _, ps := range kept {
		mustGetSession(t, s, ps)
	}
	mustUpdate(t, s, func(tx keyhub.Tx) (err error) {
		n, err = tx.DeleteSubjectSessions(ctx, "", "mem_1")
		return err
	})
	if n != 1 {
		t.Errorf("DeleteSubjectSessions of operator sessions = %d, want 1", n)
	}
}

func testSessionPurge(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	ended := newSession(a.ID, "mem_1", now)
	ended.ExpiresAt = now.Add(-time.Second)
	createSession(t, s, ended)
	edge := newSession(a.ID, "mem_1", at(now, 1))
	edge.ExpiresAt = now
	createSession(t, s, edge)
	live := createSession(t, s, newSession(a.ID, "mem_1", at(now, 2)))
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.PurgePortalSessions(ctx, now) })
	_, err := getSession(t, s, ended.Hash)
	wantErr(t, "GetPortalSession of a purged session", err, keyhub.ErrNotFound)
	mustGetSession(t, s, edge)
	mustGetSession(t, s, live)
}

func newToken(tenantID, memberID string, now time.Time) *keyhub.PortalToken {
	return &keyhub.PortalToken{
		Hash: hashOf("token " + keyhub.NewID("tok_", now)), Kind: keyhub.PortalMagicLink, TenantID: tenantID,
		MemberID: memberID, Email: "ada@example.com", CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute),
	}
}

func createToken(t *testing.T, s keyhub.Store, pt *keyhub.PortalToken) *keyhub.PortalToken {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreatePortalToken(ctx, pt) })
	return pt
}

func useToken(t *testing.T, s keyhub.Store, hash []byte, now time.Time) (*keyhub.PortalToken, error) {
	t.Helper()
	var pt *keyhub.PortalToken
	err := s.Update(ctx, func(tx keyhub.Tx) (err error) {
		pt, err = tx.UsePortalToken(ctx, hash, now)
		return err
	})
	return pt, err
}

func checkToken(t *testing.T, got, want *keyhub.PortalToken) {
	t.Helper()
	type plain struct{ Kind, TenantID, MemberID, Email, ReturnURL string }
	g := plain{got.Kind, got.TenantID, got.MemberID, got.Email, got.ReturnURL}
	w := plain{want.Kind, want.TenantID, want.MemberID, want.Email, want.ReturnURL}
	if g != w || !bytes.Equal(got.Hash, want.Hash) {
		t.Errorf("token = %+v, want %+v", g, w)
	}
	checkStrings(t, "Scopes", got.Scopes, nonNil(want.Scopes))
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTimePtr(t, "UsedAt", got.UsedAt, want.UsedAt)
}

func testTokenRoundTrip(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	pt := newToken(a.ID, "mem_1", now)
	pt.Kind, pt.Scopes, pt.ReturnURL, pt.Email = keyhub.PortalHandoff, []string{"read:audit", "x:*"}, "https://p.example/back", ""
	createToken(t, s, pt)
	used := at(now, 5).Add(3 * time.Microsecond)
	got, err := useToken(t, s, pt.Hash, used)
	if err != nil {
		t.Fatalf("UsePortalToken: %v", err)
	}
	want := *pt
	want.UsedAt = &used
	checkToken(t, got, &want)
}

func testTokenUseTwice(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	pt := createToken(t, s, newToken(a.ID, "mem_1", now))
	if _, err := useToken(t, s, pt.Hash, now); err != nil {
		t.Fatalf("UsePortalToken: %v", err)
	}
	_, err := useToken(t, s, pt.Hash, at(now, 1))
	wantErr(t, "UsePortalToken twice", err, keyhub.ErrNotFound)
	_, err = useToken(t, s, hashOf("never made"), now)
	wantErr(t, "UsePortalToken unknown", err, keyhub.ErrNotFound)
	// A token created already used cannot be used either.
	spent := newToken(a.ID, "mem_1", at(now, 2))
	spent.UsedAt = ptr(now)
	createToken(t, s, spent)
	_, err = useToken(t, s, spent.Hash, at(now, 3))
	wantErr(t, "UsePortalToken of a used token", err, keyhub.ErrNotFound)
}

// testTokenConcurrentUse: of many transactions using one token at once,
// exactly one gets it.
func testTokenConcurrentUse(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	pt := createToken(t, s, newToken(a.ID, "mem_1", now))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx keyhub.Tx) error {
				_, err := tx.UsePortalToken(ctx, pt.Hash, at(now, i))
				return err
			})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, keyhub.ErrNotFound):
			t.Errorf("UsePortalToken raced: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent uses succeeded, want 1", ok, n)
	}
}

func testTokenDuplicate(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	pt := createToken(t, s, newToken(a.ID, "mem_1", now))
	dup := newToken(a.ID, "mem_2", at(now, 1))
	dup.Hash = pt.Hash
	err := update(t, s, func(tx keyhub.Tx) error { return tx.CreatePortalToken(ctx, dup) })
	wantErr(t, "CreatePortalToken with a taken hash", err, keyhub.ErrExists)
}

func testTokenCount(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	for i, email := range []string{"ada@example.com", "ada@example.com", "ada@example.com", "bob@example.com"} {
		pt := newToken(a.ID, "mem_1", at(now, i*1000))
		pt.Email = email
		createToken(t, s, pt)
	}
	// Used tokens count too: the throttle counts links sent.
	first := newToken(a.ID, "mem_1", at(now, -1))
	createToken(t, s, first)
	if _, err := useToken(t, s, first.Hash, now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email string
		since time.Time
		want  int
	}{
		{"ada@example.com", at(now, -1), 4},
		{"ada@example.com", now, 3},
		{"ada@example.com", at(now, 1000), 2}, // inclusive
		{"ada@example.com", at(now, 2001), 0},
		{"bob@example.com", at(now, -1), 1},
		{"ADA@example.com", at(now, -1), 0},
	} {
		mustView(t, s, func(tx keyhub.Tx) error {
			n, err := tx.CountPortalTokens(ctx, tc.email, tc.since)
			if err != nil {
				t.Fatalf("CountPortalTokens: %v", err)
			}
			if n != tc.want {
				t.Errorf("CountPortalTokens(%s, %v) = %d, want %d", tc.email, tc.since.Sub(now), n, tc.want)
			}
			return nil
		})
	}
}

func testTokenPurge(t *testing.T, s keyhub.Store) {
	a, _, now := twoTenants(t, s)
	old := newToken(a.ID, "mem_1", now.Add(-time.Hour))
	old.ExpiresAt = now.Add(-time.Minute)
	createToken(t, s, old)
	live := createToken(t, s, newToken(a.ID, "mem_1", now))
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.PurgePortalTokens(ctx, now) })
	_, err := useToken(t, s, old.Hash, now)
	wantErr(t, "UsePortalToken of a purged token", err, keyhub.ErrNotFound)
	if _, err := useToken(t, s, live.Hash, now); err != nil {
		t.Errorf("UsePortalToken of a live token after purge: %v", err)
	}
}
