package httpapi

import (
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

// memberView is the JSON form of a member: scopes never null.
func memberView(m *keyhub.Member) *keyhub.Member {
	m.Scopes = nonNil(m.Scopes)
	return m
}

func (s *Server) createMember(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.MemberCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.svc.Members.CreateMember(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, memberView(m))
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	f := service.MemberQuery{PageRequest: q.page(), Search: q.v.Get("search")}
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ms, err := s.svc.Members.ListMembers(r.Context(), c, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(ms, memberView))
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	m, err := s.svc.Members.GetMember(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, memberView(m))
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.MemberPatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.svc.Members.UpdateMember(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, memberView(m))
}

func (s *Server) deleteMember(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	if err := s.svc.Members.DeleteMember(r.Context(), c, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// createPortalSession hands a user of the platform over to the portal: the
// answer's url, usable once within a minute, opens a session.
func (s *Server) createPortalSession(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.PortalSessionCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	link, err := s.svc.Portal.CreatePortalHandoff(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, link)
}
