package portal

import (
	"net/http"
	"net/url"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

type auditList struct {
	Items    []*keyhub.AuditEvent
	Pager    pager
	Q        url.Values
	Filtered bool
}

// listAudit shows the audit log, filtered by action, target and days
// (from and to are dates, to inclusive).
func (p *Portal) listAudit(w http.ResponseWriter, r *http.Request, s *authn.Session) {
	q := r.URL.Query()
	aq := service.AuditQuery{PageRequest: cursorOf(r), Action: q.Get("action"), TargetID: q.Get("target")}
	var bad []keyhub.FieldError
	day := func(field string) time.Time {
		v := q.Get(field)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			bad = append(bad, keyhub.FieldError{Field: field, Message: "must be a date such as 2030-01-31"})
		}
		return t
	}
	aq.From, aq.To = day("from"), day("to")
	if !aq.To.IsZero() {
		aq.To = aq.To.Add(24 * time.Hour)
	}
	if len(bad) > 0 {
		p.fail(w, r, s, &keyhub.Error{Kind: keyhub.KindBadRequest, Code: "invalid_query", Message: "invalid filters: " + bad[0].Field + " " + bad[0].Message, Fields: bad})
		return
	}
	page, err := p.d.Audit.ListAuditEvents(r.Context(), s.Caller, aq)
	if err != nil {
		p.fail(w, r, s, err)
		return
	}
	p.render(w, r, s, http.StatusOK, "audit", "Audit log", auditList{Items: page.Items, Pager: pagerFor(r, page.Next), Q: q,
		Filtered: aq.Action != "" || aq.TargetID != "" || !aq.From.IsZero() || !aq.To.IsZero()}, active("audit"))
}
