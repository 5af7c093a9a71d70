// Package oauthapi serves keyhub's OAuth 2.0 authorization server: the
// client-credentials token endpoint (RFC 6749 §4.4), JWKS (RFC 7517),
// metadata (RFC 8414), introspection (RFC 7662) and revocation (RFC 7009).
// Handlers translate HTTP to service calls; the rules are in the service.
package oauthapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/throttle"
)

// Failed client authentications allowed per window before the endpoints
// refuse to check more for that client at that address, or for that
// address at all. Client ids are public (every token's sub), so failures
// are never counted per client id alone: that would let anyone lock a
// client out everywhere.
const (
	throttleWindow    = time.Minute
	failuresPerClient = 10
	failuresPerIP     = 30
)

// Service is what the OAuth endpoints call; *authn.Service implements it.
type Service interface {
	AuthenticateClient(ctx context.Context, id, secret string) (*keyhub.Client, error)
	IssueToken(ctx context.Context, cl *keyhub.Client, in authn.TokenRequest) (*authn.Token, error)
	RevokeToken(ctx context.Context, cl *keyhub.Client, token string) error
	Introspect(ctx context.Context, c *keyhub.Caller, token string) (*authn.Introspection, error)
}

// Handler serves the OAuth endpoints.
type Handler struct {
	svc      Service
	log      *slog.Logger
	throttle *throttle.Counter[clientSource]
	now      func() time.Time
	cfg      Config
	met      *tokenMetrics
}

// New returns the OAuth handler over svc.
func New(svc Service, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{svc: svc, log: log, throttle: throttle.New[clientSource]("client authentication", throttleWindow, log), now: time.Now}
}

// Router is where routes are mounted: the native API's router, so every
// surface answers unknown paths and methods alike.
type Router interface {
	Handle(pattern string, h http.Handler)
}

// Mount registers the OAuth routes.
func (h *Handler) Mount(r Router) {
	r.Handle("POST /oauth2/token", http.HandlerFunc(h.token))
	r.Handle("POST /oauth2/introspect", http.HandlerFunc(h.introspect))
	r.Handle("POST /oauth2/revoke", http.HandlerFunc(h.revoke))
	r.Handle("GET /.well-known/jwks.json", http.HandlerFunc(h.jwks))
	r.Handle("GET /.well-known/oauth-authorization-server", http.HandlerFunc(h.metadata))
}

// tokenResponse is the RFC 6749 §5.1 answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

func (h *Handler) token(w http.ResponseWriter, r *http.Request) { h.met.token(h.serveToken(w, r)) }

// serveToken answers a token request and returns the RFC 6749 error code
// it answered ("throttled" for a throttled client), "" when it issued a
// token.
func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request) string {
	form, err := parseForm(w, r)
	if err != nil {
		return h.fail(w, r, err)
	}
	id, secret, err := clientCredentials(r, form)
	if err != nil {
		return h.fail(w, r, err)
	}
	cl, err := h.authenticateClient(r, id, secret)
	if err != nil {
		return h.fail(w, r, err)
	}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return refuse(w, "invalid_request", "grant_type is required")
	default:
		return refuse(w, "unsupported_grant_type", "only client_credentials is supported")
	}
	tok, err := h.svc.IssueToken(r.Context(), cl, authn.TokenRequest{
		Scope: form.Get("scope"), Audiences: form["audience"], Resources: form["resource"],
	})
	if err != nil {
		return h.fail(w, r, err)
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresIn: tok.ExpiresIn, Scope: tok.Scope})
	return ""
}

// refuse answers an OAuth error and returns its code.
func refuse(w http.ResponseWriter, code, desc string) string {
	writeOAuthError(w, code, desc)
	return code
}

// fail answers err as an OAuth error; internal errors are logged, never
// shown. A throttled client gets 429 with Retry-After.
// It returns the code answered, "throttled" for a throttled client.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) string {
	if e, ok := err.(*keyhub.Error); ok && e.Kind == keyhub.KindRateLimited {
		w.Header().Set("Retry-After", strconv.Itoa(e.Extra["retry_after"].(int)))
		writeOAuthErrorStatus(w, http.StatusTooManyRequests, e.Code, e.Message)
		return codeThrottled
	}
	code, desc := codeOf(err)
	if code == "server_error" {
		h.log.ErrorContext(r.Context(), "oauth request failed", "error", err.Error())
	}
	writeOAuthError(w, code, desc)
	return code
}
