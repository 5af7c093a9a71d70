package sqlite

import (
	"context"
	"fmt"

	"github.com/keyhub/keyhub"
)

const roleColumns = `id, tenant_id, name, description, scopes, created_at, updated_at, creator_type, creator_id`

// CreateRole implements keyhub.Tx.
func (t *tx) CreateRole(ctx context.Context, r *keyhub.Role) error {
	scopes, err := stringsText("create role", r.Scopes)
	if err != nil {
		return err
	}
	return t.exec(ctx, "create role", `INSERT INTO roles (`+roleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.TenantID, r.Name, r.Description, scopes, micros(r.CreatedAt), micros(r.UpdatedAt), r.Creator.Type, r.Creator.ID)
}

// GetRole implements keyhub.Tx; another tenant's role is not found.
func (t *tx) GetRole(ctx context.Context, tenantID, id string) (*keyhub.Role, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE tenant_id = ? AND id = ?`, tenantID, id)
	r, err := scanRole(row)
	if err != nil {
		return nil, translate(ctx, "get role", err)
	}
	return r, nil
}

// ListRoles implements keyhub.Tx.
func (t *tx) ListRoles(ctx context.Context, tenantID string, page keyhub.Page) ([]*keyhub.Role, error) {
	const op = "list roles"
	q := `SELECT ` + roleColumns + ` FROM roles WHERE tenant_id = ?`
	args := []any{tenantID}
	if page.After != "" {
		q += ` AND id < ?`
		args = append(args, page.After)
	}
	lim, limArgs, err := pageClause(op, page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanRole)
}

// UpdateRole implements keyhub.Tx; the role must belong to r.TenantID.
func (t *tx) UpdateRole(ctx context.Context, r *keyhub.Role) error {
	scopes, err := stringsText("update role", r.Scopes)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "update role",
		`UPDATE roles SET name = ?, description = ?, scopes = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		r.Name, r.Description, scopes, micros(r.UpdatedAt), r.TenantID, r.ID)
}

// DeleteRole implements keyhub.Tx. A role that keys still name is kept by
// the foreign key, which surfaces as ErrReferenced; the failed statement
// changes nothing and the transaction stays usable.
func (t *tx) DeleteRole(ctx context.Context, tenantID, id string) error {
	return t.execOne(ctx, "delete role", `DELETE FROM roles WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// CountRoleMembers implements keyhub.Tx.
func (t *tx) CountRoleMembers(ctx context.Context, tenantID, roleID string) (int, error) {
	return t.count(ctx, "count role members",
		`SELECT count(*) FROM api_keys WHERE tenant_id = ? AND role_id = ?`, tenantID, roleID)
}

func scanRole(row scanner) (*keyhub.Role, error) {
	var (
		r                keyhub.Role
		scopes           string
		created, updated int64
	)
	if err := row.Scan(&r.ID, &r.TenantID, &r.Name, &r.Description, &scopes, &created, &updated, &r.Creator.Type, &r.Creator.ID); err != nil {
		return nil, err
	}
	var err error
	if r.Scopes, err = parseStrings(scopes); err != nil {
		return nil, fmt.Errorf("role %s: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}
