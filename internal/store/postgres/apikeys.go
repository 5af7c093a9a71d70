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
	expires_at, revoked_at, last_used_at, creator_type, creator_id, created_at, updated_at, ` + keyLimitColumns

func scanAPIKey(row scanner) (*keyhub.APIKey, error) {
	var k keyhub.APIKey
	var tenantID, roleID *string
	var meta []byte
	var limits keyLimits
	dest := append([]any{&k.ID, &tenantID, &k.Name, &k.Environment, &k.Start, &k.Hash, &k.Scopes, &roleID, &k.IPs,
		&meta, &k.Enabled, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt, &k.Creator.Type, &k.Creator.ID,
		&k.CreatedAt, &k.UpdatedAt}, limits.dest()...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	limits.apply(&k)
	k.TenantID = deref(tenantID)
	k.RoleID = deref(roleID)
	k.Scopes, k.IPs = nonNil(k.Scopes), nonNil(k.IPs)
	var err error
	if k.Meta, err = decodeJSON(meta); err != nil {
		return nil, fmt.Errorf("decode meta of api key %q: %w", k.ID, err)
	}
	if k.Meta == nil {
		k.Meta = json.RawMessage("{}")
	}
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = utc(k.ExpiresAt), utc(k.RevokedAt), utc(k.LastUsedAt)
	k.CreatedAt, k.UpdatedAt = k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	return &k, nil
}

// decodeJSON returns jsonb text compacted: PostgreSQL prints jsonb with a
// space after each ':' and ','. nil stays nil.
func decodeJSON(b []byte) (json.RawMessage, error) {
	if b == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return json.RawMessage(buf.Bytes()), nil
}

// encodeMeta returns the meta to store: an absent or null meta is {}.
func encodeMeta(m json.RawMessage) string {
	if len(bytes.TrimSpace(m)) == 0 || string(bytes.TrimSpace(m)) == "null" {
		return "{}"
	}
	return string(m)
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

// CreateAPIKey inserts k; an existing id or hash is a KindConflict.
func (t *tx) CreateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	// The conflict message names the id only: never the hash.
	return t.insert(ctx, "create api key", fmt.Sprintf("api key %q or its secret already exists", k.ID),
		`INSERT INTO api_keys (`+apiKeyColumns+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18,
		$19, $20, $21, $22, $23, $24, $25, $26)
		ON CONFLICT DO NOTHING`,
		append([]any{k.ID, nullable(k.TenantID), k.Name, k.Environment, k.Start, k.Hash, nonNil(k.Scopes), nullable(k.RoleID),
			nonNil(k.IPs), encodeMeta(k.Meta), k.Enabled, k.ExpiresAt, k.RevokedAt, k.LastUsedAt,
			k.Creator.Type, k.Creator.ID, k.CreatedAt, k.UpdatedAt}, limitArgs(k)...)...)
}

// GetAPIKey reads a key of tenantID ("" for operator keys), locking it
// inside Update.
func (t *tx) GetAPIKey(ctx context.Context, tenantID, id string) (*keyhub.APIKey, error) {
	var w where
	w.add("id = " + w.arg(id))
	w.tenant(tenantID)
	k, err := scanAPIKey(t.tx.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys`+w.sql()+t.lock(), w.args...))
	if isNoRows(err) {
		return nil, keyhub.NotFound("api key", id)
	}
	if err != nil {
		return nil, translate(err, "get api key")
	}
	return k, nil
}

// GetAPIKeyByHash finds a key of any tenant by the SHA-256 of its secret,
// locking it inside Update.
func (t *tx) GetAPIKeyByHash(ctx context.Context, hash []byte) (*keyhub.APIKey, error) {
	k, err := scanAPIKey(t.tx.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`+t.lock(), hash))
	if isNoRows(err) {
		// Not NotFound(what, id): there is no id to name, and the hash
		// must not appear in an error.
		return nil, keyhub.CodedErrorf(keyhub.KindNotFound, "not_found", "api key not found")
	}
	if err != nil {
		return nil, translate(err, "get api key by hash")
	}
	return k, nil
}

// ListAPIKeys lists a tenant's keys ("" for operator keys) newest first.
func (t *tx) ListAPIKeys(ctx context.Context, tenantID string, f keyhub.APIKeyFilter) ([]*keyhub.APIKey, error) {
	var w where
	w.tenant(tenantID)
	w.after(f.After)
	if f.Environment != "" {
		w.add("environment = " + w.arg(f.Environment))
	}
	if f.RoleID != "" {
		w.add("role_id = " + w.arg(f.RoleID))
	}
	if f.NamePrefix != "" {
		w.add(`name LIKE ` + w.arg(likePrefix(f.NamePrefix)) + ` ESCAPE '\'`)
	}
	if f.State != "" {
		cond, err := stateCondition(&w, f.State, f.Now)
		if err != nil {
			return nil, err
		}
		w.add(cond)
	}
	return collect(ctx, t, "list api keys", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys`+w.sql()+` ORDER BY id DESC LIMIT `+w.limit(f.Limit), w.args...)
}

// stateCondition expresses APIKey.State(now) == s in SQL, with the same
// precedence: revoked, then disabled, then expired. A zero now means the
// current time.
func stateCondition(w *where, s keyhub.KeyState, now time.Time) (string, error) {
	if now.IsZero() {
		now = time.Now()
	}
	switch s {
	case keyhub.StateRevoked:
		return "revoked_at IS NOT NULL", nil
	case keyhub.StateDisabled:
		return "revoked_at IS NULL AND NOT enabled", nil
	case keyhub.StateExpired:
		return "revoked_at IS NULL AND enabled AND expires_at <= " + w.arg(now), nil
	case keyhub.StateActive:
		return "revoked_at IS NULL AND enabled AND (expires_at IS NULL OR expires_at > " + w.arg(now) + ")", nil
	}
	return "", keyhub.Errorf(keyhub.KindBadRequest, "unknown key state %q", s)
}

// UpdateAPIKey writes every mutable field of k, the credit balance
// included: the caller read and locked the row in the same Update.
func (t *tx) UpdateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	var w where
	set := `UPDATE api_keys SET name = ` + w.arg(k.Name) +
		`, scopes = ` + w.arg(nonNil(k.Scopes)) +
		`, role_id = ` + w.arg(nullable(k.RoleID)) +
		`, ips = ` + w.arg(nonNil(k.IPs)) +
		`, meta = ` + w.arg(encodeMeta(k.Meta)) + `::jsonb` +
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
	return t.exec(ctx, "update api key", "api key", k.ID, set+w.sql(), w.args...)
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
			return 0, translate(err, "count operator keys")
		}
	}
	var n int
	if err := t.tx.QueryRow(ctx, `SELECT count(*) FROM api_keys WHERE tenant_id IS NULL`).Scan(&n); err != nil {
		return 0, translate(err, "count operator keys")
	}
	return n, nil
}
