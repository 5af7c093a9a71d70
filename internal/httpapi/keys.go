package httpapi

import (
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.KeyCreate
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, secret, err := s.svc.CreateKey(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := NewKeyView(k, s.svc.Now())
	v.Key = secret
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	q := newQuery(r)
	f := keyhub.APIKeyFilter{Page: q.page(keyhub.PrefixAPIKey), Environment: q.v.Get("environment"),
		RoleID: q.v.Get("role_id"), NamePrefix: q.v.Get("name")}
	if st := q.v.Get("state"); st != "" {
		if !keyhub.ValidKeyState(st) {
			q.fail("state", "must be one of active, disabled, revoked, expired")
		}
		f.State = keyhub.KeyState(st)
	}
	if f.RoleID != "" && !keyhub.ValidID(keyhub.PrefixRole, f.RoleID) {
		q.fail("role_id", "is not a role id")
	}
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++
	ks, err := s.svc.ListKeys(r.Context(), c, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.svc.Now()
	writeJSON(w, http.StatusOK, newList(ks, limit, func(k *keyhub.APIKey) string { return k.ID },
		func(k *keyhub.APIKey) KeyView { return NewKeyView(k, now) }))
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	k, err := s.svc.GetKey(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewKeyView(k, s.svc.Now()))
}

func (s *Server) updateKey(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.KeyPatch
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.svc.UpdateKey(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewKeyView(k, s.svc.Now()))
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	k, err := s.svc.RevokeKey(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewKeyView(k, s.svc.Now()))
}

// verifyKeyInfo is the key as a verify answer shows it.
type verifyKeyInfo struct {
	ID          string      `json:"id"`
	TenantID    string      `json:"tenant_id"`
	Name        string      `json:"name"`
	Environment string      `json:"environment"`
	Scopes      []string    `json:"scopes"`
	Role        *verifyRole `json:"role"`
	Meta        any         `json:"meta"`
	ExpiresAt   any         `json:"expires_at"`
}

type verifyRole struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type verifyAnswer struct {
	Valid        bool           `json:"valid"`
	Code         verify.Code    `json:"code"`
	Key          *verifyKeyInfo `json:"key,omitempty"`
	MissingScope string         `json:"missing_scope,omitempty"`
}

func (s *Server) verifyKey(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.VerifyRequest
	if err := decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.VerifyKey(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a := verifyAnswer{Valid: res.Valid, Code: res.Code, MissingScope: res.MissingScope}
	if rec := res.Record; rec != nil {
		k := rec.Key
		a.Key = &verifyKeyInfo{ID: k.ID, TenantID: k.TenantID, Name: k.Name, Environment: k.Environment,
			Scopes: nonNil(rec.Scopes), Meta: k.Meta, ExpiresAt: k.ExpiresAt}
		if rec.Role != nil {
			a.Key.Role = &verifyRole{ID: rec.Role.ID, Name: rec.Role.Name}
		}
	}
	writeJSON(w, http.StatusOK, a)
}
