// Package portal is keyhub's self-service web portal at /portal/: pages
// rendered on the server from embedded templates, for a tenant's members
// and for the operator. It is one more surface over the same services as
// the API: every page reads the form, makes one service call as the
// session's caller, and renders or redirects. No rule lives here; what a
// member's scopes do not allow is not offered, and a forged request for it
// is refused by the service as the API refuses it.
package portal

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/mail"
)

// Sessions is the authentication service as the portal uses it:
// *authn.Service implements it.
type Sessions interface {
	SignInLinks(ctx context.Context, email string) ([]authn.SignInLink, error)
	OpenSession(ctx context.Context, kind, token string, ip netip.Addr) (string, *authn.Session, error)
	OpenCredentialSession(ctx context.Context, key string, ip netip.Addr) (string, *authn.Session, error)
	Session(ctx context.Context, cookie string, ip netip.Addr) (*authn.Session, error)
	CloseSession(ctx context.Context, cookie string) error
	SetActingTenant(ctx context.Context, cookie string, sess *authn.Session, tenantID string) error
	UseFormNonce(ctx context.Context, sess *authn.Session, nonce string) error
}

// Deps are the services the pages call.
type Deps struct {
	Sessions Sessions
	Tenants  httpapi.TenantService
	Scopes   httpapi.ScopeService
	Keys     httpapi.KeyService
	Roles    httpapi.RoleService
	Clients  httpapi.ClientService
	Members  httpapi.MemberService
	Audit    httpapi.AuditService
	Signing  httpapi.SigningService
	// Mail sends sign-in links; nil offers no email sign-in.
	Mail mail.Sender
	// Base is the public URL of keyhub that mailed links start with
	// ("https://keys.example.com").
	Base string
	// Now is the clock states and charts are drawn at.
	Now func() time.Time
	Log *slog.Logger
}

// DepsOf gathers the portal's services from a node's management and
// authentication services.
func DepsOf(m httpapi.Management, s Sessions, sender mail.Sender, base string, log *slog.Logger) Deps {
	return Deps{Sessions: s, Tenants: m, Scopes: m, Keys: m, Roles: m, Clients: m, Members: m, Audit: m, Signing: m,
		Mail: sender, Base: strings.TrimRight(base, "/"), Now: m.Now, Log: log}
}

// Portal serves the pages.
type Portal struct {
	d   Deps
	mux *http.ServeMux
	// mailing bounds the sign-in mails being sent at once, so that a flood
	// of sign-in requests cannot pile up goroutines.
	mailing chan struct{}
	bg      sync.WaitGroup
}

// New returns the portal over d.
func New(d Deps) *Portal {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	p := &Portal{d: d, mux: http.NewServeMux(), mailing: make(chan struct{}, 16)}
	p.routes()
	return p
}

// Mount serves the portal at /portal/ on mux and redirects / to it.
func (p *Portal) Mount(mux *http.ServeMux) {
	mux.Handle("/portal/", p)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/portal/", http.StatusFound)
	})
}

// Wait waits for sign-in mails being sent, for a clean shutdown.
func (p *Portal) Wait() { p.bg.Wait() }

func (p *Portal) routes() {
	m := p.mux
	m.HandleFunc("GET /portal/static/{file}", p.static)
	m.HandleFunc("GET /portal/{$}", p.authed(p.home))

	m.HandleFunc("GET /portal/sign-in", p.signInPage)
	m.HandleFunc("POST /portal/sign-in/email", p.anonForm(p.signInEmail))
	m.HandleFunc("POST /portal/sign-in/key", p.anonForm(p.signInKey))
	m.HandleFunc("GET /portal/sign-in/link", p.signInLinkPage)
	m.HandleFunc("POST /portal/sign-in/link", p.anonForm(p.signInLink))
	m.HandleFunc("GET /portal/handoff", p.handoff)
	m.HandleFunc("POST /portal/sign-out", p.form(p.signOut))
	m.HandleFunc("POST /portal/tenant", p.form(p.switchTenant))

	m.HandleFunc("GET /portal/keys", p.authed(p.listKeys))
	m.HandleFunc("GET /portal/keys/new", p.authed(p.newKey))
	m.HandleFunc("POST /portal/keys", p.form(p.createKey))
	m.HandleFunc("GET /portal/keys/{id}", p.authed(p.showKey))
	m.HandleFunc("GET /portal/keys/{id}/rotate", p.authed(p.rotateKeyPage))
	m.HandleFunc("POST /portal/keys/{id}/rotate", p.form(p.rotateKey))
	m.HandleFunc("POST /portal/keys/{id}/disable", p.form(p.setKeyEnabled(false)))
	m.HandleFunc("POST /portal/keys/{id}/enable", p.form(p.setKeyEnabled(true)))
	m.HandleFunc("GET /portal/keys/{id}/revoke", p.authed(p.revokeKeyPage))
	m.HandleFunc("POST /portal/keys/{id}/revoke", p.form(p.revokeKey))

	m.HandleFunc("GET /portal/roles", p.authed(p.listRoles))
	m.HandleFunc("GET /portal/roles/new", p.authed(p.newRole))
	m.HandleFunc("POST /portal/roles", p.form(p.createRole))
	m.HandleFunc("GET /portal/roles/{id}", p.authed(p.showRole))
	m.HandleFunc("POST /portal/roles/{id}", p.form(p.updateRole))
	m.HandleFunc("GET /portal/roles/{id}/delete", p.authed(p.deleteRolePage))
	m.HandleFunc("POST /portal/roles/{id}/delete", p.form(p.deleteRole))

	m.HandleFunc("GET /portal/clients", p.authed(p.listClients))
	m.HandleFunc("GET /portal/clients/new", p.authed(p.newClient))
	m.HandleFunc("POST /portal/clients", p.form(p.createClient))
	m.HandleFunc("GET /portal/clients/{id}", p.authed(p.showClient))
	m.HandleFunc("POST /portal/clients/{id}", p.form(p.updateClient))
	m.HandleFunc("GET /portal/clients/{id}/rotate-secret", p.authed(p.rotateSecretPage))
	m.HandleFunc("POST /portal/clients/{id}/rotate-secret", p.form(p.rotateSecret))
	m.HandleFunc("GET /portal/clients/{id}/delete", p.authed(p.deleteClientPage))
	m.HandleFunc("POST /portal/clients/{id}/delete", p.form(p.deleteClient))

	m.HandleFunc("GET /portal/members", p.authed(p.listMembers))
	m.HandleFunc("GET /portal/members/new", p.authed(p.newMember))
	m.HandleFunc("POST /portal/members", p.form(p.createMember))
	m.HandleFunc("GET /portal/members/{id}", p.authed(p.showMember))
	m.HandleFunc("POST /portal/members/{id}", p.form(p.updateMember))
	m.HandleFunc("GET /portal/members/{id}/remove", p.authed(p.removeMemberPage))
	m.HandleFunc("POST /portal/members/{id}/remove", p.form(p.removeMember))

	m.HandleFunc("GET /portal/audit", p.authed(p.listAudit))

	m.HandleFunc("GET /portal/tenants", p.authed(p.listTenants))
	m.HandleFunc("POST /portal/tenants", p.form(p.createTenant))
	m.HandleFunc("GET /portal/tenants/{id}", p.authed(p.showTenant))
	m.HandleFunc("POST /portal/tenants/{id}", p.form(p.updateTenant))
	m.HandleFunc("GET /portal/scopes", p.authed(p.listScopes))
	m.HandleFunc("POST /portal/scopes", p.form(p.createScope))
	m.HandleFunc("POST /portal/scopes/delete", p.form(p.deleteScope))
	m.HandleFunc("GET /portal/signing-keys", p.authed(p.signingKeys))
	m.HandleFunc("POST /portal/signing-keys/rotate", p.form(p.rotateSigningKey))
}

// ServeHTTP serves a portal page with the headers every page carries.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No script but our own file, no style but our own sheet, no frame, no
	// form posting elsewhere, no request outside keyhub.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if !strings.HasPrefix(r.URL.Path, "/portal/static/") {
		// Pages show secrets once and the caller's data always: never
		// stored, so Back does not bring a secret back.
		h.Set("Cache-Control", "no-store")
	}
	if _, pattern := p.mux.Handler(r); pattern == "" {
		p.notFound(w, r)
		return
	}
	p.mux.ServeHTTP(w, r)
}

// notFound answers a path no page has, or a method a page does not take.
func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	sess, _ := p.session(r)
	p.renderError(w, r, sess, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

// authed resolves the session before h; without one a page redirects to
// the sign-in page, which comes back here afterwards.
func (p *Portal) authed(h func(w http.ResponseWriter, r *http.Request, s *authn.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := p.session(r)
		if err != nil {
			if keyhub.IsKind(err, keyhub.KindUnauthorized) {
				p.toSignIn(w, r)
				return
			}
			p.fail(w, r, nil, err)
			return
		}
		h(w, r, sess)
	}
}

// form is authed for a POST: the CSRF token must match the session's.
func (p *Portal) form(h func(w http.ResponseWriter, r *http.Request, s *authn.Session)) http.HandlerFunc {
	return p.authed(func(w http.ResponseWriter, r *http.Request, s *authn.Session) {
		r.Body = http.MaxBytesReader(w, r.Body, httpapi.MaxBodySize)
		if !p.csrfOK(r, sessionCookie(r)) {
			p.renderError(w, r, s, http.StatusForbidden, "The form expired", "This form is missing its security token or it is out of date. Go back, reload the page and try again.")
			return
		}
		h(w, r, s)
	})
}

// anonForm guards a POST made before sign-in with the pre-session CSRF
// cookie.
func (p *Portal) anonForm(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, httpapi.MaxBodySize)
		if !p.csrfOK(r, anonCookie(r)) {
			p.renderError(w, r, nil, http.StatusForbidden, "The form expired", "This form is missing its security token or it is out of date. Reload the page and try again.")
			return
		}
		h(w, r)
	}
}

func (p *Portal) session(r *http.Request) (*authn.Session, error) {
	c := sessionCookie(r)
	if c == "" {
		return nil, authn.ErrNoSession()
	}
	return p.d.Sessions.Session(r.Context(), c, clientIP(r))
}

// toSignIn sends a signed-out browser to the sign-in page, remembering a
// page it asked for.
func (p *Portal) toSignIn(w http.ResponseWriter, r *http.Request) {
	to := "/portal/sign-in"
	if r.Method == http.MethodGet && r.URL.Path != "/portal/" {
		to += "?next=" + urlEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// home sends a member to the first page their scopes open.
func (p *Portal) home(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	for _, n := range navFor(s.Caller) {
		if !n.Divider {
			http.Redirect(w, r, n.Href, http.StatusSeeOther)
			return
		}
	}
	p.render(w, r, s, http.StatusOK, "empty", "Nothing to manage", nil)
}

// redirectDone answers a successful form with POST/redirect/GET and a
// one-line confirmation named by a fixed code.
func redirectDone(w http.ResponseWriter, r *http.Request, to, done string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"done="+done, http.StatusSeeOther)
}

// pageSize is how many rows a portal list shows.
const pageSize = 25
