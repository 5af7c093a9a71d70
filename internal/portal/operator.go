package portal

import (
	"net/http"
	"sort"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

// The operator's pages: tenants, the scope catalogue and the token
// signing key. manage:tenants guards them all, in the service.

type tenantList struct {
	Items []*keyhub.Tenant
	Pager pager
}

func (p *Portal) listTenants(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	p.renderTenants(w, r, s, http.StatusOK, nil)
}

func (p *Portal) renderTenants(w http.ResponseWriter, r *http.Request, s *authn.Session, status int, formErr error) {
	page, err := p.d.Tenants.ListTenants(r.Context(), s.Caller, cursorOf(r))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	opts := []func(*view){active("tenants")}
	if formErr != nil {
		opts = append(opts, withForm(r, formErr))
	}
	p.render(w, r, s, status, "tenants", "Tenants", tenantList{Items: page.Items, Pager: pagerFor(r, page.Next)}, opts...)
}

// prefixes reads "live=kh_live, test=kh_test" into an environment map;
// nil when the field is empty.
func prefixes(f *formReader, name string) map[string]string {
	s := f.str(name)
	if s == "" {
		return nil
	}
	m := map[string]string{}
	for _, part := range f.list(name) {
		env, prefix, ok := strings.Cut(part, "=")
		if !ok {
			f.v.Add("key_prefixes", "write each environment as name=prefix, such as live=kh_live")
			return nil
		}
		m[strings.TrimSpace(env)] = strings.TrimSpace(prefix)
	}
	return m
}

func (p *Portal) createTenant(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	in := service.TenantCreate{Name: f.str("name"), KeyPrefixes: prefixes(f, "key_prefixes")}
	if err := f.err(); err != nil {
		p.renderTenants(w, r, s, http.StatusUnprocessableEntity, err)
		return
	}
	t, err := p.d.Tenants.CreateTenant(r.Context(), s.Caller, in)
	if err != nil {
		if status, _ := resolve(err); status == http.StatusUnprocessableEntity {
			p.renderTenants(w, r, s, status, err)
			return
		}
		p.fail(w, r, s, err)
		return
	}
	redirectDone(w, r, "/portal/tenants/"+t.ID, "created")
}

func (p *Portal) showTenant(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	t, err := p.d.Tenants.GetTenant(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	if !s.Caller.Principal.Has(keyhub.ScopeManageTenants) {
		p.fail(w, r, s, keyhub.ErrInsufficientScope(keyhub.ScopeManageTenants, "managing tenants"))
		return
	}
	p.render(w, r, s, http.StatusOK, "tenant", t.Name, tenantForm{t}, active("tenants"))
}

func (p *Portal) updateTenant(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	id := r.PathValue("id")
	in := service.TenantPatch{Name: service.Some(f.str("name"))}
	if m := prefixes(f, "key_prefixes"); m != nil {
		in.KeyPrefixes = service.Some(m)
	}
	err := f.err()
	if err == nil {
		_, err = p.d.Tenants.UpdateTenant(r.Context(), s.Caller, id, in)
	}
	if err != nil {
		t, gerr := p.d.Tenants.GetTenant(r.Context(), s.Caller, id)
		if gerr != nil {
			p.fail(w, r, s, err)
			return
		}
		p.formError(w, r, s, err, "tenant", t.Name, tenantForm{t})
		return
	}
	redirectDone(w, r, "/portal/tenants/"+id, "updated")
}

func (p *Portal) listScopes(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	p.renderScopes(w, r, s, http.StatusOK, nil)
}

func (p *Portal) renderScopes(w http.ResponseWriter, r *http.Request, s *authn.Session, status int, formErr error) {
	if !s.Caller.Principal.Has(keyhub.ScopeManageTenants) {
		p.fail(w, r, s, keyhub.ErrInsufficientScope(keyhub.ScopeManageTenants, "managing the scope catalogue"))
		return
	}
	cat, err := p.d.Scopes.ListScopes(r.Context(), s.Caller)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	opts := []func(*view){active("scopes")}
	if formErr != nil {
		opts = append(opts, withForm(r, formErr))
	}
	p.render(w, r, s, status, "scopes", "Scope catalogue", cat, opts...)
}

func (p *Portal) createScope(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	if _, err := p.d.Scopes.CreateScope(r.Context(), s.Caller, service.ScopeCreate{Name: f.str("name"), Description: f.str("description")}); err != nil {
		status, e := resolve(err)
		if status == http.StatusUnprocessableEntity || e.Code == "scope_exists" {
			if len(e.Fields) == 0 {
				err = &keyhub.Error{Kind: e.Kind, Code: e.Code, Message: e.Message, Fields: []keyhub.FieldError{{Field: "name", Message: e.Message}}}
			}
			p.renderScopes(w, r, s, status, err)
			return
		}
		p.fail(w, r, s, err)
		return
	}
	redirectDone(w, r, "/portal/scopes", "scope-added")
}

func (p *Portal) deleteScope(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if err := p.d.Scopes.DeleteScope(r.Context(), s.Caller, r.PostForm.Get("name")); err != nil {
		p.fail(w, r, s, err)
		return
	}
	redirectDone(w, r, "/portal/scopes", "scope-deleted")
}

type signingData struct {
	KID, Alg string
}

func (p *Portal) signingKeys(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if !s.Caller.Principal.Has(keyhub.ScopeManageTenants) {
		p.fail(w, r, s, keyhub.ErrInsufficientScope(keyhub.ScopeManageTenants, "rotating the signing key"))
		return
	}
	p.render(w, r, s, http.StatusOK, "signing-keys", "Signing keys", signingData{KID: r.URL.Query().Get("kid")}, active("signing-keys"))
}

func (p *Portal) rotateSigningKey(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	k, err := p.d.Signing.RotateSigningKey(r.Context(), s.Caller)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "signing-keys", "Signing keys", signingData{KID: k.ID, Alg: k.Algorithm}, active("signing-keys"))
}

// tenantForm is a tenant's edit form.
type tenantForm struct{ Tenant *keyhub.Tenant }

// Field is the tenant's current value of a form field.
func (f tenantForm) Field(name string) string {
	switch name {
	case "name":
		return f.Tenant.Name
	case "key_prefixes":
		envs := make([]string, 0, len(f.Tenant.KeyPrefixes))
		for e := range f.Tenant.KeyPrefixes {
			envs = append(envs, e)
		}
		sort.Strings(envs)
		for i, e := range envs {
			envs[i] = e + "=" + f.Tenant.KeyPrefixes[e]
		}
		return strings.Join(envs, " ")
	}
	return ""
}
