package service

import (
	"context"
	"time"

	"github.com/keyhub/keyhub"
)

// AuditQuery selects audit events to list.
type AuditQuery struct {
	PageRequest
	TargetID string
	Action   string
	From     time.Time // inclusive
	To       time.Time // exclusive
}

// ListAuditEvents lists one page of the caller's tenant's audit events. An
// operator naming no tenant sees every event, operator-level ones included.
func (s *Service) ListAuditEvents(ctx context.Context, c *keyhub.Caller, q AuditQuery) (Page[*keyhub.AuditEvent], error) {
	if err := c.Require(keyhub.ScopeReadAudit, "reading the audit log"); err != nil {
		return Page[*keyhub.AuditEvent]{}, err
	}
	var out Page[*keyhub.AuditEvent]
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		if c.TenantID != "" {
			if _, err := s.tenantOf(ctx, tx, c); err != nil {
				return err
			}
		}
		var err error
		out, err = paged(q.PageRequest, keyhub.PrefixEvent, func(e *keyhub.AuditEvent) string { return e.ID },
			func(p keyhub.Page) ([]*keyhub.AuditEvent, error) {
				return tx.ListAuditEvents(ctx, c.TenantID, keyhub.AuditFilter{Page: p, TargetID: q.TargetID, Action: q.Action, From: q.From, To: q.To})
			})
		return err
	})
	return out, err
}
