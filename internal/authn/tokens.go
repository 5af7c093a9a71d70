package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/oauth"
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

// Codes of the token service's refusals. They are keyhub's own; the OAuth
// surface turns them into RFC 6749's.
const (
	CodeClientAuthFailed   = "client_authentication_failed"
	CodeMalformedScope     = "malformed_scope"
	CodeScopeNotAllowed    = "scope_not_allowed"
	CodeAudienceNotAllowed = "audience_not_allowed"
	CodeTokensUnavailable  = "tokens_unavailable"
)

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

// IssueToken issues an RFC 9068 access token to an authenticated client.
func (s *Service) IssueToken(ctx context.Context, cl *keyhub.Client, in TokenRequest) (*Token, error) {
	if s.tokens == nil {
		return nil, keyhub.CodedErrorf(keyhub.KindUnavailable, CodeTokensUnavailable, "the token endpoint is not configured")
	}
	scopes := cl.Scopes
	if in.Scope != "" {
		scopes = nil
		for sc := range strings.FieldsSeq(in.Scope) {
			if err := keyhub.ValidateScope(sc); err != nil {
				return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, CodeMalformedScope, "%v", err)
			}
			if !keyhub.CoveredBy(cl.Scopes, sc) {
				return nil, keyhub.CodedErrorf(keyhub.KindForbidden, CodeScopeNotAllowed, "scope %q is not allowed for this client", sc)
			}
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	auds := append(append([]string(nil), in.Audiences...), in.Resources...)
	if len(auds) == 0 {
		if len(cl.Audiences) == 0 {
			return nil, keyhub.CodedErrorf(keyhub.KindForbidden, CodeAudienceNotAllowed, "the client has no audience; ask the operator to give it one")
		}
		auds = cl.Audiences[:1]
	}
	for _, a := range auds {
		if !slices.Contains(cl.Audiences, a) {
			return nil, keyhub.CodedErrorf(keyhub.KindForbidden, CodeAudienceNotAllowed, "audience %q is not allowed for this client", a)
		}
	}
	now := s.Now().Truncate(time.Second)
	ttl := time.Duration(cl.TokenTTL)
	claims := &oauth.Claims{
		Issuer: s.issuer, Subject: cl.ID, Audience: oauth.Audience(dedupe(auds)), Expiry: now.Add(ttl), IssuedAt: now,
		ID: newJTI(), ClientID: cl.ID, Scope: strings.Join(scopes, " "), TenantID: cl.TenantID, Epoch: cl.TokenEpoch,
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
		panic("authn: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func dedupe(in []string) []string {
	out := in[:0:0]
	for _, v := range in {
		if !slices.Contains(out, v) {
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

// ownToken is one of keyhub's tokens that still stands, with the powers it
// has now.
type ownToken struct {
	claims *oauth.Claims
	client *keyhub.Client
	// scopes are the token's claims intersected with its client's current
	// scopes: narrowing a client narrows its tokens at once.
	scopes []string
}

// checkOwnToken verifies one of keyhub's tokens for audience and that it
// still stands as its client is now: not revoked; its client there, enabled
// and of the same tenant; its secret not rotated without grace since; every
// audience of the token still the client's.
func (s *Service) checkOwnToken(ctx context.Context, token, audience string) (*ownToken, error) {
	if s.tokens == nil {
		return nil, ErrInvalidToken()
	}
	claims, err := s.verifyToken(token, audience)
	if err != nil {
		return nil, err
	}
	if s.deny != nil && s.deny.Revoked(claims.ID) {
		return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token has been revoked")
	}
	cl, err := s.clients.get(ctx, claims.ClientID)
	if err != nil {
		return nil, err
	}
	if cl == nil || !cl.Enabled || cl.TenantID != claims.TenantID {
		return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token's client is disabled or deleted")
	}
	if claims.Epoch < cl.TokenEpoch {
		return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token's client secret has been rotated since it was issued")
	}
	for _, a := range claims.Audience {
		if !slices.Contains(cl.Audiences, a) {
			return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the token's client may no longer address this audience")
		}
	}
	return &ownToken{claims: claims, client: cl, scopes: keyhub.Intersect(strings.Fields(claims.Scope), cl.Scopes)}, nil
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

// tokenCache remembers access tokens whose signature and claims were
// checked, so that a client calling the management API repeatedly with one
// token pays for one signature verification, not one per call. Revocation
// and the client's state are still checked on every call; an entry never
// outlives its token.
type tokenCache struct {
	c *otter.Cache[[32]byte, *oauth.Claims]
}

// maxTokenCacheAge bounds how long a verified token is trusted without
// checking its signature again.
const maxTokenCacheAge = 10 * time.Minute

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{c: otter.Must(&otter.Options[[32]byte, *oauth.Claims]{
		MaximumSize: 10_000,
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[[32]byte, *oauth.Claims]) time.Duration {
			return min(e.Value.Expiry.Sub(now()), maxTokenCacheAge)
		}),
	})}
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
