package authn

import (
	"context"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/verify"
)

// Introspection is what introspection learns of a token or key; the OAuth
// surface renders it as RFC 7662 says. Only Active is set for a token that
// does not stand or that the caller may not see.
type Introspection struct {
	Active bool
	// Kind is "access_token" or "api_key".
	Kind     string
	Scopes   []string
	ClientID string
	Subject  string
	Audience []string
	Issuer   string
	JTI      string
	TenantID string
	// Name and Environment describe an API key.
	Name        string
	Environment string
	ExpiresAt   time.Time // zero: no expiry
	IssuedAt    time.Time
}

// Introspection kinds.
const (
	KindAccessToken = "access_token"
	KindAPIKey      = "api_key"
)

// Introspect answers introspection of a keyhub access token or an API key.
// The caller is an authenticated OAuth client or holds verify:api_keys; it
// learns only of tokens and keys of its own tenant (an operator: of any).
// A token shows the powers it has now, its client's current scopes
// applied. Introspection spends no credit and no rate limit.
func (s *Service) Introspect(ctx context.Context, c *keyhub.Caller, token string) (*Introspection, error) {
	if err := c.Authenticated(); err != nil {
		return nil, ErrInvalidToken()
	}
	if c.Principal.Type != "client" {
		if err := c.Require(keyhub.ScopeVerifyAPIKeys, "introspecting tokens"); err != nil {
			return nil, err
		}
	}
	inactive := &Introspection{}
	visible := func(tenantID string) bool { return c.TenantID == "" && c.Principal.Operator || c.TenantID == tenantID }
	if looksLikeJWT(token) {
		if s.issuer == "" || unverifiedIssuer(token) != s.issuer {
			return inactive, nil
		}
		t, err := s.checkOwnToken(ctx, token, "")
		if keyhub.ErrorKind(err) == keyhub.KindUnavailable {
			return nil, err
		}
		if err != nil || !visible(t.claims.TenantID) {
			return inactive, nil
		}
		cl := t.claims
		return &Introspection{Active: true, Kind: KindAccessToken, Scopes: t.scopes, ClientID: cl.ClientID,
			Subject: cl.Subject, Audience: cl.Audience, Issuer: cl.Issuer, JTI: cl.ID, TenantID: cl.TenantID,
			ExpiresAt: cl.Expiry, IssuedAt: cl.IssuedAt}, nil
	}
	rec, code, err := s.ver.Lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	if code != verify.Valid || rec.Key.IsOperator() || !visible(rec.Key.TenantID) {
		return inactive, nil
	}
	// The address a key is used from is unknown here: state alone decides.
	if rec.Key.State(s.Now()) != keyhub.StateActive {
		return inactive, nil
	}
	k := rec.Key
	out := &Introspection{Active: true, Kind: KindAPIKey, Scopes: rec.Scopes, Subject: k.ID, TenantID: k.TenantID,
		IssuedAt: k.CreatedAt, Name: k.Name, Environment: k.Environment}
	if k.ExpiresAt != nil {
		out.ExpiresAt = *k.ExpiresAt
	}
	return out, nil
}
