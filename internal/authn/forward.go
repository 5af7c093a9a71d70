package authn

import (
	"context"
	"net/netip"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/verify"
)

// ForwardRequest is what a proxy asks forward auth about a request it
// holds: the request's credential, the scopes its route needs and the
// client's address.
type ForwardRequest struct {
	Credential string
	Scopes     []string
	IP         netip.Addr
	// TenantID restricts the answer to one tenant's credentials, "" for
	// any tenant's: the tenant of the verifier credential that asked.
	TenantID string
}

// ForwardResult is the answer: a key's verification, or for one of
// keyhub's access tokens the same codes with the token's identity.
type ForwardResult struct {
	verify.Result
	// Token is set when the credential was an access token that was
	// found good enough to report on.
	Token *ForwardToken
}

// ForwardToken is who an access token speaks for.
type ForwardToken struct {
	ClientID string
	TenantID string
	Scopes   []string
}

// ForwardAuth answers a proxy's question. An API key is verified exactly as
// VerifyKey verifies it, and a signing key's ticket as VerifyTicket does,
// spending credits and rate limit; an access token of keyhub's is checked as the management API checks it (signature,
// expiry, revocation, its client still enabled) and then for the scopes.
// Operator credentials are for keyhub itself and never pass. Errors are for
// a failing store only.
func (s *Service) ForwardAuth(ctx context.Context, in ForwardRequest) (ForwardResult, error) {
	if !looksLikeJWT(in.Credential) {
		res, err := s.ver.Verify(ctx, verify.Request{Key: in.Credential, Scopes: in.Scopes, IP: in.IP, TenantID: in.TenantID, Cost: 1})
		return ForwardResult{Result: res}, err
	}
	notFound := ForwardResult{Result: verify.Result{Code: verify.NotFound}}
	if s.issuer == "" || unverifiedIssuer(in.Credential) != s.issuer {
		res, err := s.verifyTicket(ctx, in.TenantID, in.Credential,
			verify.Request{Scopes: in.Scopes, IP: in.IP, TenantID: in.TenantID, Cost: 1})
		return ForwardResult{Result: res.Result}, err
	}
	t, err := s.checkOwnToken(ctx, in.Credential, "")
	if keyhub.ErrorKind(err) == keyhub.KindUnavailable {
		return ForwardResult{}, err
	}
	if err != nil || t.client.TenantID == "" || in.TenantID != "" && t.client.TenantID != in.TenantID {
		return notFound, nil
	}
	res := ForwardResult{Token: &ForwardToken{ClientID: t.client.ID, TenantID: t.client.TenantID, Scopes: t.scopes}}
	res.Code = verify.Valid
	if sc, missing := keyhub.FirstUncovered(t.scopes, in.Scopes); missing {
		res.Code, res.MissingScope = verify.InsufficientScope, sc
	}
	res.Valid = res.Code == verify.Valid
	return res, nil
}
