package service_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// TestCachedTokenStillExpires: once verified, a token is answered from the
// cache, but never past its expiry, and revocation still applies.
func TestCachedTokenStillExpires(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	keys := oauth.NewKeys(st, oauth.KeysConfig{Issuer: "http://keyhub.test", Master: make([]byte, 32), Now: clk.Now})
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	deny := oauth.NewDenyList(st, clk.Now)
	svc := service.New(st, service.WithClock(clk.Now), service.WithTokens("http://keyhub.test", keys, deny))
	op := &service.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_t"}, Operator: true, Scopes: []string{"*"}}}
	ten, _ := svc.CreateTenant(ctx, op, service.TenantCreate{Name: "acme"})
	op.TenantID = ten.ID
	cl, _, err := svc.CreateClient(ctx, op, service.ClientCreate{Name: "c", Scopes: []string{"read:api_keys"}, TokenTTL: "2m"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.IssueToken(ctx, cl, service.TokenRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc.Authenticate(ctx, tok.AccessToken, netip.Addr{}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(2 * time.Minute)
	if _, err := svc.Authenticate(ctx, tok.AccessToken, netip.Addr{}); !keyhub.IsKind(err, keyhub.KindUnauthorized) {
		t.Fatalf("expired cached token authenticated: %v", err)
	}
	// A fresh token, cached, then revoked: refused at once.
	tok2, _ := svc.IssueToken(ctx, cl, service.TokenRequest{})
	if _, err := svc.Authenticate(ctx, tok2.AccessToken, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeToken(ctx, cl, tok2.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok2.AccessToken, netip.Addr{}); !keyhub.IsKind(err, keyhub.KindUnauthorized) {
		t.Fatalf("revoked cached token authenticated: %v", err)
	}
}
