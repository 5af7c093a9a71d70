package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/keyhub/keyhub"
)

// CreateTenant implements keyhub.Tx.
func (t *tx) CreateTenant(ctx context.Context, tn *keyhub.Tenant) error {
	prefixes, err := mapText("create tenant", tn.KeyPrefixes)
	if err != nil {
		return err
	}
	return t.exec(ctx, "create tenant", `INSERT INTO tenants (id, name, key_prefixes, leak_policy, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, tn.ID, tn.Name, prefixes, string(tn.LeakPolicy), micros(tn.CreatedAt), micros(tn.UpdatedAt))
}

// GetTenantShared implements keyhub.Tx: SQLite has one writer, so any read
// in Update already sees the tenant as it is at commit.
func (t *tx) GetTenantShared(ctx context.Context, id string) (*keyhub.Tenant, error) {
	return t.GetTenant(ctx, id)
}

// GetTenant implements keyhub.Tx.
func (t *tx) GetTenant(ctx context.Context, id string) (*keyhub.Tenant, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id)
	tn, err := scanTenant(row)
	if err != nil {
		return nil, translate(ctx, "get tenant", err)
	}
	return tn, nil
}

// ListTenants implements keyhub.Tx.
func (t *tx) ListTenants(ctx context.Context, page keyhub.Page) ([]*keyhub.Tenant, error) {
	const op = "list tenants"
	q := `SELECT ` + tenantColumns + ` FROM tenants`
	var args []any
	if page.After != "" {
		q += ` WHERE id < ?`
		args = append(args, page.After)
	}
	lim, limArgs, err := pageClause(op, page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanTenant)
}

// UpdateTenant implements keyhub.Tx.
func (t *tx) UpdateTenant(ctx context.Context, tn *keyhub.Tenant) error {
	prefixes, err := mapText("update tenant", tn.KeyPrefixes)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "update tenant",
		`UPDATE tenants SET name = ?, key_prefixes = ?, leak_policy = ?, updated_at = ? WHERE id = ?`,
		tn.Name, prefixes, string(tn.LeakPolicy), micros(tn.UpdatedAt), tn.ID)
}

const tenantColumns = `id, name, key_prefixes, leak_policy, created_at, updated_at`

func scanTenant(row scanner) (*keyhub.Tenant, error) {
	var (
		tn               keyhub.Tenant
		prefixes         string
		created, updated int64
	)
	if err := row.Scan(&tn.ID, &tn.Name, &prefixes, &tn.LeakPolicy, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(prefixes), &tn.KeyPrefixes); err != nil {
		return nil, fmt.Errorf("tenant %s: decode key_prefixes: %w", tn.ID, err)
	}
	// Maps come back non-nil, like lists, whether nil (stored as null) or
	// empty was written.
	if tn.KeyPrefixes == nil {
		tn.KeyPrefixes = map[string]string{}
	}
	tn.CreatedAt, tn.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &tn, nil
}

// CreateScope implements keyhub.Tx.
func (t *tx) CreateScope(ctx context.Context, s *keyhub.ScopeEntry) error {
	return t.exec(ctx, "create scope", `INSERT INTO scopes (name, description, created_at) VALUES (?, ?, ?)`,
		s.Name, s.Description, micros(s.CreatedAt))
}

// ListScopes implements keyhub.Tx. The catalogue is small and read whole.
func (t *tx) ListScopes(ctx context.Context) ([]*keyhub.ScopeEntry, error) {
	return list(ctx, t, "list scopes", `SELECT name, description, created_at FROM scopes ORDER BY name`, nil,
		func(row scanner) (*keyhub.ScopeEntry, error) {
			var (
				s       keyhub.ScopeEntry
				created int64
			)
			if err := row.Scan(&s.Name, &s.Description, &created); err != nil {
				return nil, err
			}
			s.CreatedAt = fromMicros(created)
			return &s, nil
		})
}

// DeleteScope implements keyhub.Tx.
func (t *tx) DeleteScope(ctx context.Context, name string) error {
	return t.execOne(ctx, "delete scope", `DELETE FROM scopes WHERE name = ?`, name)
}
