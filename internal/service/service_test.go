package service_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

type fixture struct {
	svc    *service.Service
	auth   *authn.Service
	clk    *apitest.Clock
	op     *keyhub.Caller
	tenant string
}

func newFixture(t *testing.T, opts ...service.Option) *fixture {
	t.Helper()
	c := apitest.NewCore(t, apitest.CoreOptions{Start: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC), Manage: opts})
	return &fixture{svc: c.Manage, auth: c.Auth, clk: c.Clock, op: c.Op, tenant: c.Tenant}
}

func (f *fixture) verify(t *testing.T, key string, scopes ...string) verify.Code {
	t.Helper()
	r, err := f.auth.VerifyKey(context.Background(), f.op, authn.VerifyRequest{Key: key, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return r.Code
}

func TestExpiryWithClock(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	exp := service.Time{Time: f.clk.Now().Add(time.Hour)}
	k, key, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k", ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, key); c != verify.Valid {
		t.Fatalf("before expiry: %s", c)
	}
	f.clk.Add(time.Hour - time.Microsecond)
	if c := f.verify(t, key); c != verify.Valid {
		t.Fatalf("a microsecond before expiry: %s", c)
	}
	f.clk.Add(time.Microsecond)
	if c := f.verify(t, key); c != verify.Expired {
		t.Fatalf("at expiry: %s", c)
	}
	p, err := f.svc.ListKeys(ctx, f.op, service.KeyQuery{State: "expired", PageRequest: service.PageRequest{Limit: 10}})
	ks := p.Items
	if err != nil || len(ks) != 1 || ks[0].ID != k.ID {
		t.Fatalf("list expired: %v %v", ks, err)
	}
	// Disabled outranks expired; revoked outranks both.
	if _, err := f.svc.UpdateKey(ctx, f.op, k.ID, service.KeyPatch{Enabled: service.Some(ptr(false))}); err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, key); c != verify.Disabled {
		t.Fatalf("disabled and expired: %s", c)
	}
	if _, err := f.svc.RevokeKey(ctx, f.op, k.ID); err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, key); c != verify.Revoked {
		t.Fatalf("revoked, disabled and expired: %s", c)
	}
	// An expired key no longer authenticates management calls.
	if _, err := f.auth.Authenticate(ctx, key, netip.Addr{}); !keyhub.IsKind(err, keyhub.KindUnauthorized) {
		t.Fatalf("expired key authenticated: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestScopeCatalogue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	create := func(scopes ...string) error {
		_, _, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k", Scopes: scopes})
		return err
	}
	if err := create("anything:goes"); err != nil {
		t.Fatalf("empty catalogue must accept any well-formed scope: %v", err)
	}
	for _, s := range []string{"payouts:write", "experiments:read"} {
		if _, err := f.svc.CreateScope(ctx, f.op, service.ScopeCreate{Name: s}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CreateScope(ctx, f.op, service.ScopeCreate{Name: "payouts:write"}); !keyhub.IsKind(err, keyhub.KindConflict) {
		t.Fatalf("duplicate scope: %v", err)
	}
	tests := []struct {
		name   string
		scopes []string
		ok     bool
	}{
		{"OK", []string{"payouts:write"}, true},
		{"OKWildcardOverEntry", []string{"experiments:*"}, true},
		{"OKManagementScope", []string{"read:api_keys"}, true},
		{"OKStar", []string{"*"}, true},
		{"ErrNotInCatalogue", []string{"payouts:write", "refunds:write"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := create(tt.scopes...)
			if tt.ok != (err == nil) {
				t.Fatalf("got %v", err)
			}
			if !tt.ok {
				e := err.(*keyhub.Error)
				if e.Kind != keyhub.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "scopes[1]" {
					t.Fatalf("error %+v", e)
				}
			}
		})
	}
	// Roles are held to the catalogue too.
	if _, err := f.svc.CreateRole(ctx, f.op, service.RoleCreate{Name: "r", Scopes: []string{"nope:x"}}); !keyhub.IsKind(err, keyhub.KindInvalid) {
		t.Fatalf("role outside catalogue: %v", err)
	}
}

func TestNoEscalation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, mgrKey, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "mgr", Scopes: []string{"create:api_keys", "update:api_keys", "manage:roles", "labs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.auth.Authenticate(ctx, mgrKey, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	mgr := &keyhub.Caller{Principal: p, TenantID: p.TenantID}
	wide, _, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "wide", Scopes: []string{"*"}, Enabled: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		do    func() error
		scope string
	}{
		{"ErrCreateKeyWider", func() error {
			_, _, err := f.svc.CreateKey(ctx, mgr, service.KeyCreate{Name: "x", Scopes: []string{"labs:*"}})
			return err
		}, "labs:*"},
		{"ErrCreateRoleWider", func() error {
			_, err := f.svc.CreateRole(ctx, mgr, service.RoleCreate{Name: "r", Scopes: []string{"labs:write"}})
			return err
		}, "labs:write"},
		{"ErrEnableWiderKey", func() error {
			_, err := f.svc.UpdateKey(ctx, mgr, wide.ID, service.KeyPatch{Enabled: service.Some(ptr(true))})
			return err
		}, "*"},
		{"ErrGrantTenantManagement", func() error {
			_, _, err := f.svc.CreateKey(ctx, mgr, service.KeyCreate{Name: "x", Scopes: []string{"manage:tenants"}})
			return err
		}, "manage:tenants"},
		{"OK", func() error {
			_, _, err := f.svc.CreateKey(ctx, mgr, service.KeyCreate{Name: "x", Scopes: []string{"labs:read"}})
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if tt.scope == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := err.(*keyhub.Error)
			if !ok || e.Kind != keyhub.KindForbidden || e.Extra["scope"] != tt.scope {
				t.Fatalf("got %v, want 403 naming %q", err, tt.scope)
			}
		})
	}
}

func TestRoleChangeReachesMembers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := f.svc.CreateRole(ctx, f.op, service.RoleCreate{Name: "reader", Scopes: []string{"labs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k", RoleID: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, key, "labs:read"); c != verify.Valid {
		t.Fatalf("role scope: %s", c)
	}
	if _, err := f.svc.UpdateRole(ctx, f.op, r.ID, service.RolePatch{Scopes: service.Some([]string{"labs:write"})}); err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, key, "labs:read"); c != verify.InsufficientScope {
		t.Fatalf("after role change: %s", c)
	}
	if c := f.verify(t, key, "labs:write"); c != verify.Valid {
		t.Fatalf("new role scope: %s", c)
	}
}

func TestAuditDiffsAreSecretFree(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k, key, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateKey(ctx, f.op, k.ID, service.KeyPatch{Name: service.Some("renamed")}); err != nil {
		t.Fatal(err)
	}
	page, err := f.svc.ListAuditEvents(ctx, f.op, service.AuditQuery{TargetID: k.ID, PageRequest: service.PageRequest{Limit: 10}})
	evs := page.Items
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %v %v", evs, err)
	}
	upd := string(evs[0].Diff)
	if upd != `{"name":{"from":"k","to":"renamed"}}` {
		t.Fatalf("update diff %s", upd)
	}
	for _, e := range evs {
		if contains(string(e.Diff), key) || contains(string(e.Diff), "hash") {
			t.Fatalf("diff holds secret material: %s", e.Diff)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || index(s, sub) >= 0)
}

func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
