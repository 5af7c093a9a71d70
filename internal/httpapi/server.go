// Package httpapi serves keyhub's native HTTP API: the /v1 management
// endpoints, verification and health. Handlers decode a request, call one
// service method and encode its answer; rules live in the service.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/clientaddr"
)

// Server is the native API's http.Handler.
type Server struct {
	svc    Services
	log    *slog.Logger
	mux    *http.ServeMux
	router *Routes
	// docs are the OpenAPI documents of the other surfaces, by file name.
	docs map[string][]byte
	// metricsHandler serves GET /metrics, nil when metrics are not served
	// here.
	metricsHandler http.Handler
	// fwd configures forward auth.
	fwd ForwardAuthConfig
}

// New returns a Server over the services.
func New(svc Services, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{svc: svc, log: log, mux: http.NewServeMux(), docs: map[string][]byte{}}
	s.router = NewRoutes(s.mux, func(w http.ResponseWriter, r *http.Request, allow string) {
		writeProblem(w, r, Problem{Type: "urn:keyhub:problem:method_not_allowed", Title: http.StatusText(405), Status: 405,
			Detail: r.Method + " is not allowed here; allowed: " + allow, Code: "method_not_allowed"})
	})
	s.SetForwardAuth(ForwardAuthConfig{})
	s.routes()
	s.finish()
	return s
}

// Mux exposes the router so other surfaces can mount beside the native API.
func (s *Server) Mux() *http.ServeMux { return s.mux }

func (s *Server) routes() {
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.handle("GET /openapi.json", s.openapi)
	s.handle("GET /openapi/{document}", s.document)
	s.handle("GET /metrics", s.metrics)

	s.creates("POST /v1/tenants", s.authed(s.createTenant))
	s.handle("GET /v1/tenants", s.authed(s.listTenants))
	s.handle("GET /v1/tenants/{id}", s.authed(s.getTenant))
	s.handle("PATCH /v1/tenants/{id}", s.authed(s.updateTenant))

	s.creates("POST /v1/scopes", s.authed(s.createScope))
	s.handle("GET /v1/scopes", s.authed(s.listScopes))
	s.handle("DELETE /v1/scopes/{name}", s.authed(s.deleteScope))

	s.creates("POST /v1/api-keys", s.authed(s.createKey))
	s.handle("GET /v1/api-keys", s.authed(s.listKeys))
	s.handle("GET /v1/api-keys/{id}", s.authed(s.getKey))
	s.handle("PATCH /v1/api-keys/{id}", s.authed(s.updateKey))
	s.handle("DELETE /v1/api-keys/{id}", s.authed(s.revokeKey))
	s.creates("POST /v1/api-keys/{id}/rotate", s.authed(s.rotateKey))
	s.handle("GET /v1/api-keys/{id}/usage", s.authed(s.keyUsage))

	s.creates("POST /v1/roles", s.authed(s.createRole))
	s.handle("GET /v1/roles", s.authed(s.listRoles))
	s.handle("GET /v1/roles/{id}", s.authed(s.getRole))
	s.handle("PATCH /v1/roles/{id}", s.authed(s.updateRole))
	s.handle("DELETE /v1/roles/{id}", s.authed(s.deleteRole))

	s.creates("POST /v1/clients", s.authed(s.createClient))
	s.handle("GET /v1/clients", s.authed(s.listClients))
	s.handle("GET /v1/clients/{id}", s.authed(s.getClient))
	s.handle("PATCH /v1/clients/{id}", s.authed(s.updateClient))
	s.handle("DELETE /v1/clients/{id}", s.authed(s.deleteClient))
	s.creates("POST /v1/clients/{id}/rotate-secret", s.authed(s.rotateClientSecret))

	s.handle("GET /v1/audit-events", s.authed(s.listAudit))

	s.creates("POST /v1/members", s.authed(s.createMember))
	s.handle("GET /v1/members", s.authed(s.listMembers))
	s.handle("GET /v1/members/{id}", s.authed(s.getMember))
	s.handle("PATCH /v1/members/{id}", s.authed(s.updateMember))
	s.handle("DELETE /v1/members/{id}", s.authed(s.deleteMember))
	s.creates("POST /v1/portal/sessions", s.authed(s.createPortalSession))

	s.creates("POST /v1/signing-keys/rotate", s.authed(s.rotateSigningKey))

	s.handle("POST /v1/keys/verify", s.authed(s.verifyKey))
	s.handle("POST /v1/keys/revoke", s.authed(s.revokeKeyBySecret))

	s.creates("POST /v1/webhooks", s.authed(s.createWebhook))
	s.handle("GET /v1/webhooks", s.authed(s.listWebhooks))
	s.handle("GET /v1/webhooks/{id}", s.authed(s.getWebhook))
	s.handle("PATCH /v1/webhooks/{id}", s.authed(s.updateWebhook))
	s.handle("DELETE /v1/webhooks/{id}", s.authed(s.deleteWebhook))
	s.creates("POST /v1/webhooks/{id}/rotate-secret", s.authed(s.rotateWebhookSecret))
	s.handle("GET /v1/webhooks/{id}/deliveries", s.authed(s.listDeliveries))
	s.handle("POST /v1/webhooks/{id}/deliveries/{delivery}/retry", s.authed(s.retryDelivery))

	s.handle("POST /v1/leaks", s.authed(s.reportLeaks))
	s.handle("POST /v1/leaks/github", s.githubLeaks)
	s.handle("POST /v1/tickets/verify", s.authed(s.verifyTicket))
	s.handle("POST /v1/signing-keys/{id}/sign", s.authed(s.signWithKey))

	// Proxies ask with the method of the request they hold. Envoy's form,
	// the original path appended, takes any method.
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		s.handle(m+" "+forwardPrefix, s.forwardAuth)
	}
	s.handle(forwardPrefix+"/{rest...}", s.forwardAuth)
}

// handle registers a native route.
func (s *Server) handle(pattern string, h http.HandlerFunc) { s.router.Handle(pattern, h) }

// creates registers a native route that creates something: it honours
// Idempotency-Key.
func (s *Server) creates(pattern string, h http.HandlerFunc) {
	s.router.Handle(pattern, Idempotent{Handler: h})
}

// Handle registers a route of another surface (OAuth) on the same router,
// so that it gets the same 404 and 405 answers.
func (s *Server) Handle(pattern string, h http.Handler) { s.router.Handle(pattern, h) }

// finish registers the catch-all answering 404 as problem+json.
func (s *Server) finish() {
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Type: "urn:keyhub:problem:not_found", Title: http.StatusText(404), Status: 404,
			Detail: "no such endpoint", Code: "not_found"})
	})
}

// ServeHTTP serves the API, turning panics into 500 problems. Panic values
// are not logged: they could hold request data.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "stack", string(debug.Stack()))
			writeProblem(w, r, problemOf(keyhub.Errorf(keyhub.KindInternal, "internal error")))
		}
	}()
	if s.wantsIdempotency(r) {
		r = r.WithContext(context.WithValue(r.Context(), idempotencyServer{}, s))
	}
	s.mux.ServeHTTP(w, r)
}

// Logged wraps h with a one-line access log at debug level: a busy verify
// node would otherwise write a line per request. It logs method, path,
// status and duration; never headers, query strings or bodies, which carry
// secrets. With debug logging off it adds nothing to a request.
func Logged(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !log.Enabled(r.Context(), slog.LevelDebug) {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		log.LogAttrs(r.Context(), slog.LevelDebug, "http",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handlerFunc is a handler that has an authenticated caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *keyhub.Caller)

// TenantHeader names the tenant an operator credential acts on.
const TenantHeader = "Keyhub-Tenant"

// authed authenticates the bearer credential and resolves the tenant the
// call acts on before calling h.
func (s *Server) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.Caller(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r, c)
	}
}

// Caller authenticates r. Compat surfaces use it too, so that every surface
// authenticates the same way.
func (s *Server) Caller(r *http.Request) (*keyhub.Caller, error) {
	token, ok := bearer(r)
	if !ok {
		return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "unauthenticated", "missing Authorization: Bearer credential")
	}
	ip := clientaddr.From(r)
	p, err := s.authenticate(r, token, ip)
	if err != nil {
		return nil, err
	}
	c := &keyhub.Caller{Principal: p, TenantID: p.TenantID, IP: ip}
	if t := r.Header.Get(TenantHeader); t != "" {
		if !keyhub.ValidID(keyhub.PrefixTenant, t) {
			e := keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_tenant", "%s header is not a tenant id", TenantHeader)
			e.Fields = []keyhub.FieldError{{Field: TenantHeader, Message: "must be a tenant id (ten_…)"}}
			return nil, e
		}
		switch {
		case p.Operator:
			c.TenantID = t
		case t != p.TenantID:
			return nil, keyhub.NotFound("tenant", t)
		}
	}
	return c, nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

// The values of the headers every JSON answer carries, shared rather than
// allocated per answer: a header's value slice is never modified in place
// (Add appends to a full slice, which copies it).
var (
	headerJSON    = []string{"application/json"}
	headerNoStore = []string{"no-store"}
)

// jsonHeaders labels an answer as JSON that no cache may keep.
func jsonHeaders(h http.Header) {
	h["Content-Type"] = headerJSON
	h["Cache-Control"] = headerNoStore
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	jsonHeaders(w.Header())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.Ready(ctx); err != nil {
		s.log.WarnContext(r.Context(), "readiness check failed", "error", err.Error())
		writeProblem(w, r, problemOf(unready(err)))
		return
	}
	// A degraded node still serves every answer, so it stays in its load
	// balancer: only the status and the reason tell.
	if s.svc.Degraded != nil {
		if reason := s.svc.Degraded(); reason != "" {
			writeJSON(w, http.StatusOK, map[string]string{"status": "degraded", "reason": reason})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// unready is the error /readyz answers for err: the node's own account of
// why it is degraded, or that the store did not answer. Nothing of a
// driver's message reaches the body.
func unready(err error) error {
	var e *keyhub.Error
	if errors.As(err, &e) && e.Kind == keyhub.KindUnavailable {
		return e
	}
	return keyhub.ErrUnavailable
}
