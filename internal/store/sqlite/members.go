package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keyhub/keyhub"
)

const memberColumns = `id, tenant_id, email, name, scopes, external_id, creator_type, creator_id, created_at, updated_at`

// CreateMember implements keyhub.Tx.
func (t *tx) CreateMember(ctx context.Context, m *keyhub.Member) error {
	const op = "create member"
	scopes, err := stringsText(op, m.Scopes)
	if err != nil {
		return err
	}
	return t.exec(ctx, op, `INSERT INTO members (`+memberColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.TenantID, m.Email, m.Name, scopes, nullString(m.ExternalID), m.Creator.Type, m.Creator.ID,
		micros(m.CreatedAt), micros(m.UpdatedAt))
}

// GetMember implements keyhub.Tx; another tenant's member is not found.
func (t *tx) GetMember(ctx context.Context, tenantID, id string) (*keyhub.Member, error) {
	return t.oneMember(ctx, `tenant_id = ? AND id = ?`, tenantID, id)
}

// GetMemberByExternalID implements keyhub.Tx.
func (t *tx) GetMemberByExternalID(ctx context.Context, tenantID, externalID string) (*keyhub.Member, error) {
	return t.oneMember(ctx, `tenant_id = ? AND external_id = ?`, tenantID, externalID)
}

func (t *tx) oneMember(ctx context.Context, cond string, args ...any) (*keyhub.Member, error) {
	m, err := scanMember(t.tx.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM members WHERE `+cond, args...))
	if err != nil {
		return nil, translate(ctx, "get member", err)
	}
	return m, nil
}

// ListMembers implements keyhub.Tx.
func (t *tx) ListMembers(ctx context.Context, tenantID string, f keyhub.MemberFilter) ([]*keyhub.Member, error) {
	const op = "list members"
	q := `SELECT ` + memberColumns + ` FROM members WHERE tenant_id = ?`
	args := []any{tenantID}
	if f.Search != "" {
		// instr has no wildcards and lower() folds ASCII only, as
		// PostgreSQL's under COLLATE "C".
		q += ` AND (instr(lower(email), lower(?)) > 0 OR instr(lower(name), lower(?)) > 0)`
		args = append(args, f.Search, f.Search)
	}
	if f.After != "" {
		q += ` AND id < ?`
		args = append(args, f.After)
	}
	lim, limArgs, err := pageClause(op, f.Page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanMember)
}

// ListMembersByEmail implements keyhub.Tx.
func (t *tx) ListMembersByEmail(ctx context.Context, email string) ([]*keyhub.Member, error) {
	return list(ctx, t, "list members by email",
		`SELECT `+memberColumns+` FROM members WHERE email = ? ORDER BY id DESC`, []any{email}, scanMember)
}

// UpdateMember implements keyhub.Tx; the member must belong to m.TenantID.
func (t *tx) UpdateMember(ctx context.Context, m *keyhub.Member) error {
	const op = "update member"
	scopes, err := stringsText(op, m.Scopes)
	if err != nil {
		return err
	}
	return t.execOne(ctx, op, `UPDATE members SET email = ?, name = ?, scopes = ?, external_id = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`,
		m.Email, m.Name, scopes, nullString(m.ExternalID), micros(m.UpdatedAt), m.TenantID, m.ID)
}

// DeleteMember implements keyhub.Tx.
func (t *tx) DeleteMember(ctx context.Context, tenantID, id string) error {
	return t.execOne(ctx, "delete member", `DELETE FROM members WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

func scanMember(row scanner) (*keyhub.Member, error) {
	var (
		m                keyhub.Member
		scopes           string
		external         sql.NullString
		created, updated int64
	)
	if err := row.Scan(&m.ID, &m.TenantID, &m.Email, &m.Name, &scopes, &external, &m.Creator.Type, &m.Creator.ID,
		&created, &updated); err != nil {
		return nil, err
	}
	var err error
	if m.Scopes, err = parseStrings(scopes); err != nil {
		return nil, fmt.Errorf("member %s: %w", m.ID, err)
	}
	m.ExternalID = external.String
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}
