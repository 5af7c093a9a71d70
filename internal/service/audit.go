package service

import (
	"context"

	"github.com/keyhub/keyhub"
)

// ListAuditEvents lists audit events of the caller's tenant. An operator
// without a tenant sees every event, operator-level ones included.
func (s *Service) ListAuditEvents(ctx context.Context, c *Caller, f keyhub.AuditFilter) ([]*keyhub.AuditEvent, error) {
	if err := require(c, keyhub.ScopeReadAudit, "reading the audit log"); err != nil {
		return nil, err
	}
	var out []*keyhub.AuditEvent
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		tenantID := c.TenantID
		if tenantID != "" {
			if _, err := tx.GetTenant(ctx, tenantID); err != nil {
				return err
			}
		}
		var err error
		out, err = tx.ListAuditEvents(ctx, tenantID, f)
		return err
	})
	return out, err
}
