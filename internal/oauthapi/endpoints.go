package oauthapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/clientaddr"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/throttle"
)

// Config is what the OAuth endpoints publish.
type Config struct {
	// Issuer is keyhub's issuer URL, the "iss" of its tokens.
	Issuer string
	// JWKS answers the current JSON Web Key Set, marshalled.
	JWKS func() []byte
	// Authenticate resolves a bearer credential for introspection, the same
	// way the management API does.
	Authenticate func(r *http.Request) (*keyhub.Caller, error)
	// Scopes lists the scope catalogue for the metadata.
	Scopes func(ctx context.Context) ([]string, error)
	// Metrics, when set, receives the token endpoint's metrics: tokens
	// issued and requests refused.
	Metrics prometheus.Registerer
}

// WithConfig sets what the endpoints publish and how bearer callers are
// authenticated.
func (h *Handler) WithConfig(c Config) *Handler {
	h.cfg = c
	h.met = newTokenMetrics(c.Metrics)
	return h
}

func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Verifiers may cache the set briefly; a new key is published well
	// before it signs (it is added on rotation and verifiers refetch on an
	// unknown kid).
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(h.cfg.JWKS())
}

func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	iss := strings.TrimSuffix(h.cfg.Issuer, "/")
	scopes := append([]string(nil), keyhub.ManagementScopes...)
	if h.cfg.Scopes != nil {
		if cat, err := h.cfg.Scopes(r.Context()); err == nil {
			scopes = append(scopes, cat...)
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSONCached(w, map[string]any{
		"issuer":                                iss,
		"token_endpoint":                        iss + "/oauth2/token",
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"introspection_endpoint":                iss + "/oauth2/introspect",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"grant_types_supported":                 []string{"client_credentials"},
		"response_types_supported":              []string{},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "bearer"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported": scopes,
	})
}

// introspect answers RFC 7662. The caller authenticates as an OAuth client
// (Basic or form) or with a bearer credential holding verify:api_keys.
func (h *Handler) introspect(w http.ResponseWriter, r *http.Request) {
	form, err := parseForm(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var c *keyhub.Caller
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer ") {
		if c, err = h.cfg.Authenticate(r); err != nil {
			writeBearerError(w, err)
			return
		}
	} else {
		var id, secret string
		if id, secret, err = clientCredentials(r, form); err != nil {
			h.fail(w, r, err)
			return
		}
		cl, err := h.authenticateClient(r, id, secret)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		c = authn.ClientCaller(cl, clientaddr.From(r))
	}
	token := form.Get("token")
	if token == "" {
		writeOAuthError(w, "invalid_request", "token is required")
		return
	}
	out, err := h.svc.Introspect(r.Context(), c, token)
	if err != nil {
		if keyhub.ErrorKind(err) == keyhub.KindForbidden {
			writeBearerError(w, err)
			return
		}
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, introspection(out))
}

// introspection renders an answer as RFC 7662 §2.2 does: only "active"
// for an inactive token.
func introspection(in *authn.Introspection) map[string]any {
	if !in.Active {
		return map[string]any{"active": false}
	}
	out := map[string]any{"active": true, "scope": strings.Join(in.Scopes, " "), "sub": in.Subject}
	switch in.Kind {
	case authn.KindAccessToken:
		out["token_type"] = "Bearer"
		out["client_id"], out["iss"], out["jti"] = in.ClientID, in.Issuer, in.JTI
		out["aud"] = oauth.Audience(in.Audience)
	case authn.KindAPIKey:
		out["token_type"] = "api_key"
		out["name"], out["environment"] = in.Name, in.Environment
	}
	if in.TenantID != "" {
		out["tenant_id"] = in.TenantID
	}
	if !in.ExpiresAt.IsZero() {
		out["exp"] = in.ExpiresAt.Unix()
	}
	if !in.IssuedAt.IsZero() {
		out["iat"] = in.IssuedAt.Unix()
	}
	return out
}

// revoke answers RFC 7009: a client revokes a token issued to it. The answer
// is 200 whether or not there was anything to revoke.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	form, err := parseForm(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, secret, err := clientCredentials(r, form)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cl, err := h.authenticateClient(r, id, secret)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	token := form.Get("token")
	if token == "" {
		writeOAuthError(w, "invalid_request", "token is required")
		return
	}
	if err := h.svc.RevokeToken(r.Context(), cl, token); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// clientSource is what client authentication failures count against: an
// address, or one client at an address.
type clientSource struct {
	perClient bool
	client    string
	src       throttle.Source
}

// authenticateClient checks client credentials under one throttle for the
// token, introspection and revocation endpoints: failures count against
// the address and against the client at that address, never against the
// client everywhere.
func (h *Handler) authenticateClient(r *http.Request, id, secret string) (*keyhub.Client, error) {
	src, now := throttle.SourceOf(clientaddr.From(r)), h.now()
	byIP, byClient := clientSource{src: src}, clientSource{perClient: true, client: id, src: src}
	if wait, blocked := h.throttle.Blocked(now, src, failuresPerIP, byIP); blocked {
		return nil, throttled(wait)
	}
	if wait, blocked := h.throttle.Blocked(now, src, failuresPerClient, byClient); blocked {
		return nil, throttled(wait)
	}
	cl, err := h.svc.AuthenticateClient(r.Context(), id, secret)
	if err != nil {
		if code, _ := codeOf(err); code == "invalid_client" && keyhub.ErrorKind(err) == keyhub.KindUnauthorized {
			h.throttle.Fail(now, byIP, byClient)
			h.log.DebugContext(r.Context(), "client authentication failed", "client_id", id, "ip", src.String())
		}
		return nil, err
	}
	return cl, nil
}

func throttled(wait time.Duration) error {
	e := keyhub.CodedErrorf(keyhub.KindRateLimited, "invalid_client", "too many failed authentications; try again later")
	e.Extra = map[string]any{"retry_after": int(wait.Seconds()) + 1}
	return e
}

// writeBearerError answers a failed bearer authentication per RFC 6750.
func writeBearerError(w http.ResponseWriter, err error) {
	e, _ := err.(*keyhub.Error)
	status, code := http.StatusUnauthorized, "invalid_token"
	if e != nil && e.Kind == keyhub.KindForbidden {
		status, code = http.StatusForbidden, "insufficient_scope"
	}
	challenge := `Bearer realm="keyhub", error="` + code + `"`
	if e != nil && e.Extra["scope"] != nil {
		challenge += `, scope="` + e.Extra["scope"].(string) + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	desc := "invalid credential"
	if e != nil {
		desc = e.Message
	}
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

func writeJSONCached(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = jsonEncode(w, v)
}
