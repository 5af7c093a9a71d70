package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/keyhub/keyhub"
)

// ProviderConfig trusts one external identity provider (Clerk, Kinde,
// Auth0, Keycloak, …) whose JWTs authenticate tenants.
type ProviderConfig struct {
	// Issuer is the exact iss of the provider's tokens.
	Issuer string `json:"issuer"`
	// JWKSURL serves the provider's public keys; https, or http to a
	// loopback address for development.
	JWKSURL string `json:"jwks_url"`
	// Audience must be among the token's aud (RFC 8725 §3.9).
	Audience string `json:"audience"`
	// TenantClaim names the claim holding the tenant: "tenant_id" by
	// default. A name absent from the token but containing dots is read
	// as a path into nested objects ("o.id" for Clerk organisations).
	TenantClaim string `json:"tenant_claim,omitempty"`
	// TenantMap, if set, maps claim values to keyhub tenant ids; a value
	// not in it is refused. Without it the claim must hold a tenant id.
	TenantMap map[string]string `json:"tenant_map,omitempty"`
	// ScopeClaim names the claim holding the scopes: "scope" by default.
	// Its value may be a space-separated string or an array of strings,
	// so "scp" (Okta, Keycloak) and "permissions" (Auth0) work as well.
	ScopeClaim string `json:"scope_claim,omitempty"`
	// Algorithms the provider signs with; RS256, ES256 and EdDSA by
	// default. Only asymmetric algorithms are allowed.
	Algorithms []string `json:"algorithms,omitempty"`
}

// ExternalIdentity is who an external token speaks for.
type ExternalIdentity struct {
	Issuer   string
	Subject  string
	TenantID string
	Scopes   []string
}

// Providers verifies tokens from the configured external providers.
type Providers struct {
	byIssuer map[string]*provider
	allAlgs  []jose.SignatureAlgorithm
	now      func() time.Time
}

type provider struct {
	cfg  ProviderConfig
	algs []jose.SignatureAlgorithm
	jwks *remoteJWKS
}

// NewProviders validates cfgs and returns their verifier. client fetches
// the JWKS (a client with a 5 s timeout if nil); now is the clock
// (time.Now if nil).
func NewProviders(cfgs []ProviderConfig, client *http.Client, now func() time.Time) (*Providers, error) {
	if client == nil {
		client = &http.Client{Timeout: jwksTimeout}
	}
	if now == nil {
		now = time.Now
	}
	p := &Providers{byIssuer: make(map[string]*provider, len(cfgs)), now: now}
	for i, cfg := range cfgs {
		pv, err := newProvider(cfg, client, now)
		if err != nil {
			return nil, fmt.Errorf("oauth: provider %d (%q): %w", i, cfg.Issuer, err)
		}
		if p.byIssuer[cfg.Issuer] != nil {
			return nil, fmt.Errorf("oauth: provider %d: issuer %q is configured twice", i, cfg.Issuer)
		}
		p.byIssuer[cfg.Issuer] = pv
		for _, a := range pv.algs {
			if !slices.Contains(p.allAlgs, a) {
				p.allAlgs = append(p.allAlgs, a)
			}
		}
	}
	return p, nil
}

func newProvider(cfg ProviderConfig, client *http.Client, now func() time.Time) (*provider, error) {
	if cfg.Issuer == "" {
		return nil, fmt.Errorf("issuer is required")
	}
	if cfg.Audience == "" {
		return nil, fmt.Errorf("audience is required: without it a token minted for any other application of the provider would be accepted")
	}
	if err := checkJWKSURL(cfg.JWKSURL); err != nil {
		return nil, err
	}
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = "tenant_id"
	}
	if cfg.ScopeClaim == "" {
		cfg.ScopeClaim = "scope"
	}
	for v, id := range cfg.TenantMap {
		if !keyhub.ValidID(keyhub.PrefixTenant, id) {
			return nil, fmt.Errorf("tenant_map[%q]: %q is not a tenant id", v, id)
		}
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{RS256, ES256, EdDSA}
	}
	pv := &provider{cfg: cfg}
	for _, a := range cfg.Algorithms {
		alg, err := parseAlgorithm(a)
		if err != nil {
			return nil, err
		}
		pv.algs = append(pv.algs, alg)
	}
	pv.jwks = &remoteJWKS{url: cfg.JWKSURL, client: client, now: now, sem: make(chan struct{}, 1)}
	return pv, nil
}

// checkJWKSURL insists on https, except towards a loopback address: keys
// fetched in clear over a network could be replaced by anyone on the path.
func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("jwks_url %q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("jwks_url %q must use https", s)
}

// Verify checks a token from one of the providers: the provider is chosen
// by the token's iss, then alg must be one the provider signs with and fit
// the key named by kid, the signature must hold, iss must match exactly,
// aud must contain the provider's audience, exp is required and exp, nbf
// and iat are checked with Leeway; finally the tenant and scopes are read
// from the configured claims. Every failure is a *keyhub.Error of
// KindUnauthorized with code "invalid_token".
func (p *Providers) Verify(ctx context.Context, token string) (*ExternalIdentity, error) {
	if len(token) > maxTokenSize {
		return nil, invalidToken("token is too large")
	}
	if len(p.allAlgs) == 0 {
		return nil, invalidToken("no external identity provider is configured")
	}
	if err := CheckCompact(token); err != nil {
		return nil, invalidToken("token is " + err.Error())
	}
	jws, err := jose.ParseSignedCompact(token, p.allAlgs)
	if err != nil {
		return nil, invalidToken("token is malformed or uses a signature algorithm that is not accepted")
	}
	// The issuer is read before the signature is checked only to choose
	// whose keys check it; nothing else is trusted until then.
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified) != nil {
		return nil, invalidToken("token claims are malformed")
	}
	pv := p.byIssuer[unverified.Issuer]
	if pv == nil {
		return nil, invalidToken("token issuer is not trusted")
	}
	h := jws.Signatures[0].Header
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if !slices.Contains(pv.algs, alg) {
		return nil, invalidToken("token algorithm is not accepted for this issuer")
	}
	key, err := pv.jwks.key(ctx, h.KeyID, alg)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, invalidToken("token signature is invalid")
	}
	return pv.identity(payload, p.now())
}

// identity checks the verified claims and maps them to an identity.
func (pv *provider) identity(payload []byte, now time.Time) (*ExternalIdentity, error) {
	// Only the registered claims are typed: other claims (scope among
	// them) take whatever shape the provider gives them.
	var c struct {
		Issuer    string           `json:"iss"`
		Subject   string           `json:"sub"`
		Audience  Audience         `json:"aud"`
		Expiry    *jwt.NumericDate `json:"exp"`
		NotBefore *jwt.NumericDate `json:"nbf"`
		IssuedAt  *jwt.NumericDate `json:"iat"`
	}
	var raw map[string]any
	if json.Unmarshal(payload, &c) != nil || json.Unmarshal(payload, &raw) != nil {
		return nil, invalidToken("token claims are malformed")
	}
	if c.Issuer != pv.cfg.Issuer {
		return nil, invalidToken("token issuer is not trusted")
	}
	if !c.Audience.Contains(pv.cfg.Audience) {
		return nil, invalidToken("token is not meant for this audience")
	}
	if err := validateTimes(c.Expiry.Time(), c.NotBefore.Time(), c.IssuedAt.Time(), now); err != nil {
		return nil, err
	}
	if c.Subject == "" {
		return nil, invalidToken("token has no subject")
	}
	tenant, err := pv.tenant(raw)
	if err != nil {
		return nil, err
	}
	scopes, err := scopesOf(claimAt(raw, pv.cfg.ScopeClaim))
	if err != nil {
		return nil, err
	}
	return &ExternalIdentity{Issuer: c.Issuer, Subject: c.Subject, TenantID: tenant, Scopes: scopes}, nil
}

func (pv *provider) tenant(raw map[string]any) (string, error) {
	v, _ := claimAt(raw, pv.cfg.TenantClaim).(string)
	if v == "" {
		return "", invalidToken(fmt.Sprintf("token has no %s claim", pv.cfg.TenantClaim))
	}
	if len(pv.cfg.TenantMap) > 0 {
		id, ok := pv.cfg.TenantMap[v]
		if !ok {
			return "", invalidToken(fmt.Sprintf("token's %s is not mapped to a tenant", pv.cfg.TenantClaim))
		}
		return id, nil
	}
	if !keyhub.ValidID(keyhub.PrefixTenant, v) {
		return "", invalidToken(fmt.Sprintf("token's %s is not a tenant id", pv.cfg.TenantClaim))
	}
	return v, nil
}

// claimAt returns the claim called name, or, if there is none and name has
// dots, the value at that path through nested objects. Exact names come
// first because namespaced claims (Auth0's "https://example.com/tenant")
// contain dots themselves.
func claimAt(raw map[string]any, name string) any {
	if v, ok := raw[name]; ok {
		return v
	}
	var cur any = raw
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// scopesOf reads a space-separated string or an array of strings.
func scopesOf(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return []string{}, nil
	case string:
		return strings.Fields(v), nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, invalidToken("token scopes are malformed")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, invalidToken("token scopes are malformed")
}
