package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/verify"
)

// Tokens signs and checks keyhub's access tokens; *oauth.Keys implements it.
type Tokens interface {
	Sign(c *oauth.Claims) (string, error)
	// Verify checks a token keyhub signed; audience "" accepts any.
	Verify(token, audience string) (*oauth.Claims, error)
}

// DenyList holds revoked token ids; *oauth.DenyList implements it.
type DenyList interface {
	Revoke(ctx context.Context, jti string, exp time.Time) error
	Revoked(jti string) bool
}

// ExternalVerifier checks JWTs of trusted external identity providers;
// *oauth.Providers implements it.
type ExternalVerifier interface {
	Verify(ctx context.Context, token string) (*oauth.ExternalIdentity, error)
}

// WithExternalProviders trusts the JWTs that v accepts.
func WithExternalProviders(v ExternalVerifier) Option { return func(s *Service) { s.external = v } }

// WithTokens enables the OAuth authorization server: issuer is the "iss" of
// keyhub's tokens, tokens signs and checks them, deny holds revoked ones.
func WithTokens(issuer string, tokens Tokens, deny DenyList) Option {
	return func(s *Service) { s.issuer, s.tokens, s.deny = issuer, tokens, deny }
}

// TokenRequest is a client-credentials grant's optional parameters.
type TokenRequest struct {
	// Scope is space-separated; empty asks for every scope of the client.
	Scope string
	// Audiences (the "audience" parameter) and Resources (RFC 8707
	// "resource") name who the token is for; empty means the client's
	// first audience.
	Audiences, Resources []string
}

// Token is an issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   int64
	Scope       string
	Claims      *oauth.Claims
}

func oauthErr(code, format string, args ...any) *keyhub.Error {
	k := keyhub.KindBadRequest
	if code == "invalid_client" {
		k = keyhub.KindUnauthorized
	}
	return keyhub.CodedErrorf(k, code, format, args...)
}

// IssueToken issues an RFC 9068 access token to an authenticated client.
func (s *Service) IssueToken(ctx context.Context, cl *keyhub.Client, in TokenRequest) (*Token, error) {
	if s.tokens == nil {
		return nil, keyhub.CodedErrorf(keyhub.KindUnavailable, "temporarily_unavailable", "the token endpoint is not configured")
	}
	scopes := cl.Scopes
	if in.Scope != "" {
		scopes = nil
		seen := map[string]bool{}
		for sc := range strings.FieldsSeq(in.Scope) {
			if err := keyhub.ValidateScope(sc); err != nil {
				return nil, oauthErr("invalid_scope", "%v", err)
			}
			if !keyhub.CoveredBy(cl.Scopes, sc) {
				return nil, oauthErr("invalid_scope", "scope %q is not allowed for this client", sc)
			}
			if !seen[sc] {
				seen[sc] = true
				scopes = append(scopes, sc)
			}
		}
	}
	auds := append(append([]string(nil), in.Audiences...), in.Resources...)
	if len(auds) == 0 {
		if len(cl.Audiences) == 0 {
			return nil, oauthErr("invalid_target", "the client has no audience; ask the operator to give it one")
		}
		auds = cl.Audiences[:1]
	}
	for _, a := range auds {
		if !contains(cl.Audiences, a) {
			return nil, oauthErr("invalid_target", "audience %q is not allowed for this client", a)
		}
	}
	now := s.Now().Truncate(time.Second)
	ttl := time.Duration(cl.TokenTTL)
	claims := &oauth.Claims{
		Issuer: s.issuer, Subject: cl.ID, Audience: oauth.Audience(dedupe(auds)), Expiry: now.Add(ttl), IssuedAt: now,
		ID: newJTI(), ClientID: cl.ID, Scope: strings.Join(scopes, " "), TenantID: cl.TenantID,
	}
	tok, err := s.tokens.Sign(claims)
	if err != nil {
		return nil, err
	}
	return &Token{AccessToken: tok, ExpiresIn: int64(ttl / time.Second), Scope: claims.Scope, Claims: claims}, nil
}

func newJTI() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("service: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	out := in[:0:0]
	for _, v := range in {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// looksLikeJWT tells a compact JWS from an API key without parsing either.
func looksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2 && strings.HasPrefix(token, "eyJ")
}

// unverifiedIssuer reads "iss" from a JWT's payload without checking its
// signature, only to choose who should check it.
func unverifiedIssuer(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 8<<10 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	return c.Iss
}

// checkOwnToken verifies one of keyhub's tokens for audience and that it
// still stands: not revoked, its client still there and enabled.
func (s *Service) checkOwnToken(ctx context.Context, token, audience string) (*oauth.Claims, *keyhub.Client, error) {
	if s.tokens == nil {
		return nil, nil, errInvalidToken()
	}
	claims, err := s.verifyToken(token, audience)
	if err != nil {
		return nil, nil, err
	}
	if s.deny != nil && s.deny.Revoked(claims.ID) {
		return nil, nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token has been revoked")
	}
	cl, err := s.clients.get(ctx, claims.ClientID)
	if err != nil {
		return nil, nil, err
	}
	if cl == nil || !cl.Enabled || cl.TenantID != claims.TenantID {
		return nil, nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token's client is disabled or deleted")
	}
	return claims, cl, nil
}

// authenticateJWT resolves a bearer JWT: one of keyhub's own access tokens
// for the management audience, or a trusted external provider's.
func (s *Service) authenticateJWT(ctx context.Context, token string) (*keyhub.Principal, error) {
	iss := unverifiedIssuer(token)
	if iss != "" && iss == s.issuer {
		claims, cl, err := s.checkOwnToken(ctx, token, s.audience)
		if err != nil {
			return nil, err
		}
		return &keyhub.Principal{Actor: keyhub.Actor{Type: "client", ID: cl.ID}, TenantID: cl.TenantID,
			Scopes: strings.Fields(claims.Scope), Operator: cl.TenantID == ""}, nil
	}
	if s.external != nil {
		id, err := s.external.Verify(ctx, token)
		if err != nil {
			return nil, err
		}
		return &keyhub.Principal{Actor: keyhub.Actor{Type: "user", ID: id.Issuer + "#" + id.Subject}, TenantID: id.TenantID, Scopes: id.Scopes}, nil
	}
	return nil, errInvalidToken()
}

// RevokeToken revokes an access token issued to cl (RFC 7009). Tokens that
// are invalid, expired or another client's are ignored, as the RFC asks:
// the answer never tells which.
func (s *Service) RevokeToken(ctx context.Context, cl *keyhub.Client, token string) error {
	if s.tokens == nil || s.deny == nil || !looksLikeJWT(token) {
		return nil
	}
	claims, err := s.tokens.Verify(token, "")
	if err != nil || claims.ClientID != cl.ID {
		return nil
	}
	return s.deny.Revoke(ctx, claims.ID, claims.Expiry)
}

// ClientCaller is the caller an authenticated OAuth client acts as.
func ClientCaller(cl *keyhub.Client, ip string) *Caller {
	return &Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "client", ID: cl.ID}, TenantID: cl.TenantID,
		Scopes: cl.Scopes, Operator: cl.TenantID == ""}, TenantID: cl.TenantID, IP: ip}
}

// Introspect answers RFC 7662 introspection of a keyhub access token or an
// API key. The caller is an authenticated OAuth client or holds
// verify:api_keys; it learns only of tokens and keys of its own tenant
// (an operator: of any). Introspection spends no credit and no rate limit.
func (s *Service) Introspect(ctx context.Context, c *Caller, token string) (map[string]any, error) {
	if c == nil || c.Principal == nil {
		return nil, errInvalidToken()
	}
	if c.Principal.Type != "client" {
		if err := require(c, keyhub.ScopeVerifyAPIKeys, "introspecting tokens"); err != nil {
			return nil, err
		}
	}
	inactive := map[string]any{"active": false}
	visible := func(tenantID string) bool { return c.TenantID == "" && c.Principal.Operator || c.TenantID == tenantID }
	if looksLikeJWT(token) {
		if unverifiedIssuer(token) != s.issuer || s.issuer == "" {
			return inactive, nil
		}
		claims, _, err := s.checkOwnToken(ctx, token, "")
		if err != nil || !visible(claims.TenantID) {
			if keyhub.ErrorKind(err) == keyhub.KindUnavailable {
				return nil, err
			}
			return inactive, nil
		}
		out := map[string]any{
			"active": true, "token_type": "Bearer", "scope": claims.Scope, "client_id": claims.ClientID,
			"sub": claims.Subject, "aud": claims.Audience, "iss": claims.Issuer, "jti": claims.ID,
			"exp": claims.Expiry.Unix(), "iat": claims.IssuedAt.Unix(),
		}
		if claims.TenantID != "" {
			out["tenant_id"] = claims.TenantID
		}
		return out, nil
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
	out := map[string]any{
		"active": true, "token_type": "api_key", "scope": strings.Join(rec.Scopes, " "), "sub": k.ID,
		"tenant_id": k.TenantID, "iat": k.CreatedAt.Unix(), "name": k.Name, "environment": k.Environment,
	}
	if k.ExpiresAt != nil {
		out["exp"] = k.ExpiresAt.Unix()
	}
	return out, nil
}

// verifyToken checks a token's signature and claims once, then answers
// from the token cache until the token expires. The cache is keyed by the
// token's digest, so it holds no token.
func (s *Service) verifyToken(token, audience string) (*oauth.Claims, error) {
	h := sha256.Sum256([]byte(token))
	claims, ok := s.verified.c.GetIfPresent(h)
	if !ok {
		var err error
		if claims, err = s.tokens.Verify(token, ""); err != nil {
			return nil, err
		}
		s.verified.c.Set(h, claims)
	}
	if !s.Now().Before(claims.Expiry) {
		return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token has expired")
	}
	if audience != "" && !claims.Audience.Contains(audience) {
		return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token is not for this audience")
	}
	return claims, nil
}
