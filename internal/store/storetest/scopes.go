package storetest

import (
	"testing"

	"github.com/keyhub/keyhub"
)

var scopeCases = []testCase{
	{"CreateListOrderedByName", testScopeList},
	{"CreateDuplicateConflict", testScopeDuplicate},
	{"DeleteRemoves", testScopeDelete},
	{"DeleteUnknownNotFound", testScopeDeleteUnknown},
}

func createScopes(t *testing.T, s keyhub.Store, names ...string) []*keyhub.ScopeEntry {
	t.Helper()
	now := baseTime()
	var out []*keyhub.ScopeEntry
	for i, n := range names {
		out = append(out, &keyhub.ScopeEntry{Name: n, Description: "about " + n, CreatedAt: at(now, i)})
	}
	mustUpdate(t, s, func(tx keyhub.Tx) error {
		for _, e := range out {
			if err := tx.CreateScope(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	return out
}

func testScopeList(t *testing.T, s keyhub.Store) {
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListScopes(ctx)
		if err != nil || len(got) != 0 {
			t.Errorf("ListScopes on empty store = %d entries, %v", len(got), err)
		}
		return nil
	})
	created := createScopes(t, s, "payouts:write", "experiments:read", "labs:read", "experiments:*")
	byName := map[string]*keyhub.ScopeEntry{}
	for _, e := range created {
		byName[e.Name] = e
	}
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListScopes(ctx)
		if err != nil {
			t.Fatalf("ListScopes: %v", err)
		}
		names := ids(got, func(e *keyhub.ScopeEntry) string { return e.Name })
		checkIDs(t, "ListScopes", names, []string{"experiments:*", "experiments:read", "labs:read", "payouts:write"})
		for _, e := range got {
			want := byName[e.Name]
			if want == nil {
				continue
			}
			if e.Description != want.Description {
				t.Errorf("%s: Description = %q, want %q", e.Name, e.Description, want.Description)
			}
			checkTime(t, e.Name+" CreatedAt", e.CreatedAt, want.CreatedAt)
		}
		return nil
	})
}

func testScopeDuplicate(t *testing.T, s keyhub.Store) {
	createScopes(t, s, "payouts:write")
	err := update(t, s, func(tx keyhub.Tx) error {
		return tx.CreateScope(ctx, &keyhub.ScopeEntry{Name: "payouts:write", CreatedAt: baseTime()})
	})
	wantErr(t, "CreateScope twice", err, keyhub.ErrExists)
}

func testScopeDelete(t *testing.T, s keyhub.Store) {
	createScopes(t, s, "a:read", "b:read")
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.DeleteScope(ctx, "a:read") })
	mustView(t, s, func(tx keyhub.Tx) error {
		got, err := tx.ListScopes(ctx)
		if err != nil {
			t.Fatalf("ListScopes: %v", err)
		}
		checkIDs(t, "ListScopes", ids(got, func(e *keyhub.ScopeEntry) string { return e.Name }), []string{"b:read"})
		return nil
	})
}

func testScopeDeleteUnknown(t *testing.T, s keyhub.Store) {
	err := update(t, s, func(tx keyhub.Tx) error { return tx.DeleteScope(ctx, "nope:read") })
	wantErr(t, "DeleteScope", err, keyhub.ErrNotFound)
}
