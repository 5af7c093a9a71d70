package postgres

import (
	"context"

	"github.com/keyhub/keyhub"
)

const roleColumns = "id, tenant_id, name, description, scopes, created_at, updated_at, creator_type, creator_id"

func scanRole(row scanner) (*keyhub.Role, error) {
	var r keyhub.Role
	if err := row.Scan(&r.ID, &r.TenantID, &r.Name, &r.Description, &r.Scopes, &r.CreatedAt, &r.UpdatedAt, &r.Creator.Type, &r.Creator.ID); err != nil {
		return nil, err
	}
	r.Scopes = nonNil(r.Scopes)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

// nonNil returns s, or an empty slice for nil. A list is stored as its
// elements, and a nil list has the same elements as an empty one, none;
// pgx would send nil as NULL. On reading, lists always come back non-nil,
// on both stores, so that callers encode them as [] and never as null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CreateRole inserts r; an existing id is ErrExists, an unknown tenant
// ErrReferenced.
func (t *tx) CreateRole(ctx context.Context, r *keyhub.Role) error {
	return t.insert(ctx, "create role", `INSERT INTO roles (`+roleColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		r.ID, r.TenantID, r.Name, r.Description, nonNil(r.Scopes), r.CreatedAt, r.UpdatedAt, r.Creator.Type, r.Creator.ID)
}

// GetRole reads a role of tenantID, locking it inside Update.
func (t *tx) GetRole(ctx context.Context, tenantID, id string) (*keyhub.Role, error) {
	r, err := scanRole(t.tx.QueryRow(ctx,
		`SELECT `+roleColumns+` FROM roles WHERE id = $1 AND tenant_id = $2`+t.lock(), id, tenantID))
	if err != nil {
		return nil, translate(ctx, err, "get role")
	}
	return r, nil
}

// ListRoles lists a tenant's roles newest first.
func (t *tx) ListRoles(ctx context.Context, tenantID string, page keyhub.Page) ([]*keyhub.Role, error) {
	const op = "list roles"
	var w where
	w.add("tenant_id = " + w.arg(tenantID))
	w.after(page.After)
	lim, err := w.page(op, page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanRole, `SELECT `+roleColumns+` FROM roles`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// UpdateRole writes the mutable fields of r.
func (t *tx) UpdateRole(ctx context.Context, r *keyhub.Role) error {
	return t.exec(ctx, "update role",
		`UPDATE roles SET name = $3, description = $4, scopes = $5, updated_at = $6 WHERE id = $1 AND tenant_id = $2`,
		r.ID, r.TenantID, r.Name, r.Description, nonNil(r.Scopes), r.UpdatedAt)
}

// DeleteRole removes a role. A role that keys still name is ErrReferenced.
// The delete runs in a savepoint so that this expected failure leaves the
// surrounding transaction usable, as it does in SQLite.
func (t *tx) DeleteRole(ctx context.Context, tenantID, id string) error {
	const op = "delete role"
	sp, err := t.tx.Begin(ctx)
	if err != nil {
		return translate(ctx, err, op)
	}
	defer func() { _ = sp.Rollback(context.WithoutCancel(ctx)) }()
	tag, err := sp.Exec(ctx, `DELETE FROM roles WHERE id = $1 AND tenant_id = $2`, id, tenantID)
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

// CountRoleMembers counts the keys of tenantID, revoked ones included, that
// name the role.
func (t *tx) CountRoleMembers(ctx context.Context, tenantID, roleID string) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE role_id = $1 AND tenant_id = $2`, roleID, tenantID).Scan(&n)
	if err != nil {
		return 0, translate(ctx, err, "count role members")
	}
	return n, nil
}
