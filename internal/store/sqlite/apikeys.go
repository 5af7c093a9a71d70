package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/keyhub/keyhub"
)

const keyColumns = `id, tenant_id, name, environment, start, hash, scopes, role_id, ips, meta, enabled,
	expires_at, revoked_at, last_used_at, creator_type, creator_id, created_at, updated_at,
	ratelimit_limit, ratelimit_duration_ns, credits_remaining, credits_refill_amount, credits_refill_interval,
	credits_refilled_at, rotated_from, replaced_by`

// CreateAPIKey implements keyhub.Tx.
func (t *tx) CreateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	scopes, err := stringsText(k.Scopes)
	if err != nil {
		return err
	}
	ips, err := stringsText(k.IPs)
	if err != nil {
		return err
	}
	args := []any{k.ID, nullString(k.TenantID), k.Name, k.Environment, k.Start, k.Hash, scopes, nullString(k.RoleID),
		ips, objectText(k.Meta), k.Enabled, microsPtr(k.ExpiresAt), microsPtr(k.RevokedAt),
		microsPtr(k.LastUsedAt), k.Creator.Type, k.Creator.ID, micros(k.CreatedAt), micros(k.UpdatedAt)}
	args = append(args, limitArgs(k)...)
	err = t.exec(ctx, "create api key", `INSERT INTO api_keys (`+keyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if keyhub.IsKind(err, keyhub.KindConflict) {
		// A foreign key failure here means an unknown tenant or role.
		return keyhub.CodedErrorf(keyhub.KindConflict, "api_key_conflict",
			"api key %q conflicts with an existing key or names an unknown tenant or role", k.ID)
	}
	return err
}

// GetAPIKey implements keyhub.Tx. tenant_id IS ? matches NULL when tenantID
// is "", so operator keys are read with "" and never with a tenant's id.
func (t *tx) GetAPIKey(ctx context.Context, tenantID, id string) (*keyhub.APIKey, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE tenant_id IS ? AND id = ?`,
		nullString(tenantID), id)
	return t.oneKey(ctx, row, id)
}

// GetAPIKeyByHash implements keyhub.Tx.
func (t *tx) GetAPIKeyByHash(ctx context.Context, hash []byte) (*keyhub.APIKey, error) {
	row := t.tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash)
	// The error names no hash: it is as sensitive as the key for scanners.
	return t.oneKey(ctx, row, "")
}

func (t *tx) oneKey(ctx context.Context, row *sql.Row, id string) (*keyhub.APIKey, error) {
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		if id == "" {
			return nil, keyhub.CodedErrorf(keyhub.KindNotFound, "not_found", "api key not found")
		}
		return nil, notFound("api key", id)
	}
	if err != nil {
		return nil, translate(ctx, "get api key", err)
	}
	return k, nil
}

// ListAPIKeys implements keyhub.Tx.
func (t *tx) ListAPIKeys(ctx context.Context, tenantID string, f keyhub.APIKeyFilter) ([]*keyhub.APIKey, error) {
	where := []string{`tenant_id IS ?`}
	args := []any{nullString(tenantID)}
	if f.Environment != "" {
		where = append(where, `environment = ?`)
		args = append(args, f.Environment)
	}
	if f.RoleID != "" {
		where = append(where, `role_id = ?`)
		args = append(args, f.RoleID)
	}
	if f.NamePrefix != "" {
		// Not LIKE: it is case-insensitive in SQLite and treats % and _ as
		// wildcards. Comparing the leading characters is literal.
		where = append(where, `substr(name, 1, length(?)) = ?`)
		args = append(args, f.NamePrefix, f.NamePrefix)
	}
	if f.State != "" {
		cond, err := stateCondition(f.State)
		if err != nil {
			return nil, err
		}
		where = append(where, cond)
		if strings.Contains(cond, "?") {
			args = append(args, micros(f.Now))
		}
	}
	if f.After != "" {
		where = append(where, `id < ?`)
		args = append(args, f.After)
	}
	q := `SELECT ` + keyColumns + ` FROM api_keys WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit(f.Page))
	return list(ctx, t, "list api keys", q, args, scanKey)
}

// stateCondition is keyhub.APIKey.State as SQL, with ? standing for now:
// revoked beats disabled, which beats expired; a key expires at ExpiresAt.
func stateCondition(s keyhub.KeyState) (string, error) {
	switch s {
	case keyhub.StateRevoked:
		return `revoked_at IS NOT NULL`, nil
	case keyhub.StateDisabled:
		return `(revoked_at IS NULL AND enabled = 0)`, nil
	case keyhub.StateExpired:
		return `(revoked_at IS NULL AND enabled = 1 AND expires_at IS NOT NULL AND expires_at <= ?)`, nil
	case keyhub.StateActive:
		return `(revoked_at IS NULL AND enabled = 1 AND (expires_at IS NULL OR expires_at > ?))`, nil
	}
	return "", keyhub.Errorf(keyhub.KindInvalid, "unknown key state %q", s)
}

// UpdateAPIKey implements keyhub.Tx; the key must belong to k.TenantID.
func (t *tx) UpdateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	scopes, err := stringsText(k.Scopes)
	if err != nil {
		return err
	}
	ips, err := stringsText(k.IPs)
	if err != nil {
		return err
	}
	args := []any{k.Name, scopes, nullString(k.RoleID), ips, objectText(k.Meta), k.Enabled,
		microsPtr(k.ExpiresAt), microsPtr(k.RevokedAt), micros(k.UpdatedAt)}
	args = append(args, limitArgs(k)...)
	args = append(args, nullString(k.TenantID), k.ID)
	err = t.execOne(ctx, "update api key", "api key", k.ID, `UPDATE api_keys SET
		name = ?, scopes = ?, role_id = ?, ips = ?, meta = ?, enabled = ?,
		expires_at = ?, revoked_at = ?, updated_at = ?,
		ratelimit_limit = ?, ratelimit_duration_ns = ?, credits_remaining = ?, credits_refill_amount = ?,
		credits_refill_interval = ?, credits_refilled_at = ?, rotated_from = ?, replaced_by = ?
		WHERE tenant_id IS ? AND id = ?`, args...)
	if keyhub.IsKind(err, keyhub.KindConflict) {
		return keyhub.CodedErrorf(keyhub.KindConflict, "unknown_role", "api key %q names an unknown role", k.ID)
	}
	return err
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
	)
	dest := []any{&k.ID, &tenantID, &k.Name, &k.Environment, &k.Start, &k.Hash, &scopes, &roleID, &ips, &meta,
		&k.Enabled, &expires, &revoked, &lastUsed, &k.Creator.Type, &k.Creator.ID, &created, &updated}
	err := row.Scan(append(dest, l.dest()...)...)
	if err != nil {
		return nil, err
	}
	k.TenantID, k.RoleID = tenantID.String, roleID.String
	if k.Scopes, err = parseStrings(scopes); err != nil {
		return nil, fmt.Errorf("api key %s: scopes: %w", k.ID, err)
	}
	if k.IPs, err = parseStrings(ips); err != nil {
		return nil, fmt.Errorf("api key %s: ips: %w", k.ID, err)
	}
	k.Meta = json.RawMessage(objectText(json.RawMessage(meta)))
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromMicrosPtr(expires), fromMicrosPtr(revoked), fromMicrosPtr(lastUsed)
	k.CreatedAt, k.UpdatedAt = fromMicros(created), fromMicros(updated)
	l.apply(&k)
	return &k, nil
}
