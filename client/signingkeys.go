package client

import (
	"context"
	"net/http"
	"time"
)

// SigningKeysService manages the keys that sign access tokens (operator
// credentials only).
type SigningKeysService struct{ c *Client }

// SigningKey names a token signing key. Its private half never leaves the
// server; the public half is in the JWKS.
type SigningKey struct {
	// KID is the key id, the "kid" of the tokens it signs.
	KID string `json:"kid"`
	// Alg is the JOSE algorithm, such as "ES256".
	Alg       string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
}

// Rotate makes a new signing key current and returns it. Tokens signed by
// the previous key keep verifying until they expire: the JWKS lists both
// keys for that long.
func (s *SigningKeysService) Rotate(ctx context.Context) (*SigningKey, error) {
	var k SigningKey
	if err := s.c.do(ctx, http.MethodPost, "/v1/signing-keys/rotate", nil, nil, &k); err != nil {
		return nil, err
	}
	return &k, nil
}
