package postgres

import (
	"context"

	"github.com/keyhub/keyhub"
)

const clientColumns = `id, tenant_id, name, secret_hash, previous_secret_hash, previous_secret_expires_at,
	scopes, audiences, token_ttl_ns, enabled, token_epoch, creator_type, creator_id, created_at, updated_at`

func scanClient(row scanner) (*keyhub.Client, error) {
	var c keyhub.Client
	var tenantID *string
	var ttl int64
	err := row.Scan(&c.ID, &tenantID, &c.Name, &c.SecretHash, &c.PreviousSecretHash, &c.PreviousSecretExpiresAt,
		&c.Scopes, &c.Audiences, &ttl, &c.Enabled, &c.TokenEpoch, &c.Creator.Type, &c.Creator.ID, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	c.TenantID = deref(tenantID)
	c.TokenTTL = keyhub.Duration(ttl)
	c.Scopes, c.Audiences = nonNil(c.Scopes), nonNil(c.Audiences)
	c.PreviousSecretExpiresAt = utc(c.PreviousSecretExpiresAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// nullBytes maps an empty digest to NULL: "no previous secret".
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateClient inserts c; an existing id is ErrExists, an unknown tenant
// ErrReferenced.
func (t *tx) CreateClient(ctx context.Context, c *keyhub.Client) error {
	return t.insert(ctx, "create client", `INSERT INTO clients (`+clientColumns+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING`,
		c.ID, nullable(c.TenantID), c.Name, c.SecretHash, nullBytes(c.PreviousSecretHash), c.PreviousSecretExpiresAt,
		nonNil(c.Scopes), nonNil(c.Audiences), int64(c.TokenTTL), c.Enabled, c.TokenEpoch, c.Creator.Type, c.Creator.ID,
		c.CreatedAt, c.UpdatedAt)
}

// GetClient reads a client of tenantID ("" for operator clients), locking
// it inside Update.
func (t *tx) GetClient(ctx context.Context, tenantID, id string) (*keyhub.Client, error) {
	var w where
	w.add("id = " + w.arg(id))
	w.tenant(tenantID)
	return t.getClient(ctx, w)
}

// LookupClient reads a client of any tenant, for the token endpoint,
// locking it inside Update.
func (t *tx) LookupClient(ctx context.Context, id string) (*keyhub.Client, error) {
	var w where
	w.add("id = " + w.arg(id))
	return t.getClient(ctx, w)
}

func (t *tx) getClient(ctx context.Context, w where) (*keyhub.Client, error) {
	c, err := scanClient(t.tx.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients`+w.sql()+t.lock(), w.args...))
	if err != nil {
		return nil, translate(ctx, err, "get client")
	}
	return c, nil
}

// ListClients lists a tenant's clients ("" for operator clients) newest
// first.
func (t *tx) ListClients(ctx context.Context, tenantID string, page keyhub.Page) ([]*keyhub.Client, error) {
	const op = "list clients"
	var w where
	w.tenant(tenantID)
	w.after(page.After)
	lim, err := w.page(op, page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanClient, `SELECT `+clientColumns+` FROM clients`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// UpdateClient writes every mutable field of c, secret digests included.
func (t *tx) UpdateClient(ctx context.Context, c *keyhub.Client) error {
	var w where
	set := `UPDATE clients SET name = ` + w.arg(c.Name) +
		`, secret_hash = ` + w.arg(c.SecretHash) +
		`, previous_secret_hash = ` + w.arg(nullBytes(c.PreviousSecretHash)) +
		`, previous_secret_expires_at = ` + w.arg(c.PreviousSecretExpiresAt) +
		`, scopes = ` + w.arg(nonNil(c.Scopes)) +
		`, audiences = ` + w.arg(nonNil(c.Audiences)) +
		`, token_ttl_ns = ` + w.arg(int64(c.TokenTTL)) +
		`, enabled = ` + w.arg(c.Enabled) +
		`, token_epoch = ` + w.arg(c.TokenEpoch) +
		`, updated_at = ` + w.arg(c.UpdatedAt)
	w.add("id = " + w.arg(c.ID))
	w.tenant(c.TenantID)
	return t.exec(ctx, "update client", set+w.sql(), w.args...)
}

// DeleteClient removes a client of tenantID ("" for operator clients).
func (t *tx) DeleteClient(ctx context.Context, tenantID, id string) error {
	var w where
	w.add("id = " + w.arg(id))
	w.tenant(tenantID)
	return t.exec(ctx, "delete client", `DELETE FROM clients`+w.sql(), w.args...)
}
