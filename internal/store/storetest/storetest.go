// Package storetest is the conformance suite every keyhub.Store
// implementation runs, so that SQLite and PostgreSQL behave alike in every
// way the services depend on.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

// Run runs the conformance suite against the store open returns. open is
// called once per subtest and must return a fresh, empty, migrated store;
// it should register its own cleanup (closing the store) with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) keyhub.Store) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Tx", txCases},
		{"Tenants", tenantCases},
		{"Scopes", scopeCases},
		{"Roles", roleCases},
		{"APIKeys", apiKeyCases},
		{"APIKeyList", apiKeyListCases},
		{"Audit", auditCases},
		{"APIKeyLimits", keyLimitCases},
		{"Credits", creditCases},
		{"Touch", touchCases},
		{"Usage", usageCases},
		{"Clients", clientCases},
		{"SigningKeys", signingKeyCases},
		{"RevokedTokens", revokedTokenCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, open(t))
				})
			}
		})
	}
}

// testCase is one behaviour checked against a fresh store.
type testCase struct {
	name string
	fn   func(t *testing.T, s keyhub.Store)
}

// baseTime is the clock of the suite: truncated to microseconds and in UTC,
// as the services hand times to the store.
func baseTime() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// at returns base shifted by i milliseconds, so that ids created at
// successive instants sort in creation order.
func at(base time.Time, i int) time.Time {
	return base.Add(time.Duration(i) * time.Millisecond)
}

func ptr(t time.Time) *time.Time { return &t }

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func update(t *testing.T, s keyhub.Store, fn func(tx keyhub.Tx) error) error {
	t.Helper()
	return s.Update(context.Background(), fn)
}

func mustUpdate(t *testing.T, s keyhub.Store, fn func(tx keyhub.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustView(t *testing.T, s keyhub.Store, fn func(tx keyhub.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// wantKind fails unless err is a keyhub error of kind k.
func wantKind(t *testing.T, what string, err error, k keyhub.Kind) {
	t.Helper()
	if !keyhub.IsKind(err, k) {
		t.Fatalf("%s: got error %v (kind %q), want kind %q", what, err, keyhub.ErrorKind(err), k)
	}
}

var ctx = context.Background()

// newTenant returns an unsaved tenant created at now.
func newTenant(now time.Time) *keyhub.Tenant {
	return &keyhub.Tenant{
		ID:          keyhub.NewID(keyhub.PrefixTenant, now),
		Name:        "tenant " + now.Format(time.RFC3339Nano),
		KeyPrefixes: keyhub.DefaultKeyPrefixes(),
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

// createTenant saves a new tenant and returns it.
func createTenant(t *testing.T, s keyhub.Store, now time.Time) *keyhub.Tenant {
	t.Helper()
	tn := newTenant(now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateTenant(ctx, tn) })
	return tn
}

// newRole returns an unsaved role of tenantID created at now.
func newRole(tenantID string, now time.Time) *keyhub.Role {
	return &keyhub.Role{
		ID:          keyhub.NewID(keyhub.PrefixRole, now),
		TenantID:    tenantID,
		Name:        "role " + now.Format(time.RFC3339Nano),
		Description: "a role",
		Scopes:      []string{"payouts:write", "experiments:*"},
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

func createRole(t *testing.T, s keyhub.Store, tenantID string, now time.Time) *keyhub.Role {
	t.Helper()
	r := newRole(tenantID, now)
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateRole(ctx, r) })
	return r
}

// newKey returns an unsaved, active key of tenantID ("" for an operator key)
// with a unique hash.
func newKey(tenantID string, now time.Time) *keyhub.APIKey {
	id := keyhub.NewID(keyhub.PrefixAPIKey, now)
	return &keyhub.APIKey{
		ID:          id,
		TenantID:    tenantID,
		Name:        "key " + id,
		Environment: "live",
		Start:       "kh_live_AbCd",
		Hash:        hashOf("secret of " + id),
		Scopes:      []string{"payouts:write"},
		IPs:         []string{"10.0.0.0/8", "2001:db8::/32"},
		Meta:        json.RawMessage(`{"plan":"pro","n":1}`),
		Enabled:     true,
		Creator:     keyhub.Actor{Type: "operator", ID: "key_creator"},
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

func createKey(t *testing.T, s keyhub.Store, k *keyhub.APIKey) *keyhub.APIKey {
	t.Helper()
	mustUpdate(t, s, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, k) })
	return k
}

// checkTime fails unless got is want to the microsecond and in UTC.
func checkTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", field, got.Location())
	}
}

func checkTimePtr(t *testing.T, field string, got, want *time.Time) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %v, want nil", field, *got)
	case want != nil && got == nil:
		t.Errorf("%s = nil, want %v", field, *want)
	case want != nil:
		checkTime(t, field, *got, *want)
	}
}

// checkJSON fails unless got and want hold the same JSON value; stores may
// normalize whitespace and key order (PostgreSQL jsonb does).
func checkJSON(t *testing.T, field string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s = %q: not JSON: %v", field, got, err)
		return
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: bad wanted JSON %q: %v", field, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", field, got, want)
	}
}

// checkStrings fails unless got equals want and is not nil: callers encode
// lists to JSON, and a nil slice would become null rather than [].
func checkStrings(t *testing.T, field string, got, want []string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want non-nil %q", field, want)
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", field, got, want)
	}
}

func checkTenant(t *testing.T, got, want *keyhub.Tenant) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name {
		t.Errorf("tenant = {%q %q}, want {%q %q}", got.ID, got.Name, want.ID, want.Name)
	}
	if !reflect.DeepEqual(got.KeyPrefixes, want.KeyPrefixes) {
		t.Errorf("KeyPrefixes = %v, want %v", got.KeyPrefixes, want.KeyPrefixes)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkRole(t *testing.T, got, want *keyhub.Role) {
	t.Helper()
	if got.ID != want.ID || got.TenantID != want.TenantID || got.Name != want.Name || got.Description != want.Description {
		t.Errorf("role = {%q %q %q %q}, want {%q %q %q %q}",
			got.ID, got.TenantID, got.Name, got.Description, want.ID, want.TenantID, want.Name, want.Description)
	}
	checkStrings(t, "Scopes", got.Scopes, nonNil(want.Scopes))
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkKey(t *testing.T, got, want *keyhub.APIKey) {
	t.Helper()
	type plain struct {
		ID, TenantID, Name, Environment, Start, RoleID string
		Enabled                                        bool
		Creator                                        keyhub.Actor
	}
	g := plain{got.ID, got.TenantID, got.Name, got.Environment, got.Start, got.RoleID, got.Enabled, got.Creator}
	w := plain{want.ID, want.TenantID, want.Name, want.Environment, want.Start, want.RoleID, want.Enabled, want.Creator}
	if g != w {
		t.Errorf("key = %+v, want %+v", g, w)
	}
	if !bytes.Equal(got.Hash, want.Hash) {
		t.Errorf("Hash differs from the one stored")
	}
	checkStrings(t, "Scopes", got.Scopes, nonNil(want.Scopes))
	checkStrings(t, "IPs", got.IPs, nonNil(want.IPs))
	wantMeta := want.Meta
	if len(wantMeta) == 0 {
		wantMeta = json.RawMessage(`{}`)
	}
	checkJSON(t, "Meta", got.Meta, wantMeta)
	checkTimePtr(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTimePtr(t, "RevokedAt", got.RevokedAt, want.RevokedAt)
	checkTimePtr(t, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	checkRateLimit(t, got.RateLimit, want.RateLimit)
	checkCredits(t, got.Credits, want.Credits)
	if got.RotatedFrom != want.RotatedFrom || got.ReplacedBy != want.ReplacedBy {
		t.Errorf("RotatedFrom, ReplacedBy = %q, %q; want %q, %q", got.RotatedFrom, got.ReplacedBy, want.RotatedFrom, want.ReplacedBy)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkRateLimit(t *testing.T, got, want *keyhub.RateLimit) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("RateLimit = %+v, want nil", *got)
	case want != nil && got == nil:
		t.Errorf("RateLimit = nil, want %+v", *want)
	case want != nil && *got != *want:
		t.Errorf("RateLimit = %+v, want %+v", *got, *want)
	}
}

// checkCredits compares credits; nil means the key has none, which differs
// from a zero balance.
func checkCredits(t *testing.T, got, want *keyhub.Credits) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("Credits = %+v, want nil", *got)
		return
	case want != nil && got == nil:
		t.Errorf("Credits = nil, want %+v", *want)
		return
	case want == nil:
		return
	}
	if got.Remaining != want.Remaining {
		t.Errorf("Credits.Remaining = %d, want %d", got.Remaining, want.Remaining)
	}
	switch {
	case want.Refill == nil && got.Refill != nil:
		t.Errorf("Credits.Refill = %+v, want nil", *got.Refill)
	case want.Refill != nil && got.Refill == nil:
		t.Errorf("Credits.Refill = nil, want %+v", *want.Refill)
	case want.Refill != nil && *got.Refill != *want.Refill:
		t.Errorf("Credits.Refill = %+v, want %+v", *got.Refill, *want.Refill)
	}
	checkTimePtr(t, "Credits.RefilledAt", got.RefilledAt, want.RefilledAt)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ids returns the ids of a list, in order, via id.
func ids[T any](list []T, id func(T) string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}

// newestFirst returns a sorted copy of ids in list order: id descending.
func newestFirst(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

func checkIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %s, want %s", what, short(got), short(want))
	}
}

// short renders ids compactly for failure messages.
func short(ids []string) string {
	return fmt.Sprintf("[%s]", strings.Join(ids, " "))
}
