package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

const tenantColumns = "id, name, key_prefixes, created_at, updated_at"

func scanTenant(row scanner) (*keyhub.Tenant, error) {
	var t keyhub.Tenant
	var prefixes []byte
	if err := row.Scan(&t.ID, &t.Name, &prefixes, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	t.KeyPrefixes = map[string]string{}
	if err := json.Unmarshal(prefixes, &t.KeyPrefixes); err != nil {
		return nil, fmt.Errorf("decode key_prefixes of tenant %q: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return &t, nil
}

// encodePrefixes encodes a tenant's prefixes; nil is stored as {}.
func encodePrefixes(m map[string]string) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// CreateTenant inserts t; an existing id is a KindConflict.
func (t *tx) CreateTenant(ctx context.Context, ten *keyhub.Tenant) error {
	prefixes, err := encodePrefixes(ten.KeyPrefixes)
	if err != nil {
		return wrap("create tenant", err)
	}
	return t.insert(ctx, "create tenant", fmt.Sprintf("tenant %q already exists", ten.ID),
		`INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3::jsonb, $4, $5) ON CONFLICT DO NOTHING`,
		ten.ID, ten.Name, prefixes, ten.CreatedAt, ten.UpdatedAt)
}

// GetTenant reads one tenant, locking it inside Update.
func (t *tx) GetTenant(ctx context.Context, id string) (*keyhub.Tenant, error) {
	ten, err := scanTenant(t.tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`+t.lock(), id))
	if isNoRows(err) {
		return nil, keyhub.NotFound("tenant", id)
	}
	if err != nil {
		return nil, translate(err, "get tenant")
	}
	return ten, nil
}

// ListTenants lists tenants newest first.
func (t *tx) ListTenants(ctx context.Context, page keyhub.Page) ([]*keyhub.Tenant, error) {
	var w where
	w.after(page.After)
	return collect(ctx, t, "list tenants", scanTenant,
		`SELECT `+tenantColumns+` FROM tenants`+w.sql()+` ORDER BY id DESC LIMIT `+w.limit(page.Limit), w.args...)
}

// UpdateTenant writes the mutable fields of ten.
func (t *tx) UpdateTenant(ctx context.Context, ten *keyhub.Tenant) error {
	prefixes, err := encodePrefixes(ten.KeyPrefixes)
	if err != nil {
		return wrap("update tenant", err)
	}
	return t.exec(ctx, "update tenant", "tenant", ten.ID,
		`UPDATE tenants SET name = $2, key_prefixes = $3::jsonb, updated_at = $4 WHERE id = $1`,
		ten.ID, ten.Name, prefixes, ten.UpdatedAt)
}

// CreateScope adds a catalogue entry; an existing name is a KindConflict.
func (t *tx) CreateScope(ctx context.Context, s *keyhub.ScopeEntry) error {
	return t.insert(ctx, "create scope", fmt.Sprintf("scope %q already exists", s.Name),
		`INSERT INTO scopes (name, description, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		s.Name, s.Description, s.CreatedAt)
}

// ListScopes lists the whole catalogue by name; it is small by nature.
func (t *tx) ListScopes(ctx context.Context) ([]*keyhub.ScopeEntry, error) {
	return collect(ctx, t, "list scopes", func(row scanner) (*keyhub.ScopeEntry, error) {
		var s keyhub.ScopeEntry
		var created time.Time
		if err := row.Scan(&s.Name, &s.Description, &created); err != nil {
			return nil, err
		}
		s.CreatedAt = created.UTC()
		return &s, nil
	}, `SELECT name, description, created_at FROM scopes ORDER BY name`)
}

// DeleteScope removes a catalogue entry.
func (t *tx) DeleteScope(ctx context.Context, name string) error {
	return t.exec(ctx, "delete scope", "scope", name, `DELETE FROM scopes WHERE name = $1`, name)
}
