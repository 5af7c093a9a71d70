package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

const clientColumns = `id, tenant_id, name, secret_hash, previous_secret_hash, previous_secret_expires_at,
	scopes, audiences, token_ttl_ns, enabled, token_epoch, creator_type, creator_id, created_at, updated_at`

// CreateClient implements keyhub.Tx.
func (t *tx) CreateClient(ctx context.Context, c *keyhub.Client) error {
	const op = "create client"
	scopes, audiences, err := clientLists(op, c)
	if err != nil {
		return err
	}
	// A taken id is ErrExists; an unknown tenant ErrReferenced.
	return t.exec(ctx, op, `INSERT INTO clients (`+clientColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, nullString(c.TenantID), c.Name, c.SecretHash, nullBytes(c.PreviousSecretHash),
		microsPtr(c.PreviousSecretExpiresAt), scopes, audiences, int64(c.TokenTTL), c.Enabled, c.TokenEpoch,
		c.Creator.Type, c.Creator.ID, micros(c.CreatedAt), micros(c.UpdatedAt))
}

// GetClient implements keyhub.Tx; tenant_id IS ? reads operator clients
// with "" and never with a tenant's id.
func (t *tx) GetClient(ctx context.Context, tenantID, id string) (*keyhub.Client, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE tenant_id IS ? AND id = ?`,
		nullString(tenantID), id)
	return oneClient(ctx, row)
}

// LookupClient implements keyhub.Tx.
func (t *tx) LookupClient(ctx context.Context, id string) (*keyhub.Client, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id)
	return oneClient(ctx, row)
}

func oneClient(ctx context.Context, row *sql.Row) (*keyhub.Client, error) {
	c, err := scanClient(row)
	if err != nil {
		return nil, translate(ctx, "get client", err)
	}
	return c, nil
}

// ListClients implements keyhub.Tx.
func (t *tx) ListClients(ctx context.Context, tenantID string, page keyhub.Page) ([]*keyhub.Client, error) {
	const op = "list clients"
	q := `SELECT ` + clientColumns + ` FROM clients WHERE tenant_id IS ?`
	args := []any{nullString(tenantID)}
	if page.After != "" {
		q += ` AND id < ?`
		args = append(args, page.After)
	}
	lim, limArgs, err := pageClause(op, page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanClient)
}

// UpdateClient implements keyhub.Tx; the client must belong to c.TenantID.
func (t *tx) UpdateClient(ctx context.Context, c *keyhub.Client) error {
	const op = "update client"
	scopes, audiences, err := clientLists(op, c)
	if err != nil {
		return err
	}
	return t.execOne(ctx, op, `UPDATE clients SET
		name = ?, secret_hash = ?, previous_secret_hash = ?, previous_secret_expires_at = ?,
		scopes = ?, audiences = ?, token_ttl_ns = ?, enabled = ?, token_epoch = ?, updated_at = ?
		WHERE tenant_id IS ? AND id = ?`,
		c.Name, c.SecretHash, nullBytes(c.PreviousSecretHash), microsPtr(c.PreviousSecretExpiresAt),
		scopes, audiences, int64(c.TokenTTL), c.Enabled, c.TokenEpoch, micros(c.UpdatedAt),
		nullString(c.TenantID), c.ID)
}

// DeleteClient implements keyhub.Tx.
func (t *tx) DeleteClient(ctx context.Context, tenantID, id string) error {
	return t.execOne(ctx, "delete client",
		`DELETE FROM clients WHERE tenant_id IS ? AND id = ?`, nullString(tenantID), id)
}

func clientLists(op string, c *keyhub.Client) (scopes, audiences string, err error) {
	if scopes, err = stringsText(op, c.Scopes); err != nil {
		return "", "", err
	}
	if audiences, err = stringsText(op, c.Audiences); err != nil {
		return "", "", err
	}
	return scopes, audiences, nil
}

// nullBytes stores an empty digest as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func scanClient(row scanner) (*keyhub.Client, error) {
	var (
		c                 keyhub.Client
		tenantID          sql.NullString
		prevExpires       sql.NullInt64
		scopes, audiences string
		ttl               int64
		created, updated  int64
	)
	err := row.Scan(&c.ID, &tenantID, &c.Name, &c.SecretHash, &c.PreviousSecretHash, &prevExpires,
		&scopes, &audiences, &ttl, &c.Enabled, &c.TokenEpoch, &c.Creator.Type, &c.Creator.ID, &created, &updated)
	if err != nil {
		return nil, err
	}
	c.TenantID = tenantID.String
	if c.Scopes, err = parseStrings(scopes); err != nil {
		return nil, fmt.Errorf("client %s: scopes: %w", c.ID, err)
	}
	if c.Audiences, err = parseStrings(audiences); err != nil {
		return nil, fmt.Errorf("client %s: audiences: %w", c.ID, err)
	}
	c.PreviousSecretExpiresAt = fromMicrosPtr(prevExpires)
	c.TokenTTL = keyhub.Duration(time.Duration(ttl))
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}
