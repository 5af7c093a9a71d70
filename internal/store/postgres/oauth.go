package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

const signingKeyColumns = "id, algorithm, private_key_encrypted, public_jwk, created_at, retired_at, expires_at"

func scanSigningKey(row scanner) (*keyhub.SigningKey, error) {
	var k keyhub.SigningKey
	var jwk []byte
	if err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKeyEncrypted, &jwk, &k.CreatedAt, &k.RetiredAt, &k.ExpiresAt); err != nil {
		return nil, err
	}
	var err error
	if k.PublicJWK, err = decodeJSON(jwk); err != nil {
		return nil, fmt.Errorf("decode public jwk of signing key %q: %w", k.ID, err)
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.RetiredAt, k.ExpiresAt = utc(k.RetiredAt), utc(k.ExpiresAt)
	return &k, nil
}

// CreateSigningKey inserts k; an existing id is ErrExists.
func (t *tx) CreateSigningKey(ctx context.Context, k *keyhub.SigningKey) error {
	return t.insert(ctx, "create signing key",
		`INSERT INTO signing_keys (`+signingKeyColumns+`) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
		ON CONFLICT DO NOTHING`,
		k.ID, k.Algorithm, k.PrivateKeyEncrypted, encodeJSON(k.PublicJWK), k.CreatedAt, k.RetiredAt, k.ExpiresAt)
}

// ListSigningKeys lists every signing key, newest first. There are a
// handful at most: the current one and those retired but still in the JWKS.
func (t *tx) ListSigningKeys(ctx context.Context) ([]*keyhub.SigningKey, error) {
	return collect(ctx, t, "list signing keys", scanSigningKey,
		`SELECT `+signingKeyColumns+` FROM signing_keys ORDER BY created_at DESC, id DESC`)
}

// UpdateSigningKey writes RetiredAt and ExpiresAt.
func (t *tx) UpdateSigningKey(ctx context.Context, k *keyhub.SigningKey) error {
	return t.exec(ctx, "update signing key",
		`UPDATE signing_keys SET retired_at = $2, expires_at = $3 WHERE id = $1`, k.ID, k.RetiredAt, k.ExpiresAt)
}

// DeleteSigningKey removes a key that has left the JWKS.
func (t *tx) DeleteSigningKey(ctx context.Context, id string) error {
	return t.exec(ctx, "delete signing key", `DELETE FROM signing_keys WHERE id = $1`, id)
}

// RevokeToken puts a JWT id on the deny-list. Revoking again is no error
// and keeps the later expiry, so the entry lasts as long as any token it
// stands for (as in SQLite).
func (t *tx) RevokeToken(ctx context.Context, rt *keyhub.RevokedToken) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)
		ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, EXCLUDED.expires_at)`,
		rt.JTI, rt.ExpiresAt)
	if err != nil {
		return translate(ctx, err, "revoke token")
	}
	return nil
}

// ListRevokedTokens lists the deny-listed tokens that expire after now.
func (t *tx) ListRevokedTokens(ctx context.Context, now time.Time) ([]*keyhub.RevokedToken, error) {
	return collect(ctx, t, "list revoked tokens", func(row scanner) (*keyhub.RevokedToken, error) {
		var rt keyhub.RevokedToken
		if err := row.Scan(&rt.JTI, &rt.ExpiresAt); err != nil {
			return nil, err
		}
		rt.ExpiresAt = rt.ExpiresAt.UTC()
		return &rt, nil
	}, `SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1 ORDER BY expires_at, jti`, now)
}

// PurgeRevokedTokens removes the entries that ListRevokedTokens(now) would
// not list, those expiring exactly at now included: such tokens fail on
// their own expiry.
func (t *tx) PurgeRevokedTokens(ctx context.Context, now time.Time) error {
	if _, err := t.tx.Exec(ctx, `DELETE FROM revoked_tokens WHERE expires_at <= $1`, now); err != nil {
		return translate(ctx, err, "purge revoked tokens")
	}
	return nil
}
