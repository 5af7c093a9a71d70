package httpapi

import (
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

func (s *Server) reportLeaks(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.LeakReport
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	leaks, err := s.svc.Leaks.ReportLeaks(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, leakList{Data: leaks})
}

// leakList is the answer of a leak report.
type leakList struct {
	Data []service.Leak `json:"data"`
}
