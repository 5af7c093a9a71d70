package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyhub/keyhub"
)

const signingKeyColumns = `id, algorithm, private_key_encrypted, public_jwk, created_at, retired_at, expires_at`

// CreateSigningKey implements keyhub.Tx.
func (t *tx) CreateSigningKey(ctx context.Context, k *keyhub.SigningKey) error {
	return t.exec(ctx, "create signing key", `INSERT INTO signing_keys (`+signingKeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.PrivateKeyEncrypted, rawText(k.PublicJWK), micros(k.CreatedAt),
		microsPtr(k.RetiredAt), microsPtr(k.ExpiresAt))
}

// ListSigningKeys implements keyhub.Tx: newest first by creation time, kid
// breaking ties, since a kid need not sort by time.
func (t *tx) ListSigningKeys(ctx context.Context) ([]*keyhub.SigningKey, error) {
	return list(ctx, t, "list signing keys",
		`SELECT `+signingKeyColumns+` FROM signing_keys ORDER BY created_at DESC, id DESC`, nil, scanSigningKey)
}

// UpdateSigningKey implements keyhub.Tx.
func (t *tx) UpdateSigningKey(ctx context.Context, k *keyhub.SigningKey) error {
	return t.execOne(ctx, "update signing key",
		`UPDATE signing_keys SET retired_at = ?, expires_at = ? WHERE id = ?`,
		microsPtr(k.RetiredAt), microsPtr(k.ExpiresAt), k.ID)
}

// DeleteSigningKey implements keyhub.Tx.
func (t *tx) DeleteSigningKey(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete signing key", `DELETE FROM signing_keys WHERE id = ?`, id)
}

func scanSigningKey(row scanner) (*keyhub.SigningKey, error) {
	var (
		k           keyhub.SigningKey
		jwk         string
		created     int64
		ret, expire sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKeyEncrypted, &jwk, &created, &ret, &expire); err != nil {
		return nil, err
	}
	k.PublicJWK = rawValue(jwk)
	k.CreatedAt = fromMicros(created)
	k.RetiredAt, k.ExpiresAt = fromMicrosPtr(ret), fromMicrosPtr(expire)
	return &k, nil
}

// RevokeToken implements keyhub.Tx. Revoking again keeps the later expiry,
// so the entry lasts as long as any token it stands for.
func (t *tx) RevokeToken(ctx context.Context, r *keyhub.RevokedToken) error {
	return t.exec(ctx, "revoke token", `INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?)
		ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
		r.JTI, micros(r.ExpiresAt))
}

// ListRevokedTokens implements keyhub.Tx.
func (t *tx) ListRevokedTokens(ctx context.Context, now time.Time) ([]*keyhub.RevokedToken, error) {
	return list(ctx, t, "list revoked tokens",
		`SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > ? ORDER BY expires_at, jti`,
		[]any{micros(now)}, func(row scanner) (*keyhub.RevokedToken, error) {
			var (
				r   keyhub.RevokedToken
				exp int64
			)
			if err := row.Scan(&r.JTI, &exp); err != nil {
				return nil, err
			}
			r.ExpiresAt = fromMicros(exp)
			return &r, nil
		})
}

// PurgeRevokedTokens implements keyhub.Tx. It removes exactly what
// ListRevokedTokens(now) leaves out: a token expiring at now is expired.
func (t *tx) PurgeRevokedTokens(ctx context.Context, now time.Time) error {
	return t.exec(ctx, "purge revoked tokens", `DELETE FROM revoked_tokens WHERE expires_at <= ?`, micros(now))
}
