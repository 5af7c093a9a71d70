package authn_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

type tokenEnv struct {
	core *apitest.Core
	op   *keyhub.Caller
}

func newTokenEnv(t *testing.T) *tokenEnv {
	c := apitest.NewCore(t, apitest.CoreOptions{Tokens: true})
	return &tokenEnv{core: c, op: c.Op}
}

// client makes a client and a management token of it.
func (e *tokenEnv) client(t *testing.T, scopes ...string) (*keyhub.Client, string, string) {
	t.Helper()
	ctx := context.Background()
	cl, secret, err := e.core.Manage.CreateClient(ctx, e.op, service.ClientCreate{Name: "c", Scopes: scopes, Audiences: []string{"hub:api", "payments"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.core.Auth.IssueToken(ctx, cl, authn.TokenRequest{Audiences: []string{"hub:api"}})
	if err != nil {
		t.Fatal(err)
	}
	return cl, secret, tok.AccessToken
}

func (e *tokenEnv) introspect(t *testing.T, token string) *authn.Introspection {
	t.Helper()
	in, err := e.core.Auth.Introspect(context.Background(), e.op, token)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestTokensFollowTheirClient: a token has at most its client's current
// powers. Narrowing the client narrows the token; removing its audience,
// disabling or deleting the client, or rotating its secret without grace,
// ends it — for management calls and on introspection alike.
func TestTokensFollowTheirClient(t *testing.T) {
	ctx := context.Background()
	patch := func(e *tokenEnv, cl *keyhub.Client, p service.ClientPatch) {
		t.Helper()
		if _, err := e.core.Manage.UpdateClient(ctx, e.op, cl.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("NarrowedScopes", func(t *testing.T) {
		e := newTokenEnv(t)
		cl, _, tok := e.client(t, "read:audit", "read:api_keys")
		p, err := e.core.Auth.Authenticate(ctx, tok, netip.Addr{})
		if err != nil || !slices.Equal(p.Scopes, []string{"read:audit", "read:api_keys"}) {
			t.Fatalf("before: %v %v", p, err)
		}
		patch(e, cl, service.ClientPatch{Scopes: service.Some([]string{"read:api_keys"})})
		p, err = e.core.Auth.Authenticate(ctx, tok, netip.Addr{})
		if err != nil || !slices.Equal(p.Scopes, []string{"read:api_keys"}) {
			t.Fatalf("after narrowing: %v %v", p, err)
		}
		if p.Has(keyhub.ScopeReadAudit) {
			t.Fatal("the narrowed token still reads the audit log")
		}
		if in := e.introspect(t, tok); !in.Active || !slices.Equal(in.Scopes, []string{"read:api_keys"}) {
			t.Fatalf("introspection after narrowing: %+v", in)
		}
		// Widening the client again does not widen the token past its claims.
		patch(e, cl, service.ClientPatch{Scopes: service.Some([]string{"read:api_keys", "read:audit", "read:roles"})})
		if p, _ := e.core.Auth.Authenticate(ctx, tok, netip.Addr{}); p.Has(keyhub.ScopeReadRoles) {
			t.Fatal("a token gained a scope it was never issued")
		}
	})
	ends := map[string]func(e *tokenEnv, cl *keyhub.Client){
		"AudienceRemoved": func(e *tokenEnv, cl *keyhub.Client) {
			patch(e, cl, service.ClientPatch{Audiences: service.Some([]string{"payments"})})
		},
		"Disabled": func(e *tokenEnv, cl *keyhub.Client) {
			patch(e, cl, service.ClientPatch{Enabled: service.Some(ptr(false))})
		},
		"Deleted": func(e *tokenEnv, cl *keyhub.Client) {
			if err := e.core.Manage.DeleteClient(ctx, e.op, cl.ID); err != nil {
				t.Fatal(err)
			}
		},
		"SecretRotatedWithoutGrace": func(e *tokenEnv, cl *keyhub.Client) {
			if _, _, err := e.core.Manage.RotateClientSecret(ctx, e.op, cl.ID, service.SecretRotation{}); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			e := newTokenEnv(t)
			cl, _, tok := e.client(t, "read:api_keys")
			if _, err := e.core.Auth.Authenticate(ctx, tok, netip.Addr{}); err != nil {
				t.Fatal(err)
			}
			end(e, cl)
			if _, err := e.core.Auth.Authenticate(ctx, tok, netip.Addr{}); !keyhub.IsKind(err, keyhub.KindUnauthorized) {
				t.Fatalf("token still authenticates: %v", err)
			}
			if in := e.introspect(t, tok); in.Active {
				t.Fatalf("token still active on introspection: %+v", in)
			}
		})
	}
	t.Run("SecretRotatedWithGrace", func(t *testing.T) {
		e := newTokenEnv(t)
		cl, _, tok := e.client(t, "read:api_keys")
		_, secret, err := e.core.Manage.RotateClientSecret(ctx, e.op, cl.ID, service.SecretRotation{GracePeriod: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.core.Auth.Authenticate(ctx, tok, netip.Addr{}); err != nil {
			t.Fatalf("a rotation with grace ended the token: %v", err)
		}
		// A token issued after a rotation without grace stands.
		if _, _, err := e.core.Manage.RotateClientSecret(ctx, e.op, cl.ID, service.SecretRotation{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.core.Auth.AuthenticateClient(ctx, cl.ID, secret); err == nil {
			t.Fatal("the secret rotated away still authenticates")
		}
		fresh, err := e.core.Manage.GetClient(ctx, e.op, cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok2, err := e.core.Auth.IssueToken(ctx, fresh, authn.TokenRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.core.Auth.Authenticate(ctx, tok2.AccessToken, netip.Addr{}); err != nil {
			t.Fatalf("a token issued after the rotation: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
