package portal

import (
	"net/http"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

// preset is a ready-made set of scopes for a member. Presets only fill the
// scopes field: the member holds the scopes, and the coverage rule decides
// who may give them.
type preset struct {
	Key, Label, Help string
	scopes           func(catalogue []*keyhub.ScopeEntry) []string
}

var keyScopes = []string{keyhub.ScopeReadAPIKeys, keyhub.ScopeCreateAPIKeys, keyhub.ScopeUpdateAPIKeys,
	keyhub.ScopeDeleteAPIKeys, keyhub.ScopeReadRoles, keyhub.ScopeReadClients, keyhub.ScopeManageClients,
	keyhub.ScopeReadAudit, keyhub.ScopeReadMembers}

var presets = []preset{
	{"admin", "Admin", "Everything the tenant may do, members included.", func([]*keyhub.ScopeEntry) []string { return []string{"*"} }},
	{"developer", "Developer", "Keys and OAuth clients, with every scope of the catalogue; reads roles, members and the audit log.",
		func(cat []*keyhub.ScopeEntry) []string {
			out := append([]string(nil), keyScopes...)
			for _, e := range cat {
				out = append(out, e.Name)
			}
			return out
		}},
	{"viewer", "Viewer", "Reads keys, roles, clients, members and the audit log; changes nothing.",
		func([]*keyhub.ScopeEntry) []string {
			return []string{keyhub.ScopeReadAPIKeys, keyhub.ScopeReadRoles, keyhub.ScopeReadClients, keyhub.ScopeReadAudit, keyhub.ScopeReadMembers}
		}},
	{"custom", "Custom", "The scopes you list below.", nil},
}

// memberScopes are the scopes a member form asks for: a preset's, or the
// listed ones.
func (p *Portal) memberScopes(r *http.Request, s *authn.Session, f *formReader) []string {
	for _, pr := range presets {
		if pr.Key == f.str("preset") && pr.scopes != nil {
			return pr.scopes(p.catalogue(r, s))
		}
	}
	return f.list("scopes")
}

type memberList struct {
	Items    []*keyhub.Member
	Pager    pager
	Search   string
	Filtered bool
}

func (p *Portal) listMembers(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	q := r.URL.Query().Get("q")
	page, err := p.d.Members.ListMembers(r.Context(), s.Caller, service.MemberQuery{PageRequest: cursorOf(r), Search: q})
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "members", "Members",
		memberList{Items: page.Items, Pager: pagerFor(r, page.Next), Search: q, Filtered: q != ""}, active("members"))
}

type memberForm struct {
	Member    *keyhub.Member
	Presets   []preset
	Catalogue []*keyhub.ScopeEntry
	// Mail says sign-in links can be mailed.
	Mail bool
}

func (p *Portal) memberForm(r *http.Request, s *authn.Session, m *keyhub.Member) memberForm {
	return memberForm{Member: m, Presets: presets, Catalogue: p.catalogue(r, s), Mail: p.d.Mail != nil}
}

func (p *Portal) newMember(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if !s.Caller.Principal.Has(keyhub.ScopeManageMembers) {
		p.fail(w, r, s, keyhub.ErrInsufficientScope(keyhub.ScopeManageMembers, "inviting a member"))
		return
	}
	p.render(w, r, s, http.StatusOK, "member", "Invite a member", p.memberForm(r, s, nil), active("members"))
}

func (p *Portal) createMember(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	m, err := p.d.Members.CreateMember(r.Context(), s.Caller, service.MemberCreate{Email: f.str("email"), Name: f.str("name"),
		Scopes: p.memberScopes(r, s, f)})
	if err != nil {
		p.formError(w, r, s, err, "member", "Invite a member", p.memberForm(r, s, nil))
		return
	}
	done := "invited"
	if f.str("send_link") == "on" && p.d.Mail != nil {
		select {
		case p.mailing <- struct{}{}:
			p.bg.Go(func() {
				defer func() { <-p.mailing }()
				p.mailLinks(m.Email)
			})
			done = "invited-mailed"
		default:
		}
	}
	redirectDone(w, r, "/portal/members/"+m.ID, done)
}

func (p *Portal) showMember(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	m, err := p.d.Members.GetMember(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "member", m.Name, p.memberForm(r, s, m), active("members"))
}

func (p *Portal) updateMember(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	id := r.PathValue("id")
	_, err := p.d.Members.UpdateMember(r.Context(), s.Caller, id, service.MemberPatch{Email: service.Some(f.str("email")),
		Name: service.Some(f.str("name")), Scopes: service.Some(p.memberScopes(r, s, f))})
	if err != nil {
		m, gerr := p.d.Members.GetMember(r.Context(), s.Caller, id)
		if gerr != nil {
			p.fail(w, r, s, err)
			return
		}
		p.formError(w, r, s, err, "member", m.Name, p.memberForm(r, s, m))
		return
	}
	redirectDone(w, r, "/portal/members/"+id, "updated")
}

func (p *Portal) removeMemberPage(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	m, err := p.d.Members.GetMember(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "confirm", "Remove member "+m.Name, confirmData{
		What: "member", Name: m.Name + " (" + m.Email + ")", ID: m.ID, Action: "/portal/members/" + m.ID + "/remove",
		Back: "/portal/members/" + m.ID, Button: "Remove member", Text: "They are signed out at once and can no longer sign in."},
		active("members"))
}

func (p *Portal) removeMember(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if err := p.d.Members.DeleteMember(r.Context(), s.Caller, r.PathValue("id")); err != nil {
		p.fail(w, r, s, err)
		return
	}
	redirectDone(w, r, "/portal/members", "removed")
}

// Preset is the preset the form starts on: the one the member's scopes
// are, "custom" for any other, "viewer" for a new member.
func (f memberForm) Preset() string {
	if f.Member == nil {
		return "viewer"
	}
	for _, pr := range f.Presets {
		if pr.scopes != nil && sameSet(pr.scopes(f.Catalogue), f.Member.Scopes) {
			return pr.Key
		}
	}
	return "custom"
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := map[string]bool{}
	for _, s := range a {
		in[s] = true
	}
	for _, s := range b {
		if !in[s] {
			return false
		}
	}
	return true
}

// Field is the member's current value of a form field.
func (f memberForm) Field(name string) string {
	if name == "preset" {
		return f.Preset()
	}
	m := f.Member
	if m == nil {
		return ""
	}
	switch name {
	case "email":
		return m.Email
	case "name":
		return m.Name
	case "scopes":
		return strings.Join(m.Scopes, " ")
	}
	return ""
}
