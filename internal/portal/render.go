package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/*
var staticFS embed.FS

// asset is a static file served under a name holding its content hash, so
// it can be cached for good and a new build is fetched at once.
type asset struct {
	name, ctype string
	body        []byte
}

var assets, assetURL = loadAssets()

func loadAssets() (map[string]asset, map[string]string) {
	byName, urls := map[string]asset{}, map[string]string{}
	files, err := fs.Glob(staticFS, "static/*")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		body, err := staticFS.ReadFile(f)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		base := path.Base(f)
		ext := path.Ext(base)
		name := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ctype := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}[ext]
		byName[name] = asset{name: name, ctype: ctype, body: body}
		urls[base] = "/portal/static/" + name
	}
	return byName, urls
}

func (p *Portal) static(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.PathValue("file")]
	if !ok {
		p.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	_, _ = w.Write(a.body)
}

// pages are the templates, each parsed with the shared layout.
var pages = loadPages()

func loadPages() map[string]*template.Template {
	base := template.Must(template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return out
}

// view is what every page template is given.
type view struct {
	Title  string
	Active string
	Sess   *authn.Session
	Nav    []navItem
	// Tenant is the tenant worked on; Tenants the operator's choice.
	Tenant  *keyhub.Tenant
	Tenants []*keyhub.Tenant
	CSRF    string
	Done    string
	CSS, JS string
	Now     time.Time
	// Data is the page's own.
	Data any
	// Form and Errs re-render a refused form: what was typed, and the
	// service's field errors.
	Form url.Values
	Errs []keyhub.FieldError
}

// Can reports whether the session may use scope; pages offer only what
// it may.
func (v *view) Can(scope string) bool {
	return v.Sess != nil && v.Sess.Caller != nil && v.Sess.Caller.Principal.Has(scope)
}

// Operator reports an operator's session.
func (v *view) Operator() bool {
	return v.Sess != nil && v.Sess.Caller != nil && v.Sess.Caller.Principal.Operator
}

// Err is the messages of the field errors naming field or a part of it
// ("scopes" shows "scopes[2]"; "ratelimit" shows "ratelimit.limit").
func (v *view) Err(field string) string {
	var msgs []string
	for _, f := range v.Errs {
		if f.Field == field || strings.HasPrefix(f.Field, field+"[") || strings.HasPrefix(f.Field, field+".") {
			m := f.Message
			if f.Field != field {
				m = strings.TrimPrefix(f.Field, field) + ": " + m
				m = strings.TrimLeft(m, ".")
			}
			msgs = append(msgs, m)
		}
	}
	return strings.Join(msgs, "; ")
}

// Val is what the form held for name.
func (v *view) Val(name string) string { return v.Form.Get(name) }

// fielder is page data that knows the current value of its form's fields.
type fielder interface{ Field(name string) string }

// Value is what a form field shows: what was typed when the form comes
// back refused, else the object's current value.
func (v *view) Value(name string) string {
	if _, ok := v.Form[name]; ok {
		return v.Form.Get(name)
	}
	if f, ok := v.Data.(fielder); ok {
		return f.Field(name)
	}
	return ""
}

// doneMessages are the one-line confirmations a redirect names by code.
var doneMessages = map[string]string{
	"created": "Created.", "updated": "Saved.", "revoked": "The key is revoked.", "disabled": "The key is disabled.",
	"enabled": "The key is enabled.", "deleted": "Deleted.", "removed": "The member is removed; their sessions ended.",
	"invited": "Member invited.", "invited-mailed": "Member invited; a sign-in link is on its way.",
	"signed-out": "You are signed out.", "switched": "Switched tenant.", "scope-added": "Scope added to the catalogue.",
	"scope-deleted": "Scope removed from the catalogue.", "signing-rotated": "A new signing key is current.",
	"already": "That form was already submitted; its secret was shown once and is not shown again.",
}

// render writes page name with status.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, s *authn.Session, status int, name, title string, data any, opts ...func(*view)) {
	v := &view{Title: title, Sess: s, Data: data, CSS: assetURL["app.css"], JS: assetURL["app.js"], Now: p.d.Now().UTC(),
		Done: doneMessages[r.URL.Query().Get("done")], Form: url.Values{}}
	if s != nil {
		v.CSRF = csrfToken(sessionCookie(r))
		v.Nav = navFor(s.Caller)
		p.headerTenants(r, s, v)
	} else {
		v.CSRF = csrfToken(ensureAnonCookie(w, r))
	}
	for _, o := range opts {
		o(v)
	}
	t, ok := pages[name]
	if !ok {
		panic("portal: no page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.d.Log.Error("portal: rendering a page failed", "page", name, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// headerTenants fills the tenant the session works on and, for an
// operator, the tenants to switch to.
func (p *Portal) headerTenants(r *http.Request, s *authn.Session, v *view) {
	c := s.Caller
	if c.TenantID != "" {
		if t, err := p.d.Tenants.GetTenant(r.Context(), c, c.TenantID); err == nil {
			v.Tenant = t
		}
	}
	if c.Principal.Operator && c.Principal.Has(keyhub.ScopeManageTenants) {
		if page, err := p.d.Tenants.ListTenants(r.Context(), c, service.PageRequest{Limit: keyhub.MaxPageLimit}); err == nil {
			v.Tenants = page.Items
		}
	}
}

// withForm re-renders a refused form with what was typed and the errors.
func withForm(r *http.Request, err error) func(*view) {
	return func(v *view) {
		v.Form = r.PostForm
		_, e := httpapi.Resolve(err)
		v.Errs = e.Fields
		if len(v.Errs) == 0 {
			v.Errs = []keyhub.FieldError{{Field: "form", Message: e.Message}}
		}
	}
}

// formError re-renders the form page after a refused POST: field errors
// beside their fields (422), anything else as an error page.
func (p *Portal) formError(w http.ResponseWriter, r *http.Request, s *authn.Session, err error, page, title string, data any) {
	status, e := httpapi.Resolve(err)
	if status == http.StatusUnprocessableEntity || status == http.StatusBadRequest && len(e.Fields) > 0 || e.Code == "already_exists" {
		p.render(w, r, s, status, page, title, data, withForm(r, err))
		return
	}
	p.fail(w, r, s, err)
}

// fail renders the error a service call answered, with its status.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, s *authn.Session, err error) {
	status, e := httpapi.Resolve(err)
	switch {
	case status == http.StatusUnauthorized && r.Method == http.MethodGet:
		p.toSignIn(w, r)
	case e.Code == "tenant_required":
		st := http.StatusOK // a page asked for before a tenant was picked
		if r.Method != http.MethodGet {
			st = status
		}
		p.render(w, r, s, st, "pick-tenant", "Pick a tenant", nil)
	case status >= 500:
		p.d.Log.LogAttrs(r.Context(), slog.LevelError, "portal request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		p.renderError(w, r, s, status, "Something went wrong", "keyhub could not do this just now. Try again in a moment.")
	case status == http.StatusForbidden:
		p.renderError(w, r, s, status, "Not allowed", e.Message)
	case status == http.StatusNotFound:
		p.renderError(w, r, s, status, "Not found", e.Message)
	default:
		p.renderError(w, r, s, status, http.StatusText(status), e.Message)
	}
}

type errorData struct {
	Status  int
	Message string
}

func (p *Portal) renderError(w http.ResponseWriter, r *http.Request, s *authn.Session, status int, title, msg string) {
	p.render(w, r, s, status, "error", title, errorData{status, msg})
}

// navItem is one entry of the left navigation.
type navItem struct {
	Key, Label, Href string
	Divider          bool
}

// navFor lists the pages the caller's scopes open, in the design's order.
func navFor(c *keyhub.Caller) []navItem {
	if c == nil || c.Principal == nil {
		return nil
	}
	has := c.Principal.Has
	var out []navItem
	tenant := c.TenantID != ""
	for _, n := range []struct {
		navItem
		scope string
	}{
		{navItem{Key: "keys", Label: "API keys", Href: "/portal/keys"}, keyhub.ScopeReadAPIKeys},
		{navItem{Key: "roles", Label: "Roles", Href: "/portal/roles"}, keyhub.ScopeReadRoles},
		{navItem{Key: "clients", Label: "OAuth clients", Href: "/portal/clients"}, keyhub.ScopeReadClients},
		{navItem{Key: "members", Label: "Members", Href: "/portal/members"}, keyhub.ScopeReadMembers},
		{navItem{Key: "audit", Label: "Audit log", Href: "/portal/audit"}, keyhub.ScopeReadAudit},
	} {
		if has(n.scope) && (tenant || c.Principal.Operator) {
			out = append(out, n.navItem)
		}
	}
	if c.Principal.Operator && has(keyhub.ScopeManageTenants) {
		out = append(out, navItem{Divider: true},
			navItem{Key: "tenants", Label: "Tenants", Href: "/portal/tenants"},
			navItem{Key: "scopes", Label: "Scopes", Href: "/portal/scopes"},
			navItem{Key: "signing-keys", Label: "Signing keys", Href: "/portal/signing-keys"})
	}
	return out
}

var funcs = template.FuncMap{
	"ago":      ago,
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
	"json": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return ""
		}
		return string(b)
	},
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"sortedKeys": func(m map[string]string) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	},
	"state": func(k *keyhub.APIKey, now time.Time) string { return string(k.State(now)) },
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
	"duration":  func(d keyhub.Duration) string { return humanDuration(time.Duration(d)) },
	"codeClass": codeClass,
	"diffLines": diffLines,
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// ago says how long before now t was, as a person would.
func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < 0:
		return "in " + humanDuration(-d)
	case d < time.Minute:
		return "just now"
	}
	return humanDuration(d) + " ago"
}

func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return plural(int(d.Minutes()), "min", "min")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour", "hours")
	}
	return plural(int(d.Hours()/24), "day", "days")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func resolve(err error) (int, *keyhub.Error) { return httpapi.Resolve(err) }

// diffLine is one field of an audit event's change, values as compact
// JSON: From is "" for a field set on creation.
type diffLine struct{ Field, From, To string }

// maxDiffValue bounds a value shown in the audit log; the API has it whole.
const maxDiffValue = 120

// diffLines renders an audit diff ({"field":{"from":…,"to":…}}) as lines,
// fields in order.
func diffLines(raw json.RawMessage) []diffLine {
	var d map[string]struct {
		From json.RawMessage `json:"from"`
		To   json.RawMessage `json:"to"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return nil
	}
	fields := make([]string, 0, len(d))
	for f := range d {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	out := make([]diffLine, 0, len(fields))
	for _, f := range fields {
		l := diffLine{Field: f, From: compactValue(d[f].From), To: compactValue(d[f].To)}
		if l.From == "null" || l.From == "" {
			l.From = ""
		}
		if l.To == "" {
			l.To = "null"
		}
		// A field set on creation to nothing, or naming the event's own
		// target and tenant, says nothing the row does not.
		if l.From == "" && (emptyValue[l.To] || f == "id" || f == "tenant_id") {
			continue
		}
		out = append(out, l)
	}
	return out
}

var emptyValue = map[string]bool{"null": true, `""`: true, "[]": true, "{}": true}

func compactValue(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return ""
	}
	s := buf.String()
	if r := []rune(s); len(r) > maxDiffValue {
		s = string(r[:maxDiffValue]) + "…"
	}
	return s
}
