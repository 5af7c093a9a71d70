package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keyhub/keyhub"
)

const keyColumns = `id, tenant_id, name, environment, start, hash, scopes, role_id, ips, meta, enabled,
	expires_at, revoked_at, last_used_at, creator_type, creator_id, created_at, updated_at,
	ratelimit_limit, ratelimit_duration_ns, credits_remaining, credits_refill_amount, credits_refill_interval,
	credits_refilled_at, credits_low_threshold, rotated_from, replaced_by, kind, sealed_secret`

// CreateAPIKey implements keyhub.Tx.
func (t *tx) CreateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	const op = "create api key"
	scopes, err := stringsText(op, k.Scopes)
	if err != nil {
		return err
	}
	ips, err := stringsText(op, k.IPs)
	if err != nil {
		return err
	}
	args := []any{k.ID, nullString(k.TenantID), k.Name, k.Environment, k.Start, k.Hash, scopes, nullString(k.RoleID),
		ips, rawText(k.Meta), k.Enabled, microsPtr(k.ExpiresAt), microsPtr(k.RevokedAt),
		microsPtr(k.LastUsedAt), k.Creator.Type, k.Creator.ID, micros(k.CreatedAt), micros(k.UpdatedAt)}
	args = append(args, limitArgs(k)...)
	args = append(args, string(k.Kind), k.SealedSecret)
	// A taken id or hash is ErrExists; an unknown tenant or role is
	// ErrReferenced, through the foreign keys.
	return t.exec(ctx, op, `INSERT INTO api_keys (`+keyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
}

// GetAPIKey implements keyhub.Tx. tenant_id IS ? matches NULL when tenantID
// is "", so operator keys are read with "" and never with a tenant's id.
func (t *tx) GetAPIKey(ctx context.Context, tenantID, id string) (*keyhub.APIKey, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE tenant_id IS ? AND id = ?`,
		nullString(tenantID), id)
	return t.oneKey(ctx, row)
}

// GetAPIKeyByHash implements keyhub.Tx.
func (t *tx) GetAPIKeyByHash(ctx context.Context, hash []byte) (*keyhub.APIKey, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash)
	return t.oneKey(ctx, row)
}

func (t *tx) oneKey(ctx context.Context, row *sql.Row) (*keyhub.APIKey, error) {
	k, err := scanKey(row)
	if err != nil {
		return nil, translate(ctx, "get api key", err)
	}
	return k, nil
}

// UpdateAPIKey implements keyhub.Tx; the key must belong to k.TenantID.
func (t *tx) UpdateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	const op = "update api key"
	scopes, err := stringsText(op, k.Scopes)
	if err != nil {
		return err
	}
	ips, err := stringsText(op, k.IPs)
	if err != nil {
		return err
	}
	args := []any{k.Name, scopes, nullString(k.RoleID), ips, rawText(k.Meta), k.Enabled,
		microsPtr(k.ExpiresAt), microsPtr(k.RevokedAt), micros(k.UpdatedAt)}
	args = append(args, limitArgs(k)...)
	args = append(args, nullString(k.TenantID), k.ID)
	// An unknown role is ErrReferenced, through the foreign key.
	return t.execOne(ctx, op, `UPDATE api_keys SET
		name = ?, scopes = ?, role_id = ?, ips = ?, meta = ?, enabled = ?,
		expires_at = ?, revoked_at = ?, updated_at = ?,
		ratelimit_limit = ?, ratelimit_duration_ns = ?, credits_remaining = ?, credits_refill_amount = ?,
		credits_refill_interval = ?, credits_refilled_at = ?, credits_low_threshold = ?, rotated_from = ?, replaced_by = ?
		WHERE tenant_id IS ? AND id = ?`, args...)
}

// CountOperatorKeys implements keyhub.Tx.
func (t *tx) CountOperatorKeys(ctx context.Context) (int, error) {
	return t.count(ctx, "count operator keys", `SELECT count(*) FROM api_keys WHERE tenant_id IS NULL`)
}

func scanKey(row scanner) (*keyhub.APIKey, error) {
	var (
		k                          keyhub.APIKey
		tenantID, roleID           sql.NullString
		scopes, ips, meta          string
		expires, revoked, lastUsed sql.NullInt64
		created, updated           int64
		l                          limitColumns
		kind                       string
	)
	dest := []any{&k.ID, &tenantID, &k.Name, &k.Environment, &k.Start, &k.Hash, &scopes, &roleID, &ips, &meta,
		&k.Enabled, &expires, &revoked, &lastUsed, &k.Creator.Type, &k.Creator.ID, &created, &updated}
	dest = append(dest, l.dest()...)
	err := row.Scan(append(dest, &kind, &k.SealedSecret)...)
	if err != nil {
		return nil, err
	}
	k.TenantID, k.RoleID, k.Kind = tenantID.String, roleID.String, keyhub.KeyKind(kind)
	if k.Scopes, err = parseStrings(scopes); err != nil {
		return nil, fmt.Errorf("api key %s: scopes: %w", k.ID, err)
	}
	if k.IPs, err = parseStrings(ips); err != nil {
		return nil, fmt.Errorf("api key %s: ips: %w", k.ID, err)
	}
	k.Meta = rawValue(meta)
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromMicrosPtr(expires), fromMicrosPtr(revoked), fromMicrosPtr(lastUsed)
	k.CreatedAt, k.UpdatedAt = fromMicros(created), fromMicros(updated)
	l.apply(&k)
	return &k, nil
}
