// Package oauth issues and checks keyhub's JWT access tokens: signing keys
// kept encrypted in the store and rotated with overlap (RFC 7517 JWKS),
// access tokens in the RFC 9068 profile, a deny-list shared by all nodes for
// revoked tokens, and verification of tokens from trusted external identity
// providers. It follows the JWT BCP (RFC 8725): algorithms come from an
// allow-list of asymmetric algorithms, never from the token alone; keys are
// chosen by kid and must match the algorithm; iss, aud and the time claims
// are always checked.
package oauth

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/keyhub/keyhub"
)

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 60 * time.Second

// maxTokenSize bounds the tokens we parse at all; real access tokens are a
// few hundred bytes, so anything larger is refused before any work.
const maxTokenSize = 16 << 10

// Audience is the "aud" claim: one or more audiences. It serialises as a
// string when it holds one value and as an array otherwise (RFC 7519 §4.1.3).
type Audience []string

// MarshalJSON writes a single audience as a string.
func (a Audience) MarshalJSON() ([]byte, error) { return jwt.Audience(a).MarshalJSON() }

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	return (*jwt.Audience)(a).UnmarshalJSON(b)
}

// Contains reports whether v is one of the audiences.
func (a Audience) Contains(v string) bool { return jwt.Audience(a).Contains(v) }

// Claims are the claims of a keyhub access token (RFC 9068 §2.2). Times are
// whole seconds on the wire; zero times are omitted.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  Audience
	Expiry    time.Time
	IssuedAt  time.Time
	NotBefore time.Time
	// ID is the token's jti: the handle for revocation.
	ID       string
	ClientID string
	// Scope is space-separated (RFC 6749 §3.3).
	Scope string
	// TenantID is empty for tokens of operator clients.
	TenantID string
	// Epoch is the client's token epoch when the token was issued: rotating
	// the client's secret without grace moves the epoch on, and tokens of an
	// earlier one are refused.
	Epoch int64
}

// wireClaims is the JSON form of Claims.
type wireClaims struct {
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  Audience         `json:"aud,omitempty"`
	Expiry    *jwt.NumericDate `json:"exp,omitempty"`
	IssuedAt  *jwt.NumericDate `json:"iat,omitempty"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	ID        string           `json:"jti,omitempty"`
	ClientID  string           `json:"client_id,omitempty"`
	Scope     string           `json:"scope,omitempty"`
	TenantID  string           `json:"tenant_id,omitempty"`
	Epoch     int64            `json:"client_epoch,omitempty"`
}

// MarshalJSON writes the registered claim names.
func (c Claims) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireClaims{
		Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience,
		Expiry: numericDate(c.Expiry), IssuedAt: numericDate(c.IssuedAt), NotBefore: numericDate(c.NotBefore),
		ID: c.ID, ClientID: c.ClientID, Scope: c.Scope, TenantID: c.TenantID, Epoch: c.Epoch,
	})
}

// UnmarshalJSON reads the registered claim names; numeric dates may be
// fractional, as RFC 7519 §2 allows.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var w wireClaims
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Claims{
		Issuer: w.Issuer, Subject: w.Subject, Audience: w.Audience,
		Expiry: w.Expiry.Time(), IssuedAt: w.IssuedAt.Time(), NotBefore: w.NotBefore.Time(),
		ID: w.ID, ClientID: w.ClientID, Scope: w.Scope, TenantID: w.TenantID, Epoch: w.Epoch,
	}
	return nil
}

func numericDate(t time.Time) *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return jwt.NewNumericDate(t)
}

// validateTimes checks exp (required), nbf and iat against now with Leeway.
func validateTimes(exp, nbf, iat, now time.Time) error {
	switch {
	case exp.IsZero():
		return invalidToken("token has no expiry")
	case now.Add(-Leeway).After(exp):
		return invalidToken("token has expired")
	case !nbf.IsZero() && now.Add(Leeway).Before(nbf):
		return invalidToken("token is not valid yet")
	case !iat.IsZero() && now.Add(Leeway).Before(iat):
		return invalidToken("token was issued in the future")
	}
	return nil
}

// invalidToken is the one error of token checks (RFC 6750 §3.1). The
// message says what failed, never the token.
func invalidToken(msg string) *keyhub.Error {
	return keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "%s", msg)
}

// ErrNoSigningKey is returned by Sign before Load has found or made a key.
var ErrNoSigningKey = errors.New("oauth: no current signing key; call Keys.Load first")
