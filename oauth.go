package keyhub

import (
	"encoding/json"
	"time"
)

// Client is an OAuth 2.0 client for the client-credentials grant. Its secret
// is stored only as a SHA-256 digest.
type Client struct {
	ID       string `json:"client_id"`
	TenantID string `json:"tenant_id"` // "" for operator clients
	Name     string `json:"name"`
	// SecretHash is the digest of the current secret.
	SecretHash []byte `json:"-"`
	// PreviousSecretHash stays valid until PreviousSecretExpiresAt, so a
	// rotation need not break running programs.
	PreviousSecretHash      []byte     `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	Scopes                  []string   `json:"scopes"`
	Audiences               []string   `json:"audiences"`
	TokenTTL                Duration   `json:"token_ttl"`
	Enabled                 bool       `json:"enabled"`
	// TokenEpoch counts rotations of the secret without grace; tokens carry
	// the epoch they were issued in, and those of an earlier one are
	// refused, so a leaked secret's tokens die with it.
	TokenEpoch int64     `json:"-"`
	Creator    Actor     `json:"creator"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// SigningKey is a JWT signing key. The private key is stored encrypted
// under the master key; the public JWK is stored in clear.
type SigningKey struct {
	ID                  string          `json:"kid"`
	Algorithm           string          `json:"alg"`
	PrivateKeyEncrypted []byte          `json:"-"`
	PublicJWK           json.RawMessage `json:"public_jwk"`
	CreatedAt           time.Time       `json:"created_at"`
	// RetiredAt is when the key stopped signing; nil while it is current.
	RetiredAt *time.Time `json:"retired_at"`
	// ExpiresAt is when the key leaves the JWKS: after every token it
	// signed has expired.
	ExpiresAt *time.Time `json:"expires_at"`
}

// RevokedToken is a JWT on the deny-list until it would have expired.
type RevokedToken struct {
	JTI       string    `json:"jti"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Normalize gives a client's lists their one stored form.
func (c *Client) Normalize() { c.Scopes, c.Audiences = nonNil(c.Scopes), nonNil(c.Audiences) }
