package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a granted request. keyhub's forward-auth endpoint answers them
// for the proxy to pass upstream; Middleware sets them on the request it
// hands to the next handler, so an upstream reads the same headers behind a
// proxy or behind the middleware.
const (
	HeaderKeyID       = "X-Keyhub-Key-Id"
	HeaderTenantID    = "X-Keyhub-Tenant-Id"
	HeaderScopes      = "X-Keyhub-Scopes"
	HeaderEnvironment = "X-Keyhub-Environment"
	// HeaderMeta is the key's meta object as base64url (no padding) JSON;
	// empty or absent when the key has none.
	HeaderMeta = "X-Keyhub-Meta"
	// HeaderClientID names the OAuth client of an access token.
	HeaderClientID = "X-Keyhub-Client-Id"
)

// IdentityHeaders are all the headers of a granted request, the ones a
// proxy or Middleware must never take from the client.
var IdentityHeaders = []string{HeaderKeyID, HeaderTenantID, HeaderScopes, HeaderEnvironment, HeaderMeta, HeaderClientID}

// Rate-limit headers, on grants and refusals of keys with a rate limit.
// X-RateLimit-Reset is when the window ends, in Unix seconds.
const (
	HeaderRateLimitLimit     = "X-RateLimit-Limit"
	HeaderRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderRateLimitReset     = "X-RateLimit-Reset"
)

// usageRetryAfter is the Retry-After of a key out of credits. Credits come
// back only with the key's refill or a top-up, which the answer does not
// tell: an hour keeps well-behaved clients from hammering.
const usageRetryAfter = 3600

// Refusal is how a refused verification is answered over HTTP, the same by
// the forward-auth endpoint and by Middleware.
type Refusal struct {
	// Status is 401, 403 or 429.
	Status int
	// Code is the problem's machine-readable code: "invalid_token",
	// "insufficient_scope", "forbidden_ip", "rate_limited" or
	// "usage_exceeded".
	Code string
	// Detail explains the refusal without naming the credential.
	Detail string
	// Challenge is the WWW-Authenticate value, "" for none.
	Challenge string
	// RetryAfter is the Retry-After in seconds of a 429, 0 otherwise.
	RetryAfter int64
}

// InvalidCredential is the refusal of a missing, malformed, unknown,
// revoked, expired or disabled credential: all alike, so that the answer
// tells nothing of which keys exist.
func InvalidCredential() *Refusal {
	return &Refusal{Status: http.StatusUnauthorized, Code: "invalid_token",
		Detail:    "the credential is missing, invalid, revoked, disabled or expired",
		Challenge: `Bearer error="invalid_token"`}
}

// MissingScope is the refusal of a credential that lacks scope.
func MissingScope(scope string) *Refusal {
	return &Refusal{Status: http.StatusForbidden, Code: "insufficient_scope",
		Detail:    "the credential lacks the scope " + scope,
		Challenge: `Bearer error="insufficient_scope", scope="` + scope + `"`}
}

// RefusalOf answers a verification result at now: nil when it is valid.
func RefusalOf(res *VerifyResult, now time.Time) *Refusal {
	switch res.Code {
	case CodeValid:
		if res.Valid {
			return nil
		}
	case CodeInsufficientScope:
		return MissingScope(res.MissingScope)
	case CodeForbiddenIP:
		return &Refusal{Status: http.StatusForbidden, Code: "forbidden_ip",
			Detail: "the credential may not be used from this address"}
	case CodeRateLimited:
		retry := int64(1)
		if rl := res.RateLimit; rl != nil {
			retry = max(1, (rl.Reset-now.UnixMilli()+999)/1000)
		}
		return &Refusal{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Detail: "the credential's rate limit is exhausted", RetryAfter: retry}
	case CodeUsageExceeded:
		return &Refusal{Status: http.StatusTooManyRequests, Code: "usage_exceeded",
			Detail: "the credential has no credits left", RetryAfter: usageRetryAfter}
	}
	return InvalidCredential()
}

// Write answers the refusal as application/problem+json.
func (f *Refusal) Write(w http.ResponseWriter) {
	h := w.Header()
	if f.Challenge != "" {
		h.Set("WWW-Authenticate", f.Challenge)
	}
	if f.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(f.RetryAfter, 10))
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "urn:keyhub:problem:" + f.Code, "title": http.StatusText(f.Status),
		"status": f.Status, "detail": f.Detail, "code": f.Code,
	})
}

// SetRateLimit sets the X-RateLimit headers of a key with a rate limit.
func SetRateLimit(h http.Header, res *VerifyResult) {
	rl := res.RateLimit
	if rl == nil {
		return
	}
	h.Set(HeaderRateLimitLimit, strconv.FormatInt(rl.Limit, 10))
	h.Set(HeaderRateLimitRemaining, strconv.FormatInt(rl.Remaining, 10))
	h.Set(HeaderRateLimitReset, strconv.FormatInt((rl.Reset+999)/1000, 10))
}

// SetIdentity sets the identity headers of a verified key on h.
func SetIdentity(h http.Header, k *VerifiedKey) {
	if k == nil {
		return
	}
	h.Set(HeaderKeyID, k.ID)
	h.Set(HeaderTenantID, k.TenantID)
	h.Set(HeaderScopes, strings.Join(k.Scopes, " "))
	h.Set(HeaderEnvironment, k.Environment)
	if m := k.Meta; len(m) > 0 && string(m) != "null" {
		h.Set(HeaderMeta, base64.RawURLEncoding.EncodeToString(m))
	}
}

// DecodeMeta reads the key's meta from the HeaderMeta of an upstream
// request; nil when there is none.
func DecodeMeta(h http.Header) (json.RawMessage, error) {
	v := h.Get(HeaderMeta)
	if v == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, errors.New("keyhub client: " + HeaderMeta + " is not JSON")
	}
	return b, nil
}
