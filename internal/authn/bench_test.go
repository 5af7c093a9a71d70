package authn_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// oauthFixture is a service that issues tokens, with one client.
func oauthFixture(b *testing.B, alg string) (*authn.Service, *keyhub.Client, string) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "k.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	master := make([]byte, 32)
	keys := oauth.NewKeys(st, oauth.KeysConfig{Issuer: "http://keyhub.test", Master: master, Algorithm: alg})
	if err := keys.Load(ctx); err != nil {
		b.Fatal(err)
	}
	deny := oauth.NewDenyList(st, nil)
	core := app.NewCore(st, app.CoreConfig{Auth: []authn.Option{authn.WithTokens("http://keyhub.test", keys, deny)}})
	b.Cleanup(core.Close)
	svc := core.Manage
	op := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_bench"}, Operator: true, Scopes: []string{"*"}}}
	ten, err := svc.CreateTenant(ctx, op, service.TenantCreate{Name: "acme"})
	if err != nil {
		b.Fatal(err)
	}
	op.TenantID = ten.ID
	cl, secret, err := svc.CreateClient(ctx, op, service.ClientCreate{Name: "c", Scopes: []string{"read:api_keys", "create:api_keys"}})
	if err != nil {
		b.Fatal(err)
	}
	return core.Auth, cl, secret
}

// BenchmarkIssueToken is the token endpoint's work after the HTTP layer:
// client authentication (a store read and a digest comparison) and signing.
func BenchmarkIssueToken(b *testing.B) {
	for _, alg := range []string{oauth.ES256, oauth.EdDSA, oauth.RS256} {
		b.Run(alg, func(b *testing.B) {
			svc, cl, secret := oauthFixture(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c, err := svc.AuthenticateClient(ctx, cl.ID, secret)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.IssueToken(ctx, c, authn.TokenRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuthenticateJWT is a management call's authentication with one
// of keyhub's access tokens: signature, claims, deny-list and the cached
// client.
func BenchmarkAuthenticateJWT(b *testing.B) {
	for _, alg := range []string{oauth.ES256, oauth.EdDSA, oauth.RS256} {
		b.Run(alg, func(b *testing.B) {
			svc, cl, _ := oauthFixture(b, alg)
			ctx := context.Background()
			tok, err := svc.IssueToken(ctx, cl, authn.TokenRequest{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Authenticate(ctx, tok.AccessToken, netip.Addr{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
