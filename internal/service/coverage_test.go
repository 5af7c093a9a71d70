package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// narrow is a tenant credential holding every management scope of keys,
// roles and clients but only one scope of the platform's.
func (f *fixture) narrow() *keyhub.Caller {
	return &keyhub.Caller{TenantID: f.tenant, Principal: &keyhub.Principal{
		Actor: keyhub.Actor{Type: "api_key", ID: "key_narrow"}, TenantID: f.tenant,
		Scopes: []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys",
			"read:roles", "manage:roles", "read:clients", "manage:clients", "labs:read"},
	}}
}

// snapshot is what a refused change must leave alone: every key, role and
// client of the tenant, and the audit log.
func (f *fixture) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	keys, err := f.svc.ListKeys(ctx, f.op, service.KeyQuery{PageRequest: service.PageRequest{Limit: 200}})
	if err != nil {
		t.Fatal(err)
	}
	roles, err := f.svc.ListRoles(ctx, f.op, service.PageRequest{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := f.svc.ListClients(ctx, f.op, service.PageRequest{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := f.svc.ListAuditEvents(ctx, f.op, service.AuditQuery{PageRequest: service.PageRequest{Limit: 200}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal([]any{keys.Items, roles.Items, clients.Items, len(audit.Items)})
	return string(b)
}

// TestCoverageRule: a credential changes a key, role or client only if its
// scopes cover what the object holds before and after; revoking, disabling
// and deleting a client only take power away and need their own scope. A
// refusal names the first scope not covered and changes nothing.
func TestCoverageRule(t *testing.T) {
	ctx := context.Background()
	type objects struct {
		wideKey, coveredKey, expiredWide *keyhub.APIKey
		wideRole, coveredRole            *keyhub.Role
		wideClient, coveredClient        *keyhub.Client
	}
	setup := func(t *testing.T, f *fixture) objects {
		t.Helper()
		var o objects
		var err error
		if o.wideRole, err = f.svc.CreateRole(ctx, f.op, service.RoleCreate{Name: "admin", Scopes: []string{"read:audit", "labs:read"}}); err != nil {
			t.Fatal(err)
		}
		if o.coveredRole, err = f.svc.CreateRole(ctx, f.op, service.RoleCreate{Name: "lab", Scopes: []string{"labs:read"}}); err != nil {
			t.Fatal(err)
		}
		if o.wideKey, _, err = f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "wide", Scopes: []string{"labs:read", "payouts:write"},
			IPs: []string{"10.0.0.0/8"}, RateLimit: &service.RateLimitInput{Limit: 5, Duration: "1m"}, Credits: &service.CreditsInput{Remaining: 10}}); err != nil {
			t.Fatal(err)
		}
		if o.coveredKey, _, err = f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "covered", Scopes: []string{"labs:read"}}); err != nil {
			t.Fatal(err)
		}
		exp := service.Time{Time: f.clk.Now().Add(time.Minute)}
		if o.expiredWide, _, err = f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "expired", Scopes: []string{"read:audit"}, ExpiresAt: &exp}); err != nil {
			t.Fatal(err)
		}
		if o.wideClient, _, err = f.svc.CreateClient(ctx, f.op, service.ClientCreate{Name: "automation", Scopes: []string{"read:audit", "create:api_keys"}}); err != nil {
			t.Fatal(err)
		}
		if o.coveredClient, _, err = f.svc.CreateClient(ctx, f.op, service.ClientCreate{Name: "reader", Scopes: []string{"read:api_keys"}}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(2 * time.Minute) // the expired key expires
		return o
	}
	tests := []struct {
		name string
		do   func(f *fixture, o objects, c *keyhub.Caller) error
		// missing is the scope the refusal names; "" means allowed.
		missing string
	}{
		// Item 1 of the issue: client takeover.
		{"ErrRotateSecretOfWiderClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, _, err := f.svc.RotateClientSecret(ctx, c, o.wideClient.ID, service.SecretRotation{})
			return err
		}, "read:audit"},
		{"ErrAddAudienceToWiderClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateClient(ctx, c, o.wideClient.ID, service.ClientPatch{Audiences: service.Some([]string{"hub:api", "payments"})})
			return err
		}, "read:audit"},
		{"ErrRenameWiderClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateClient(ctx, c, o.wideClient.ID, service.ClientPatch{Name: service.Some("mine")})
			return err
		}, "read:audit"},
		{"ErrNarrowWiderClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateClient(ctx, c, o.wideClient.ID, service.ClientPatch{Scopes: service.Some([]string{"create:api_keys"})})
			return err
		}, "read:audit"},
		{"ErrCreateWiderClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, _, err := f.svc.CreateClient(ctx, c, service.ClientCreate{Name: "x", Scopes: []string{"read:audit"}})
			return err
		}, "read:audit"},
		{"OKDisableWiderClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateClient(ctx, c, o.wideClient.ID, service.ClientPatch{Enabled: service.Some(ptr(false))})
			return err
		}, ""},
		{"OKDeleteWiderClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			return f.svc.DeleteClient(ctx, c, o.wideClient.ID)
		}, ""},
		{"OKRotateSecretOfCoveredClient", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, _, err := f.svc.RotateClientSecret(ctx, c, o.coveredClient.ID, service.SecretRotation{})
			return err
		}, ""},
		// Item 2: revived keys.
		{"ErrUnexpireWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.expiredWide.ID, service.KeyPatch{ExpiresAt: service.Some[*service.Time](nil)})
			return err
		}, "read:audit"},
		{"ErrClearIPsOfWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.wideKey.ID, service.KeyPatch{IPs: service.Some([]string{})})
			return err
		}, "payouts:write"},
		{"ErrClearCreditsOfWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.wideKey.ID, service.KeyPatch{Credits: service.Some[*service.CreditsPatch](nil)})
			return err
		}, "payouts:write"},
		{"ErrClearRateLimitOfWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.wideKey.ID, service.KeyPatch{RateLimit: service.Some[*service.RateLimitInput](nil)})
			return err
		}, "payouts:write"},
		{"ErrRenameWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.wideKey.ID, service.KeyPatch{Name: service.Some("x")})
			return err
		}, "payouts:write"},
		{"ErrRotateWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, _, err := f.svc.RotateKey(ctx, c, o.wideKey.ID, service.RotateRequest{})
			return err
		}, "payouts:write"},
		{"ErrJoinWiderRole", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.coveredKey.ID, service.KeyPatch{RoleID: service.Some(o.wideRole.ID)})
			return err
		}, "read:audit"},
		{"ErrCreateKeyInWiderRole", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, _, err := f.svc.CreateKey(ctx, c, service.KeyCreate{Name: "x", RoleID: o.wideRole.ID})
			return err
		}, "read:audit"},
		{"OKDisableWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.wideKey.ID, service.KeyPatch{Enabled: service.Some(ptr(false))})
			return err
		}, ""},
		{"OKRevokeWiderKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.RevokeKey(ctx, c, o.wideKey.ID)
			return err
		}, ""},
		{"OKChangeCoveredKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateKey(ctx, c, o.coveredKey.ID, service.KeyPatch{Name: service.Some("x"), RoleID: service.Some(o.coveredRole.ID)})
			return err
		}, ""},
		{"OKRotateCoveredKey", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, _, err := f.svc.RotateKey(ctx, c, o.coveredKey.ID, service.RotateRequest{GracePeriod: "1h"})
			return err
		}, ""},
		// Item 4: wider roles.
		{"ErrRenameWiderRole", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateRole(ctx, c, o.wideRole.ID, service.RolePatch{Name: service.Some("mine")})
			return err
		}, "read:audit"},
		{"ErrNarrowWiderRole", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateRole(ctx, c, o.wideRole.ID, service.RolePatch{Scopes: service.Some([]string{"labs:read"})})
			return err
		}, "read:audit"},
		{"ErrDeleteWiderRole", func(f *fixture, o objects, c *keyhub.Caller) error {
			return f.svc.DeleteRole(ctx, c, o.wideRole.ID)
		}, "read:audit"},
		{"ErrWidenCoveredRole", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateRole(ctx, c, o.coveredRole.ID, service.RolePatch{Scopes: service.Some([]string{"labs:*"})})
			return err
		}, "labs:*"},
		{"OKChangeCoveredRole", func(f *fixture, o objects, c *keyhub.Caller) error {
			_, err := f.svc.UpdateRole(ctx, c, o.coveredRole.ID, service.RolePatch{Name: service.Some("lab2"), Description: service.Some("d")})
			return err
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			o := setup(t, f)
			before := f.snapshot(t)
			err := tt.do(f, o, f.narrow())
			if tt.missing == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *keyhub.Error
			if !errors.As(err, &e) || e.Kind != keyhub.KindForbidden || e.Code != "insufficient_scope" || e.Extra["scope"] != tt.missing {
				t.Fatalf("got %v, want 403 insufficient_scope naming %q", err, tt.missing)
			}
			if after := f.snapshot(t); after != before {
				t.Fatalf("a refused change changed the store:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestRotatedOutKeyStaysDead: once rotated, a key's expiry can only come
// closer; whoever asks, the old key never verifies again after its grace.
func TestRotatedOutKeyStaysDead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, oldKey, err := f.svc.CreateKey(ctx, f.op, service.KeyCreate{Name: "leaked", Scopes: []string{"labs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.RotateKey(ctx, f.op, old.ID, service.RotateRequest{GracePeriod: "1h"}); err != nil {
		t.Fatal(err)
	}
	earlier := service.Time{Time: f.clk.Now().Add(10 * time.Minute)}
	later := service.Time{Time: f.clk.Now().Add(48 * time.Hour)}
	for name, patch := range map[string]service.KeyPatch{
		"cleared": {ExpiresAt: service.Some[*service.Time](nil)},
		"later":   {ExpiresAt: service.Some(&later)},
	} {
		if _, err := f.svc.UpdateKey(ctx, f.op, old.ID, patch); !keyhub.IsKind(err, keyhub.KindConflict) {
			t.Fatalf("expiry %s on a rotated key: %v", name, err)
		}
	}
	if _, err := f.svc.UpdateKey(ctx, f.op, old.ID, service.KeyPatch{ExpiresAt: service.Some(&earlier)}); err != nil {
		t.Fatalf("bringing the expiry forward: %v", err)
	}
	// Disabling and enabling within the grace keeps it bounded by it.
	if _, err := f.svc.UpdateKey(ctx, f.op, old.ID, service.KeyPatch{Enabled: service.Some(ptr(false))}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateKey(ctx, f.op, old.ID, service.KeyPatch{Enabled: service.Some(ptr(true))}); err != nil {
		t.Fatal(err)
	}
	if c := f.verify(t, oldKey); c != verify.Valid {
		t.Fatalf("within the grace: %s", c)
	}
	f.clk.Add(11 * time.Minute)
	if c := f.verify(t, oldKey); c != verify.Expired {
		t.Fatalf("after the grace: %s", c)
	}
	if _, _, err := f.svc.RotateKey(ctx, f.op, old.ID, service.RotateRequest{}); !keyhub.IsKind(err, keyhub.KindConflict) {
		t.Fatalf("rotating a rotated key again: %v", err)
	}
}
