package postgres

import (
	"context"

	"github.com/keyhub/keyhub"
)

const memberColumns = `id, tenant_id, email, name, scopes, external_id, creator_type, creator_id, created_at, updated_at`

func scanMember(row scanner) (*keyhub.Member, error) {
	var m keyhub.Member
	var external *string
	if err := row.Scan(&m.ID, &m.TenantID, &m.Email, &m.Name, &m.Scopes, &external, &m.Creator.Type, &m.Creator.ID,
		&m.CreatedAt, &m.UpdatedAt); err != nil {
		return nil, err
	}
	m.Scopes, m.ExternalID = nonNil(m.Scopes), deref(external)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return &m, nil
}

// CreateMember inserts m; a taken id, email or external id of the tenant is
// ErrExists, an unknown tenant ErrReferenced.
func (t *tx) CreateMember(ctx context.Context, m *keyhub.Member) error {
	return t.insert(ctx, "create member", `INSERT INTO members (`+memberColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		m.ID, m.TenantID, m.Email, m.Name, nonNil(m.Scopes), nullable(m.ExternalID), m.Creator.Type, m.Creator.ID,
		m.CreatedAt, m.UpdatedAt)
}

// GetMember reads a member of tenantID, locking it inside Update.
func (t *tx) GetMember(ctx context.Context, tenantID, id string) (*keyhub.Member, error) {
	return t.oneMember(ctx, `id = $1 AND tenant_id = $2`, id, tenantID)
}

// GetMemberByExternalID reads the member a hand-off named.
func (t *tx) GetMemberByExternalID(ctx context.Context, tenantID, externalID string) (*keyhub.Member, error) {
	return t.oneMember(ctx, `external_id = $1 AND tenant_id = $2`, externalID, tenantID)
}

func (t *tx) oneMember(ctx context.Context, cond string, args ...any) (*keyhub.Member, error) {
	m, err := scanMember(t.tx.QueryRow(ctx, `SELECT `+memberColumns+` FROM members WHERE `+cond+t.lock(), args...))
	if err != nil {
		return nil, translate(ctx, err, "get member")
	}
	return m, nil
}

// ListMembers lists a tenant's members newest first.
func (t *tx) ListMembers(ctx context.Context, tenantID string, f keyhub.MemberFilter) ([]*keyhub.Member, error) {
	const op = "list members"
	var w where
	w.add("tenant_id = " + w.arg(tenantID))
	if f.Search != "" {
		// strpos has no wildcards; under COLLATE "C" lower() folds ASCII
		// only, as SQLite's does.
		p := w.arg(f.Search)
		w.add(`(strpos(lower(email COLLATE "C"), lower(` + p + `::text COLLATE "C")) > 0 OR ` +
			`strpos(lower(name COLLATE "C"), lower(` + p + `::text COLLATE "C")) > 0)`)
	}
	w.after(f.After)
	lim, err := w.page(op, f.Page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanMember, `SELECT `+memberColumns+` FROM members`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// ListMembersByEmail lists the members of every tenant with this email.
func (t *tx) ListMembersByEmail(ctx context.Context, email string) ([]*keyhub.Member, error) {
	return collect(ctx, t, "list members by email", scanMember,
		`SELECT `+memberColumns+` FROM members WHERE email = $1 ORDER BY id DESC`, email)
}

// UpdateMember writes the mutable fields of m. It runs in a savepoint so
// that a taken email (ErrExists) leaves the transaction usable, as in
// SQLite.
func (t *tx) UpdateMember(ctx context.Context, m *keyhub.Member) error {
	const op = "update member"
	sp, err := t.tx.Begin(ctx)
	if err != nil {
		return translate(ctx, err, op)
	}
	defer func() { _ = sp.Rollback(context.WithoutCancel(ctx)) }()
	tag, err := sp.Exec(ctx, `UPDATE members SET email = $3, name = $4, scopes = $5, external_id = $6, updated_at = $7
		WHERE id = $1 AND tenant_id = $2`,
		m.ID, m.TenantID, m.Email, m.Name, nonNil(m.Scopes), nullable(m.ExternalID), m.UpdatedAt)
	if err != nil {
		return translate(ctx, err, op)
	}
	if tag.RowsAffected() == 0 {
		return fail(op, keyhub.ErrNotFound)
	}
	if err := sp.Commit(ctx); err != nil {
		return translate(ctx, err, op)
	}
	return nil
}

// DeleteMember removes a member of tenantID.
func (t *tx) DeleteMember(ctx context.Context, tenantID, id string) error {
	return t.exec(ctx, "delete member", `DELETE FROM members WHERE id = $1 AND tenant_id = $2`, id, tenantID)
}
