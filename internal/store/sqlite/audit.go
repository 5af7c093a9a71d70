package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/keyhub/keyhub"
)

const eventColumns = `id, tenant_id, actor_type, actor_id, action, target_type, target_id, ip, diff, created_at`

// AppendAuditEvent implements keyhub.Tx.
func (t *tx) AppendAuditEvent(ctx context.Context, e *keyhub.AuditEvent) error {
	return t.exec(ctx, "append audit event", `INSERT INTO audit_events (`+eventColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, nullString(e.TenantID), e.Actor.Type, e.Actor.ID, e.Action, e.TargetType, e.TargetID, e.IP,
		rawText(e.Diff), micros(e.CreatedAt))
}

// ListAuditEvents implements keyhub.Tx.
func (t *tx) ListAuditEvents(ctx context.Context, tenantID string, f keyhub.AuditFilter) ([]*keyhub.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	if tenantID != "" {
		where = append(where, `tenant_id = ?`)
		args = append(args, tenantID)
	}
	if f.TargetID != "" {
		where = append(where, `target_id = ?`)
		args = append(args, f.TargetID)
	}
	if f.Action != "" {
		where = append(where, `action = ?`)
		args = append(args, f.Action)
	}
	if !f.From.IsZero() {
		where = append(where, `created_at >= ?`)
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, `created_at < ?`)
		args = append(args, micros(f.To))
	}
	if f.After != "" {
		where = append(where, `id < ?`)
		args = append(args, f.After)
	}
	const op = "list audit events"
	q := `SELECT ` + eventColumns + ` FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	lim, limArgs, err := pageClause(op, f.Page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanEvent)
}

func scanEvent(row scanner) (*keyhub.AuditEvent, error) {
	var (
		e        keyhub.AuditEvent
		tenantID sql.NullString
		diff     string
		created  int64
	)
	if err := row.Scan(&e.ID, &tenantID, &e.Actor.Type, &e.Actor.ID, &e.Action, &e.TargetType, &e.TargetID,
		&e.IP, &diff, &created); err != nil {
		return nil, err
	}
	e.TenantID = tenantID.String
	e.Diff = rawValue(diff)
	e.CreatedAt = fromMicros(created)
	return &e, nil
}
