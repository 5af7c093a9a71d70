package service

import (
	"context"

	"github.com/keyhub/keyhub"
)

// SigningKeys rotates the keys that sign access tokens; *oauth.Keys
// implements it.
type SigningKeys interface {
	Rotate(ctx context.Context) (*keyhub.SigningKey, error)
}

// WithSigningKeys enables rotation of signing keys through the API.
func WithSigningKeys(k SigningKeys) Option { return func(s *Service) { s.signing = k } }

// RotateSigningKey makes a new key current. The previous one stays in the
// JWKS until every token it signed has expired. Operators only.
func (s *Service) RotateSigningKey(ctx context.Context, c *Caller) (*keyhub.SigningKey, error) {
	if err := require(c, keyhub.ScopeManageTenants, "rotating the signing key"); err != nil {
		return nil, err
	}
	if s.signing == nil {
		return nil, keyhub.CodedErrorf(keyhub.KindUnavailable, "unavailable", "token signing is not configured")
	}
	k, err := s.signing.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	// The rotation itself committed inside Rotate; the audit entry follows
	// in its own transaction.
	err = s.store.Update(ctx, func(tx keyhub.Tx) error {
		return s.audit(ctx, tx, c, "", "signing_key.rotated", "signing_key", k.ID,
			snapshot(map[string]string{"kid": k.ID, "alg": k.Algorithm}), now)
	})
	return k, err
}
