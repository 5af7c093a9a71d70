package portal

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

// pager links a list's pages. Lists page forward by cursor; the cursors of
// the pages before travel in the URL ("back"), so "← Previous" works too
// and every page stays bookmarkable.
type pager struct {
	Next, Prev string
}

// maxBack bounds the cursors a URL carries: past it, Previous starts over.
const maxBack = 20

func pagerFor(r *http.Request, next string) pager {
	q := r.URL.Query()
	cur, back := q.Get("cursor"), q["back"]
	var p pager
	link := func(cursor string, back []string) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "cursor" && k != "back" && k != "done" {
				v[k] = vs
			}
		}
		if cursor != "" && cursor != "-" {
			v.Set("cursor", cursor)
		}
		for _, b := range back {
			v.Add("back", b)
		}
		if len(v) == 0 {
			return r.URL.Path
		}
		return r.URL.Path + "?" + v.Encode()
	}
	if next != "" {
		b := cur
		if b == "" {
			b = "-"
		}
		nb := append(append([]string(nil), back...), b)
		if len(nb) > maxBack {
			nb = nb[len(nb)-maxBack:]
		}
		p.Next = link(next, nb)
	}
	if cur != "" {
		prev := "-"
		if len(back) > 0 {
			prev = back[len(back)-1]
			back = back[:len(back)-1]
		}
		p.Prev = link(prev, back)
	}
	return p
}

// cursorOf is the page's cursor as the service takes it.
func cursorOf(r *http.Request) service.PageRequest {
	return service.PageRequest{Limit: pageSize, Cursor: r.URL.Query().Get("cursor")}
}

type keyList struct {
	Items  []*keyhub.APIKey
	Roles  []*keyhub.Role
	Role   map[string]string
	Envs   []string
	States []string
	Q      url.Values
	Pager  pager
	// Filtered says a filter is set, so an empty list is "no match", not
	// "no keys yet".
	Filtered bool
}

func (p *Portal) listKeys(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	q := r.URL.Query()
	query := service.KeyQuery{PageRequest: cursorOf(r), NameContains: q.Get("q"), Environment: q.Get("environment"),
		State: q.Get("state"), RoleID: q.Get("role")}
	page, err := p.d.Keys.ListKeys(r.Context(), s.Caller, query)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	d := keyList{Items: page.Items, Q: q, Pager: pagerFor(r, page.Next), Role: map[string]string{},
		States:   []string{"active", "disabled", "expired", "revoked"},
		Filtered: query.NameContains != "" || query.Environment != "" || query.State != "" || query.RoleID != ""}
	d.Roles, d.Role = p.roleNames(r, s)
	d.Envs = p.environments(r, s)
	p.render(w, r, s, http.StatusOK, "keys", "API keys", d, active("keys"))
}

func active(key string) func(*view) { return func(v *view) { v.Active = key } }

// roleNames lists the tenant's roles (the first page a filter can hold)
// when the session may read them.
func (p *Portal) roleNames(r *http.Request, s *authn.Session) ([]*keyhub.Role, map[string]string) {
	names := map[string]string{}
	if !s.Caller.Principal.Has(keyhub.ScopeReadRoles) {
		return nil, names
	}
	page, err := p.d.Roles.ListRoles(r.Context(), s.Caller, service.PageRequest{Limit: keyhub.MaxPageLimit})
	if err != nil {
		return nil, names
	}
	for _, ro := range page.Items {
		names[ro.ID] = ro.Name
	}
	return page.Items, names
}

// environments are the tenant's environment names, sorted.
func (p *Portal) environments(r *http.Request, s *authn.Session) []string {
	t, err := p.d.Tenants.GetTenant(r.Context(), s.Caller, s.Caller.TenantID)
	if err != nil {
		return nil
	}
	envs := make([]string, 0, len(t.KeyPrefixes))
	for e := range t.KeyPrefixes {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	return envs
}

// catalogue is the operator's scope catalogue, for the scope fields'
// typeahead.
func (p *Portal) catalogue(r *http.Request, s *authn.Session) []*keyhub.ScopeEntry {
	cat, err := p.d.Scopes.ListScopes(r.Context(), s.Caller)
	if err != nil {
		return nil
	}
	return cat
}

type keyForm struct {
	Envs      []string
	Roles     []*keyhub.Role
	Catalogue []*keyhub.ScopeEntry
	Nonce     string
}

func (p *Portal) keyForm(r *http.Request, s *authn.Session) keyForm {
	roles, _ := p.roleNames(r, s)
	return keyForm{Envs: p.environments(r, s), Roles: roles, Catalogue: p.catalogue(r, s), Nonce: newNonce()}
}

func (p *Portal) newKey(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if !s.Caller.Principal.Has(keyhub.ScopeCreateAPIKeys) {
		p.fail(w, r, s, keyhub.ErrInsufficientScope(keyhub.ScopeCreateAPIKeys, "creating an API key"))
		return
	}
	if s.Caller.TenantID == "" {
		p.render(w, r, s, http.StatusOK, "pick-tenant", "Pick a tenant", nil)
		return
	}
	p.render(w, r, s, http.StatusOK, "key-new", "Create an API key", p.keyForm(r, s), active("keys"))
}

// secretData is the page that shows a secret, once.
type secretData struct {
	Kind   string // "key" or "client"
	Name   string
	ID     string
	Secret string
	Href   string
}

func (p *Portal) createKey(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	in := service.KeyCreate{Name: f.str("name"), Environment: f.str("environment"), Scopes: f.list("scopes"),
		RoleID: f.str("role_id"), IPs: f.list("ips"), ExpiresAt: f.expiry("expires_in", "expires_at", p.d.Now())}
	if meta := f.str("meta"); meta != "" {
		in.Meta = json.RawMessage(meta)
	}
	limit, window := f.int("ratelimit_limit", "ratelimit.limit"), f.str("ratelimit_duration")
	if limit != nil || window != "" {
		in.RateLimit = &service.RateLimitInput{Duration: window}
		if limit != nil {
			in.RateLimit.Limit = *limit
		}
	}
	remaining := f.int("credits_remaining", "credits.remaining")
	refill := refillOf(f.int("credits_refill_amount", "credits.refill.amount"), f.str("credits_refill_interval"))
	if remaining != nil || refill != nil {
		in.Credits = &service.CreditsInput{Refill: refill}
		if remaining != nil {
			in.Credits.Remaining = *remaining
		}
	}
	if err := f.err(); err != nil {
		p.formError(w, r, s, err, "key-new", "Create an API key", p.keyForm(r, s))
		return
	}
	if !p.spendNonce(w, r, s, "/portal/keys") {
		return
	}
	k, secret, err := p.d.Keys.CreateKey(r.Context(), s.Caller, in)
	if err != nil {
		p.formError(w, r, s, err, "key-new", "Create an API key", p.keyForm(r, s))
		return
	}
	p.render(w, r, s, http.StatusCreated, "secret", "Your new API key",
		secretData{Kind: "key", Name: k.Name, ID: k.ID, Secret: secret, Href: "/portal/keys/" + k.ID}, active("keys"))
}

type keyPage struct {
	Key        *keyhub.APIKey
	Role       *keyhub.Role
	State      string
	Chart      *usageChart
	Events     []*keyhub.AuditEvent
	CanAudit   bool
	RoleScopes []string
}

func (p *Portal) showKey(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	ctx, c := r.Context(), s.Caller
	k, err := p.d.Keys.GetKey(ctx, c, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	now := p.d.Now()
	d := keyPage{Key: k, State: string(k.State(now))}
	if k.RoleID != "" && c.Principal.Has(keyhub.ScopeReadRoles) {
		if ro, err := p.d.Roles.GetRole(ctx, c, k.RoleID); err == nil {
			d.Role, d.RoleScopes = ro, ro.Scopes
		}
	}
	win := windowOf(r.URL.Query().Get("window"))
	from, to := win.bounds(now)
	usage, err := p.d.Keys.KeyUsage(ctx, c, k.ID, from, to)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	d.Chart = newUsageChart(usage, win, now)
	if c.Principal.Has(keyhub.ScopeReadAudit) {
		d.CanAudit = true
		if ev, err := p.d.Audit.ListAuditEvents(ctx, c, service.AuditQuery{TargetID: k.ID, PageRequest: service.PageRequest{Limit: 20}}); err == nil {
			d.Events = ev.Items
		}
	}
	p.render(w, r, s, http.StatusOK, "key", k.Name, d, active("keys"))
}

type keyAction struct {
	Key   *keyhub.APIKey
	Nonce string
}

func (p *Portal) keyActionPage(page, title string) func(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	return func(w http.ResponseWriter, r *http.Request, s *authn.Session) {
		k, err := p.d.Keys.GetKey(r.Context(), s.Caller, r.PathValue("id"))
		if err != nil {
			p.fail(w, r, s, err)
			return
		}
		p.render(w, r, s, http.StatusOK, page, title+" "+k.Name, keyAction{Key: k, Nonce: newNonce()}, active("keys"))
	}
}

func (p *Portal) rotateKeyPage(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	p.keyActionPage("key-rotate", "Rotate")(w, r, s)
}

func (p *Portal) revokeKeyPage(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	p.keyActionPage("key-revoke", "Revoke")(w, r, s)
}

func (p *Portal) rotateKey(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	id := r.PathValue("id")
	if !p.spendNonce(w, r, s, "/portal/keys/"+id) {
		return
	}
	k, secret, err := p.d.Keys.RotateKey(r.Context(), s.Caller, id, service.RotateRequest{GracePeriod: readForm(r).str("grace_period")})
	if err != nil {
		old, gerr := p.d.Keys.GetKey(r.Context(), s.Caller, id)
		if gerr != nil {
			p.fail(w, r, s, err)
			return
		}
		p.formError(w, r, s, err, "key-rotate", "Rotate "+old.Name, keyAction{Key: old, Nonce: newNonce()})
		return
	}
	p.render(w, r, s, http.StatusCreated, "secret", "Your rotated API key",
		secretData{Kind: "key", Name: k.Name, ID: k.ID, Secret: secret, Href: "/portal/keys/" + k.ID}, active("keys"))
}

func (p *Portal) setKeyEnabled(on bool) func(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	return func(w http.ResponseWriter, r *http.Request, s *authn.Session) {
		id := r.PathValue("id")
		if _, err := p.d.Keys.UpdateKey(r.Context(), s.Caller, id, service.KeyPatch{Enabled: service.Some(&on)}); err != nil {
			p.fail(w, r, s, err)
			return
		}
		done := "disabled"
		if on {
			done = "enabled"
		}
		redirectDone(w, r, "/portal/keys/"+id, done)
	}
}

func (p *Portal) revokeKey(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	id := r.PathValue("id")
	if _, err := p.d.Keys.RevokeKey(r.Context(), s.Caller, id); err != nil {
		p.fail(w, r, s, err)
		return
	}
	redirectDone(w, r, "/portal/keys/"+id, "revoked")
}
