package httpapi

import (
	"net/http"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

// ClientView is the JSON form of an OAuth client; the secret appears only
// in the answers to create and rotate-secret.
type ClientView struct {
	ClientID                string          `json:"client_id"`
	TenantID                *string         `json:"tenant_id"`
	Name                    string          `json:"name"`
	Scopes                  []string        `json:"scopes"`
	Audiences               []string        `json:"audiences"`
	TokenTTL                keyhub.Duration `json:"token_ttl"`
	Enabled                 bool            `json:"enabled"`
	PreviousSecretExpiresAt *time.Time      `json:"previous_secret_expires_at"`
	Creator                 keyhub.Actor    `json:"creator"`
	CreatedAt               time.Time       `json:"created_at"`
	UpdatedAt               time.Time       `json:"updated_at"`
	ClientSecret            string          `json:"client_secret,omitempty"`
}

func newClientView(c *keyhub.Client) ClientView {
	return ClientView{
		ClientID: c.ID, TenantID: optional(c.TenantID), Name: c.Name, Scopes: nonNil(c.Scopes), Audiences: nonNil(c.Audiences),
		TokenTTL: c.TokenTTL, Enabled: c.Enabled, PreviousSecretExpiresAt: c.PreviousSecretExpiresAt,
		Creator: c.Creator, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.ClientCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	cl, secret, err := s.svc.Clients.CreateClient(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := newClientView(cl)
	v.ClientSecret = secret
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	p := q.page()
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	cs, err := s.svc.Clients.ListClients(r.Context(), c, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(cs, newClientView))
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	cl, err := s.svc.Clients.GetClient(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newClientView(cl))
}

func (s *Server) updateClient(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.ClientPatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	cl, err := s.svc.Clients.UpdateClient(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newClientView(cl))
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	if err := s.svc.Clients.DeleteClient(r.Context(), c, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rotateClientSecret(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.SecretRotation
	if r.ContentLength != 0 {
		if err := Decode(w, r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	cl, secret, err := s.svc.Clients.RotateClientSecret(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := newClientView(cl)
	v.ClientSecret = secret
	writeJSON(w, http.StatusOK, v)
}
