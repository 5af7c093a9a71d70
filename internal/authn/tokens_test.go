package authn_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

// TestCachedTokenStillExpires: once verified, a token is answered from the
// cache, but never past its expiry, and revocation still applies.
func TestCachedTokenStillExpires(t *testing.T) {
	ctx := context.Background()
	c := apitest.NewCore(t, apitest.CoreOptions{Tokens: true})
	svc, auth, op, clk := c.Manage, c.Auth, c.Op, c.Clock
	cl, _, err := svc.CreateClient(ctx, op, service.ClientCreate{Name: "c", Scopes: []string{"read:api_keys"}, TokenTTL: "2m"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.IssueToken(ctx, cl, authn.TokenRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := auth.Authenticate(ctx, tok.AccessToken, netip.Addr{}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(2 * time.Minute)
	if _, err := auth.Authenticate(ctx, tok.AccessToken, netip.Addr{}); !keyhub.IsKind(err, keyhub.KindUnauthorized) {
		t.Fatalf("expired cached token authenticated: %v", err)
	}
	// A fresh token, cached, then revoked: refused at once.
	tok2, _ := auth.IssueToken(ctx, cl, authn.TokenRequest{})
	if _, err := auth.Authenticate(ctx, tok2.AccessToken, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if err := auth.RevokeToken(ctx, cl, tok2.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Authenticate(ctx, tok2.AccessToken, netip.Addr{}); !keyhub.IsKind(err, keyhub.KindUnauthorized) {
		t.Fatalf("revoked cached token authenticated: %v", err)
	}
}
