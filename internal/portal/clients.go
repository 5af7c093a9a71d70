package portal

import (
	"net/http"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

type clientList struct {
	Items []*keyhub.Client
	Pager pager
}

func (p *Portal) listClients(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	page, err := p.d.Clients.ListClients(r.Context(), s.Caller, cursorOf(r))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "clients", "OAuth clients", clientList{Items: page.Items, Pager: pagerFor(r, page.Next)}, active("clients"))
}

type clientForm struct {
	Client    *keyhub.Client
	Catalogue []*keyhub.ScopeEntry
	Nonce     string
}

func (p *Portal) newClient(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if !s.Caller.Principal.Has(keyhub.ScopeManageClients) {
		p.fail(w, r, s, keyhub.ErrInsufficientScope(keyhub.ScopeManageClients, "creating an OAuth client"))
		return
	}
	p.render(w, r, s, http.StatusOK, "client", "Create an OAuth client", clientForm{Catalogue: p.catalogue(r, s), Nonce: newNonce()}, active("clients"))
}

func (p *Portal) createClient(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	in := service.ClientCreate{Name: f.str("name"), Scopes: f.list("scopes"), Audiences: f.list("audiences"), TokenTTL: f.str("token_ttl")}
	if !p.spendNonce(w, r, s, "/portal/clients") {
		return
	}
	cl, secret, err := p.d.Clients.CreateClient(r.Context(), s.Caller, in)
	if err != nil {
		p.formError(w, r, s, err, "client", "Create an OAuth client", clientForm{Catalogue: p.catalogue(r, s), Nonce: newNonce()})
		return
	}
	p.render(w, r, s, http.StatusCreated, "secret", "Your new OAuth client",
		secretData{Kind: "client", Name: cl.Name, ID: cl.ID, Secret: secret, Href: "/portal/clients/" + cl.ID}, active("clients"))
}

func (p *Portal) showClient(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	cl, err := p.d.Clients.GetClient(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "client", cl.Name, clientForm{Client: cl, Catalogue: p.catalogue(r, s)}, active("clients"))
}

func (p *Portal) updateClient(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	f := readForm(r)
	id := r.PathValue("id")
	enabled := f.str("enabled") == "on"
	_, err := p.d.Clients.UpdateClient(r.Context(), s.Caller, id, service.ClientPatch{Name: service.Some(f.str("name")),
		Scopes: service.Some(f.list("scopes")), Audiences: service.Some(f.list("audiences")),
		TokenTTL: service.Some(f.str("token_ttl")), Enabled: service.Some(&enabled)})
	if err != nil {
		cl, gerr := p.d.Clients.GetClient(r.Context(), s.Caller, id)
		if gerr != nil {
			p.fail(w, r, s, err)
			return
		}
		p.formError(w, r, s, err, "client", cl.Name, clientForm{Client: cl, Catalogue: p.catalogue(r, s)})
		return
	}
	redirectDone(w, r, "/portal/clients/"+id, "updated")
}

type clientAction struct {
	Client *keyhub.Client
	Nonce  string
}

func (p *Portal) rotateSecretPage(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	cl, err := p.d.Clients.GetClient(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "client-rotate", "Rotate the secret of "+cl.Name, clientAction{cl, newNonce()}, active("clients"))
}

func (p *Portal) rotateSecret(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	id := r.PathValue("id")
	if !p.spendNonce(w, r, s, "/portal/clients/"+id) {
		return
	}
	cl, secret, err := p.d.Clients.RotateClientSecret(r.Context(), s.Caller, id, service.SecretRotation{GracePeriod: readForm(r).str("grace_period")})
	if err != nil {
		old, gerr := p.d.Clients.GetClient(r.Context(), s.Caller, id)
		if gerr != nil {
			p.fail(w, r, s, err)
			return
		}
		p.formError(w, r, s, err, "client-rotate", "Rotate the secret of "+old.Name, clientAction{old, newNonce()})
		return
	}
	p.render(w, r, s, http.StatusOK, "secret", "The new client secret",
		secretData{Kind: "client", Name: cl.Name, ID: cl.ID, Secret: secret, Href: "/portal/clients/" + cl.ID}, active("clients"))
}

func (p *Portal) deleteClientPage(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	cl, err := p.d.Clients.GetClient(r.Context(), s.Caller, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "confirm", "Delete OAuth client "+cl.Name, confirmData{
		What: "OAuth client", Name: cl.Name, ID: cl.ID, Action: "/portal/clients/" + cl.ID + "/delete", Back: "/portal/clients/" + cl.ID,
		Button: "Delete client", Text: "Its secret and every token issued to it stop working at once."}, active("clients"))
}

func (p *Portal) deleteClient(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	if err := p.d.Clients.DeleteClient(r.Context(), s.Caller, r.PathValue("id")); err != nil {
		p.fail(w, r, s, err)
		return
	}
	redirectDone(w, r, "/portal/clients", "deleted")
}

// Field is the client's current value of a form field.
func (f clientForm) Field(name string) string {
	c := f.Client
	if c == nil {
		return ""
	}
	switch name {
	case "name":
		return c.Name
	case "scopes":
		return strings.Join(c.Scopes, " ")
	case "audiences":
		return strings.Join(c.Audiences, " ")
	case "token_ttl":
		return time.Duration(c.TokenTTL).String()
	case "enabled":
		if c.Enabled {
			return "on"
		}
	}
	return ""
}
