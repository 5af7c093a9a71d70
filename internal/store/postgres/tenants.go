package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/keyhub/keyhub"
)

const tenantColumns = "id, name, key_prefixes, leak_policy, created_at, updated_at"

func scanTenant(row scanner) (*keyhub.Tenant, error) {
	var t keyhub.Tenant
	var prefixes []byte
	if err := row.Scan(&t.ID, &t.Name, &prefixes, &t.LeakPolicy, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(prefixes, &t.KeyPrefixes); err != nil {
		return nil, fmt.Errorf("decode key_prefixes of tenant %q: %w", t.ID, err)
	}
	// Maps come back non-nil, like lists, whether nil (stored as null) or
	// empty was written.
	if t.KeyPrefixes == nil {
		t.KeyPrefixes = map[string]string{}
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return &t, nil
}

// encodePrefixes encodes a tenant's prefixes as given: a nil map is null.
// encoding/json would replace invalid UTF-8 with U+FFFD, so such text is
// ErrUnstorableText rather than stored changed, as PostgreSQL answers for
// it in any text column; NUL becomes \u0000, which jsonb refuses alike.
func encodePrefixes(op string, m map[string]string) (string, error) {
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return "", fail(op, keyhub.ErrUnstorableText)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", wrap(op, err)
	}
	return string(b), nil
}

// CreateTenant inserts t; an existing id is ErrExists.
func (t *tx) CreateTenant(ctx context.Context, ten *keyhub.Tenant) error {
	prefixes, err := encodePrefixes("create tenant", ten.KeyPrefixes)
	if err != nil {
		return err
	}
	return t.insert(ctx, "create tenant", `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3::jsonb, $4, $5, $6) ON CONFLICT DO NOTHING`,
		ten.ID, ten.Name, prefixes, string(ten.LeakPolicy), ten.CreatedAt, ten.UpdatedAt)
}

// GetTenant reads one tenant, locking it inside Update.
func (t *tx) GetTenant(ctx context.Context, id string) (*keyhub.Tenant, error) {
	ten, err := scanTenant(t.tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`+t.lock(), id))
	if err != nil {
		return nil, translate(ctx, err, "get tenant")
	}
	return ten, nil
}

// GetTenantShared implements keyhub.Tx.
func (t *tx) GetTenantShared(ctx context.Context, id string) (*keyhub.Tenant, error) {
	lock := ""
	if t.forUpdate {
		lock = " FOR SHARE"
	}
	ten, err := scanTenant(t.tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`+lock, id))
	if err != nil {
		return nil, translate(ctx, err, "get tenant")
	}
	return ten, nil
}

// ListTenants lists tenants newest first.
func (t *tx) ListTenants(ctx context.Context, page keyhub.Page) ([]*keyhub.Tenant, error) {
	const op = "list tenants"
	var w where
	w.after(page.After)
	lim, err := w.page(op, page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanTenant, `SELECT `+tenantColumns+` FROM tenants`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// UpdateTenant writes the mutable fields of ten.
func (t *tx) UpdateTenant(ctx context.Context, ten *keyhub.Tenant) error {
	prefixes, err := encodePrefixes("update tenant", ten.KeyPrefixes)
	if err != nil {
		return err
	}
	return t.exec(ctx, "update tenant",
		`UPDATE tenants SET name = $2, key_prefixes = $3::jsonb, leak_policy = $4, updated_at = $5 WHERE id = $1`,
		ten.ID, ten.Name, prefixes, string(ten.LeakPolicy), ten.UpdatedAt)
}

// CreateScope adds a catalogue entry; an existing name is ErrExists.
func (t *tx) CreateScope(ctx context.Context, s *keyhub.ScopeEntry) error {
	return t.insert(ctx, "create scope", `INSERT INTO scopes (name, description, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
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
	return t.exec(ctx, "delete scope", `DELETE FROM scopes WHERE name = $1`, name)
}
