package postgres

import (
	"context"
	"fmt"

	"github.com/keyhub/keyhub"
)

const auditColumns = "id, tenant_id, actor_type, actor_id, action, target_type, target_id, ip, diff, created_at"

func scanAuditEvent(row scanner) (*keyhub.AuditEvent, error) {
	var e keyhub.AuditEvent
	var tenantID *string
	var diff []byte
	err := row.Scan(&e.ID, &tenantID, &e.Actor.Type, &e.Actor.ID, &e.Action, &e.TargetType, &e.TargetID, &e.IP,
		&diff, &e.CreatedAt)
	if err != nil {
		return nil, err
	}
	e.TenantID = deref(tenantID)
	if e.Diff, err = decodeJSON(diff); err != nil {
		return nil, fmt.Errorf("decode diff of audit event %q: %w", e.ID, err)
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return &e, nil
}

// AppendAuditEvent records e. Events are only ever inserted; an existing
// id is ErrExists.
func (t *tx) AppendAuditEvent(ctx context.Context, e *keyhub.AuditEvent) error {
	return t.insert(ctx, "append audit event", `INSERT INTO audit_events (`+auditColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10) ON CONFLICT DO NOTHING`,
		e.ID, nullable(e.TenantID), e.Actor.Type, e.Actor.ID, e.Action, e.TargetType, e.TargetID, e.IP,
		encodeJSON(e.Diff), e.CreatedAt)
}

// ListAuditEvents lists events of tenantID newest first; "" lists
// operator-level events and those of every tenant.
func (t *tx) ListAuditEvents(ctx context.Context, tenantID string, f keyhub.AuditFilter) ([]*keyhub.AuditEvent, error) {
	var w where
	if tenantID != "" {
		w.add("tenant_id = " + w.arg(tenantID))
	}
	w.after(f.After)
	if f.TargetID != "" {
		w.add("target_id = " + w.arg(f.TargetID))
	}
	if f.Action != "" {
		w.add("action = " + w.arg(f.Action))
	}
	if !f.From.IsZero() {
		w.add("created_at >= " + w.arg(f.From))
	}
	if !f.To.IsZero() {
		w.add("created_at < " + w.arg(f.To))
	}
	const op = "list audit events"
	lim, err := w.page(op, f.Page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanAuditEvent,
		`SELECT `+auditColumns+` FROM audit_events`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}
