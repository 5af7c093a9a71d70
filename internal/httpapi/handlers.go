package httpapi

import (
	"net/http"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.TenantCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.svc.CreateTenant(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	q := newQuery(r)
	p := q.page(keyhub.PrefixTenant)
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := p.Limit
	p.Limit++
	ts, err := s.svc.ListTenants(r.Context(), c, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(ts, limit, func(t *keyhub.Tenant) string { return t.ID }, same[*keyhub.Tenant]))
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	t, err := s.svc.GetTenant(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.TenantPatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.svc.UpdateTenant(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) createScope(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.ScopeCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.svc.CreateScope(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) listScopes(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	es, err := s.svc.ListScopes(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(es, len(es), func(e *keyhub.ScopeEntry) string { return e.Name }, same[*keyhub.ScopeEntry]))
}

func (s *Server) deleteScope(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	if err := s.svc.DeleteScope(r.Context(), c, r.PathValue("name")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) createRole(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.RoleCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := s.svc.CreateRole(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, roleView(role))
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	q := newQuery(r)
	p := q.page(keyhub.PrefixRole)
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := p.Limit
	p.Limit++
	rs, err := s.svc.ListRoles(r.Context(), c, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(rs, limit, func(r *keyhub.Role) string { return r.ID }, roleView))
}

func (s *Server) getRole(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	role, err := s.svc.GetRole(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleView(role))
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	var in service.RolePatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	role, err := s.svc.UpdateRole(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roleView(role))
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	if err := s.svc.DeleteRole(r.Context(), c, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	q := newQuery(r)
	f := keyhub.AuditFilter{Page: q.page(keyhub.PrefixEvent), TargetID: q.v.Get("target_id"), Action: q.v.Get("action"),
		From: q.time("from"), To: q.time("to")}
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := f.Limit
	f.Limit++
	es, err := s.svc.ListAuditEvents(r.Context(), c, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(es, limit, func(e *keyhub.AuditEvent) string { return e.ID }, same[*keyhub.AuditEvent]))
}

func (s *Server) rotateSigningKey(w http.ResponseWriter, r *http.Request, c *service.Caller) {
	k, err := s.svc.RotateSigningKey(r.Context(), c)
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
