package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

var apiKeyColumns = `id, tenant_id, name, environment, start, hash, scopes, role_id, ips, meta, enabled,
	expires_at, revoked_at, last_used_at, creator_type, creator_id, created_at, updated_at, ` + keyLimitColumns + `,
	kind, sealed_secret`

func scanAPIKey(row scanner) (*keyhub.APIKey, error) {
	var k keyhub.APIKey
	var tenantID, roleID *string
	var meta []byte
	var limits keyLimits
	dest := append([]any{&k.ID, &tenantID, &k.Name, &k.Environment, &k.Start, &k.Hash, &k.Scopes, &roleID, &k.IPs,
		&meta, &k.Enabled, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt, &k.Creator.Type, &k.Creator.ID,
		&k.CreatedAt, &k.UpdatedAt}, limits.dest()...)
	var kind string
	if err := row.Scan(append(dest, &kind, &k.SealedSecret)...); err != nil {
		return nil, err
	}
	k.Kind = keyhub.KeyKind(kind)
	limits.apply(&k)
	k.TenantID = deref(tenantID)
	k.RoleID = deref(roleID)
	k.Scopes, k.IPs = nonNil(k.Scopes), nonNil(k.IPs)
	var err error
	if k.Meta, err = decodeJSON(meta); err != nil {
		return nil, fmt.Errorf("decode meta of api key %q: %w", k.ID, err)
	}
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = utc(k.ExpiresAt), utc(k.RevokedAt), utc(k.LastUsedAt)
	k.CreatedAt, k.UpdatedAt = k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	return &k, nil
}

// encodeJSON returns a JSON value to store as given. A RawMessage without
// bytes holds no value, which is what JSON null means and how encoding/json
// marshals a nil RawMessage, so it is stored as null; decodeJSON reads null
// back as nil, as SQLite does.
func encodeJSON(m json.RawMessage) string {
	if len(m) == 0 {
		return "null"
	}
	return string(m)
}

// decodeJSON returns jsonb text compacted: PostgreSQL prints jsonb with a
// space after each ':' and ','. SQL NULL and JSON null are nil.
func decodeJSON(b []byte) (json.RawMessage, error) {
	if b == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	if buf.String() == "null" {
		return nil, nil
	}
	return json.RawMessage(buf.Bytes()), nil
}

// nullable maps "" to NULL, for optional references.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreateAPIKey inserts k; an existing id or hash is ErrExists, an unknown
// tenant or role ErrReferenced.
func (t *tx) CreateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	return t.insert(ctx, "create api key", `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::json, $11, $12, $13, $14, $15, $16, $17, $18,
		$19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)
		ON CONFLICT DO NOTHING`,
		append(append([]any{k.ID, nullable(k.TenantID), k.Name, k.Environment, k.Start, k.Hash, nonNil(k.Scopes), nullable(k.RoleID),
			nonNil(k.IPs), encodeJSON(k.Meta), k.Enabled, k.ExpiresAt, k.RevokedAt, k.LastUsedAt,
			k.Creator.Type, k.Creator.ID, k.CreatedAt, k.UpdatedAt}, limitArgs(k)...), string(k.Kind), k.SealedSecret)...)
}

// GetAPIKey reads a key of tenantID ("" for operator keys), locking it
// inside Update.
func (t *tx) GetAPIKey(ctx context.Context, tenantID, id string) (*keyhub.APIKey, error) {
	var w where
	w.add("id = " + w.arg(id))
	w.tenant(tenantID)
	k, err := scanAPIKey(t.tx.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys`+w.sql()+t.lock(), w.args...))
	if err != nil {
		return nil, translate(ctx, err, "get api key")
	}
	return k, nil
}

// GetAPIKeyByHash finds a key of any tenant by the SHA-256 of its secret,
// locking it inside Update.
func (t *tx) GetAPIKeyByHash(ctx context.Context, hash []byte) (*keyhub.APIKey, error) {
	k, err := scanAPIKey(t.tx.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`+t.lock(), hash))
	if err != nil {
		return nil, translate(ctx, err, "get api key by hash")
	}
	return k, nil
}

// UpdateAPIKey writes every mutable field of k, the credit balance
// included: the caller read and locked the row in the same Update.
func (t *tx) UpdateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	var w where
	set := `UPDATE api_keys SET name = ` + w.arg(k.Name) +
		`, scopes = ` + w.arg(nonNil(k.Scopes)) +
		`, role_id = ` + w.arg(nullable(k.RoleID)) +
		`, ips = ` + w.arg(nonNil(k.IPs)) +
		`, meta = ` + w.arg(encodeJSON(k.Meta)) + `::json` +
		`, enabled = ` + w.arg(k.Enabled) +
		`, expires_at = ` + w.arg(k.ExpiresAt) +
		`, revoked_at = ` + w.arg(k.RevokedAt) +
		`, updated_at = ` + w.arg(k.UpdatedAt)
	lim := limitArgs(k)
	for i, col := range keyLimitNames {
		set += `, ` + col + ` = ` + w.arg(lim[i])
	}
	w.add("id = " + w.arg(k.ID))
	w.tenant(k.TenantID)
	// An unknown role is ErrReferenced, through the foreign key.
	return t.exec(ctx, "update api key", set+w.sql(), w.args...)
}

// operatorKeysLock is the pg_advisory_xact_lock key that CountOperatorKeys
// takes inside Update ("opkeys" in ASCII).
const operatorKeysLock int64 = 0x6f706b657973

// CountOperatorKeys counts operator keys, revoked ones included. Inside
// Update it first takes a transaction-level advisory lock: there is no row
// to lock when the count is zero, yet bootstrap counts and then creates, and
// two nodes starting at once must not both create a key. The lock is its own
// statement so that the count, at READ COMMITTED, sees what the previous
// holder committed.
func (t *tx) CountOperatorKeys(ctx context.Context) (int, error) {
	if t.forUpdate {
		if _, err := t.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, operatorKeysLock); err != nil {
			return 0, translate(ctx, err, "count operator keys")
		}
	}
	var n int
	if err := t.tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE tenant_id IS NULL`).Scan(&n); err != nil {
		return 0, translate(ctx, err, "count operator keys")
	}
	return n, nil
}
