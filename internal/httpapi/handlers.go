package httpapi

import (
	"net/http"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.TenantCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.svc.Tenants.CreateTenant(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	p := q.page()
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ts, err := s.svc.Tenants.ListTenants(r.Context(), c, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(ts, same[*keyhub.Tenant]))
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	t, err := s.svc.Tenants.GetTenant(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.TenantPatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.svc.Tenants.UpdateTenant(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) createScope(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.ScopeCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.svc.Scopes.CreateScope(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) listScopes(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	es, err := s.svc.Scopes.ListScopes(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(service.Page[*keyhub.ScopeEntry]{Items: es}, same[*keyhub.ScopeEntry]))
}

func (s *Server) deleteScope(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	if err := s.svc.Scopes.DeleteScope(r.Context(), c, r.PathValue("name")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.RoleCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := s.svc.Roles.CreateRole(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, roleView(role))
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	p := q.page()
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	rs, err := s.svc.Roles.ListRoles(r.Context(), c, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(rs, roleView))
}

func (s *Server) getRole(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	role, err := s.svc.Roles.GetRole(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleView(role))
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.RolePatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := s.svc.Roles.UpdateRole(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleView(role))
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	if err := s.svc.Roles.DeleteRole(r.Context(), c, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	f := service.AuditQuery{PageRequest: q.page(), TargetID: q.v.Get("target_id"), Action: q.v.Get("action"),
		From: q.time("from"), To: q.time("to")}
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	es, err := s.svc.Audit.ListAuditEvents(r.Context(), c, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(es, same[*keyhub.AuditEvent]))
}

func (s *Server) rotateSigningKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	k, err := s.svc.Signing.RotateSigningKey(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, signingKeyView{KID: k.ID, Alg: k.Algorithm, CreatedAt: k.CreatedAt})
}

// signingKeyView is the public part of a signing key.
type signingKeyView struct {
	KID       string    `json:"kid"`
	Alg       string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
}
