package authn_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/service"
)

// oauthFixture is a service that issues tokens, with one client.
func oauthFixture(b *testing.B, alg string) (*authn.Service, *keyhub.Client, string) {
	c := apitest.NewCore(b, apitest.CoreOptions{Tokens: true, Algorithm: alg})
	cl, secret, err := c.Manage.CreateClient(context.Background(), c.Op, service.ClientCreate{Name: "c", Scopes: []string{"read:api_keys", "create:api_keys"}})
	if err != nil {
		b.Fatal(err)
	}
	return c.Auth, cl, secret
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
