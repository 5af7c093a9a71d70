// Package storetest is the conformance suite every keyhub.Store
// implementation runs, so that SQLite and PostgreSQL behave alike in every
// way the services depend on: the same values read back, the same order,
// and the same store error of the root package for every failure.
//
// Values the suite pins down for both stores:
//   - lists ([]string) and maps come back non-nil, whether nil or empty was
//     written: both hold no elements;
//   - a JSON value (json.RawMessage) comes back as the same JSON value
//     (PostgreSQL may compact it and reorder object keys); a RawMessage
//     without bytes, like JSON null, is null and comes back nil;
//   - times come back in UTC, to the microsecond;
//   - text is stored byte for byte; text a database cannot hold (NUL or
//     invalid UTF-8, or a \u0000 or lone surrogate escape in JSON) is
//     ErrUnstorableText there, and the services refuse it by field first.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

// Backend is what the suite needs of a store implementation.
type Backend struct {
	// NewDatabase creates a fresh, empty database for one test and
	// returns a function that opens a migrated store on it. Each call of
	// that function opens another handle on the same database, as another
	// keyhub node would (SQLite: the same file; PostgreSQL: the same URL).
	// Closing the stores and dropping the database are cleanups NewDatabase
	// registers on t.
	NewDatabase func(t *testing.T) (open func() keyhub.Store)

	// RefusesUnstorableText says the database cannot hold NUL or invalid
	// UTF-8 in text, nor \u0000 or a lone surrogate escape in JSON, and
	// the store must answer ErrUnstorableText for them (PostgreSQL). When
	// false (SQLite), the suite accepts either that error or a faithful
	// round trip.
	RefusesUnstorableText bool
}

// Run runs the conformance suite against b. Every case gets a database of
// its own.
func Run(t *testing.T, b Backend) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Tx", txCases},
		{"Errors", errorCases},
		{"Text", textCases(b.RefusesUnstorableText)},
		{"Tenants", tenantCases},
		{"Scopes", scopeCases},
		{"Roles", roleCases},
		{"APIKeys", apiKeyCases},
		{"SigningKeyKind", signingKeyKindCases},
		{"APIKeyList", apiKeyListCases},
		{"APIKeySort", apiKeySortCases},
		{"Paging", pagingCases},
		{"Audit", auditCases},
		{"APIKeyLimits", keyLimitCases},
		{"Credits", creditCases},
		{"CreditsOutsideTx", creditNowCases},
		{"Touch", touchCases},
		{"Usage", usageCases},
		{"Heartbeat", heartbeatCases},
		{"Clients", clientCases},
		{"SigningKeys", signingKeyCases},
		{"RevokedTokens", revokedTokenCases},
		{"Webhooks", webhookCases},
		{"Idempotency", idempotencyCases},
		{"Members", memberCases},
		{"PortalSessions", portalSessionCases},
		{"PortalTokens", portalTokenCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.cases {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, b.NewDatabase(t)()) })
			}
		})
	}
	t.Run("Nodes", func(t *testing.T) {
		for _, tc := range append(slices.Clone(nodeCases), webhookNodeCases...) {
			t.Run(tc.name, func(t *testing.T) { tc.fn(t, b.NewDatabase(t)) })
		}
	})
}

// testCase is one behaviour checked against a store on a fresh database.
type testCase struct {
	name string
	fn   func(t *testing.T, s keyhub.Store)
}

// nodeCase is one behaviour checked across several stores on a fresh
// database: open opens another.
type nodeCase struct {
	name string
	fn   func(t *testing.T, open func() keyhub.Store)
}

// baseTime is the clock of the suite: truncated to microseconds and in UTC,
// as the services hand times to the store.
func baseTime() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// wholeList is a page large enough for every list of the suite but the
// paging cases: stores take Limit as given and have no default.
var wholeList = keyhub.Page{Limit: 1000}

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

// wantErr fails unless err is the store error want, however wrapped:
// errors.Is matches its kind and code, and the *keyhub.Error that errors.As
// finds is the sentinel itself, so the store worded no message of its own.
func wantErr(t *testing.T, what string, err error, want *keyhub.Error) {
	t.Helper()
	var ke *keyhub.Error
	switch {
	case !errors.Is(err, want):
		t.Errorf("%s: got error %v, want %s (%q)", what, err, want.Code, want.Message)
	case !errors.As(err, &ke) || ke != want:
		t.Errorf("%s: got %q, want the store error %s itself, with no message of its own", what, err, want.Code)
	}
}

// wantBug fails unless err reports a bug of the caller (a page limit below
// 1, an unknown sort field): a plain error, which no service may mistake
// for a store error or a caller's mistake and which answers 500.
func wantBug(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || keyhub.ErrorKind(err) != keyhub.KindInternal {
		t.Errorf("%s: got %v, want a plain (internal) error", what, err)
	}
}

var ctx = context.Background()

// newTenant returns an unsaved tenant created at now.
func newTenant(now time.Time) *keyhub.Tenant {
	return &keyhub.Tenant{
		ID:          keyhub.NewID(keyhub.PrefixTenant, now),
		Name:        "tenant " + now.Format(time.RFC3339Nano),
		KeyPrefixes: keyhub.DefaultKeyPrefixes(),
		LeakPolicy:  keyhub.LeakRevoke,
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
		Creator:     keyhub.Actor{Type: "api_key", ID: "key_role_creator"},
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
		Kind:        keyhub.KeyKindBearer,
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

// checkRaw fails unless got is the JSON value want: nil when want holds no
// value (no bytes, or null), else the same JSON value.
func checkRaw(t *testing.T, field string, got, want json.RawMessage) {
	t.Helper()
	if len(want) == 0 || string(want) == "null" {
		if got != nil {
			t.Errorf("%s = %q, want nil", field, got)
		}
		return
	}
	checkJSON(t, field, got, want)
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
	if got.LeakPolicy != want.LeakPolicy {
		t.Errorf("LeakPolicy = %q, want %q", got.LeakPolicy, want.LeakPolicy)
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
	if got.Creator != want.Creator {
		t.Errorf("role Creator = %+v, want %+v", got.Creator, want.Creator)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkKey(t *testing.T, got, want *keyhub.APIKey) {
	t.Helper()
	type plain struct {
		ID, TenantID, Name, Environment, Start, RoleID string
		Kind                                           keyhub.KeyKind
		Enabled                                        bool
		Creator                                        keyhub.Actor
	}
	g := plain{got.ID, got.TenantID, got.Name, got.Environment, got.Start, got.RoleID, got.Kind, got.Enabled, got.Creator}
	w := plain{want.ID, want.TenantID, want.Name, want.Environment, want.Start, want.RoleID, want.Kind, want.Enabled, want.Creator}
	if g != w {
		t.Errorf("key = %+v, want %+v", g, w)
	}
	if !bytes.Equal(got.Hash, want.Hash) {
		t.Errorf("Hash differs from the one stored")
	}
	if !bytes.Equal(got.SealedSecret, want.SealedSecret) || (got.SealedSecret == nil) != (want.SealedSecret == nil) {
		t.Errorf("SealedSecret = %x, want %x", got.SealedSecret, want.SealedSecret)
	}
	checkStrings(t, "Scopes", got.Scopes, nonNil(want.Scopes))
	checkStrings(t, "IPs", got.IPs, nonNil(want.IPs))
	checkRaw(t, "Meta", got.Meta, want.Meta)
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
