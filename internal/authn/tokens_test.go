package authn_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

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
	core := app.NewCore(st, app.CoreConfig{Now: clk.Now, Auth: []authn.Option{authn.WithTokens("http://keyhub.test", keys, deny)}})
	defer core.Close()
	svc, auth := core.Manage, core.Auth
	op := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_t"}, Operator: true, Scopes: []string{"*"}}}
	ten, _ := svc.CreateTenant(ctx, op, service.TenantCreate{Name: "acme"})
	op.TenantID = ten.ID
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
