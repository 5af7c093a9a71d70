package portal

import (
	"net/http"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

type roleList struct {
	Items []*keyhub.Role
	Pager pager
}

func (p *Portal) listRoles(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	page, err := p.d.Roles.ListRoles(r.Context(), s.Caller, cursorOf(r))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "roles", "Roles", roleList{Items: page.Items, Pager: pagerFor(r, page.Next)}, active("roles"))
}

type roleForm struct {
	Role      *keyhub.Role
	Catalogue []*keyhub.ScopeEntry
}

func (p *Portal) newRole(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if !s.Caller.Principal.Has(keyhub.ScopeManageRoles) {
		p.fail(w, r, s, keyhub.ErrInsufficientScope(keyhub.ScopeManageRoles, "creating a role"))
		return
	}
	p.render(w, r, s, http.StatusOK, "role", "Create a role", roleForm{Catalogue: p.catalogue(r, s)}, active("roles"))
}

func (p *Portal) createRole(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	ro, err := p.d.Roles.CreateRole(r.Context(), s.Caller, service.RoleCreate{Name: f.str("name"),
		Description: f.str("description"), Scopes: f.list("scopes")})
	if err != nil {
		p.formError(w, r, s, err, "role", "Create a role", roleForm{Catalogue: p.catalogue(r, s)})
		return
	}
	redirectDone(w, r, "/portal/roles/"+ro.ID, "created")
}

func (p *Portal) showRole(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	ro, err := p.d.Roles.GetRole(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "role", ro.Name, roleForm{Role: ro, Catalogue: p.catalogue(r, s)}, active("roles"))
}

func (p *Portal) updateRole(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	id := r.PathValue("id")
	_, err := p.d.Roles.UpdateRole(r.Context(), s.Caller, id, service.RolePatch{Name: service.Some(f.str("name")),
		Description: service.Some(f.str("description")), Scopes: service.Some(f.list("scopes"))})
	if err != nil {
		ro, gerr := p.d.Roles.GetRole(r.Context(), s.Caller, id)
		if gerr != nil {
			p.fail(w, r, s, err)
			return
		}
		p.formError(w, r, s, err, "role", ro.Name, roleForm{Role: ro, Catalogue: p.catalogue(r, s)})
		return
	}
	redirectDone(w, r, "/portal/roles/"+id, "updated")
}

func (p *Portal) deleteRolePage(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	ro, err := p.d.Roles.GetRole(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "confirm", "Delete role "+ro.Name, confirmData{
		What: "role", Name: ro.Name, ID: ro.ID, Action: "/portal/roles/" + ro.ID + "/delete", Back: "/portal/roles/" + ro.ID,
		Button: "Delete role", Text: "Keys in this role keep their own scopes; a role that keys still belong to cannot be deleted."},
		active("roles"))
}

func (p *Portal) deleteRole(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if err := p.d.Roles.DeleteRole(r.Context(), s.Caller, r.PathValue("id")); err != nil {
		p.fail(w, r, s, err)
		return
	}
	redirectDone(w, r, "/portal/roles", "deleted")
}

// confirmData is a page that asks before a destructive change, naming
// what it changes.
type confirmData struct {
	What, Name, ID string
	Action, Back   string
	Button, Text   string
}

// Field is the role's current value of a form field.
func (f roleForm) Field(name string) string {
	if f.Role == nil {
		return ""
	}
	switch name {
	case "name":
		return f.Role.Name
	case "description":
		return f.Role.Description
	case "scopes":
		return strings.Join(f.Role.Scopes, " ")
	}
	return ""
}
