package service

import (
	"context"
	"encoding/json"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
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
func (s *Service) RotateSigningKey(ctx context.Context, c *keyhub.Caller) (*keyhub.SigningKey, error) {
	if err := c.Require(keyhub.ScopeManageTenants, "rotating the signing key"); err != nil {
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
	d, _ := json.Marshal(map[string]map[string]string{"kid": {"to": k.ID}, "alg": {"to": k.Algorithm}})
	err = s.store.Update(ctx, func(tx keyhub.Tx) error {
		return s.audit(ctx, tx, c, "", "signing_key.rotated", "signing_key", k.ID, d, now)
	})
	return k, err
}

// BootstrapOperator creates the first operator key when the store has none
// and returns it; it returns "" when an operator key exists. Creating and
// checking happen in one transaction, so two nodes starting at once cannot
// both create one.
func (s *Service) BootstrapOperator(ctx context.Context) (string, error) {
	var key string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		n, err := tx.CountOperatorKeys(ctx)
		if err != nil || n > 0 {
			return err
		}
		_, key, err = s.createOperatorKey(ctx, tx, "bootstrap operator key", keyhub.Actor{Type: "system", ID: "bootstrap"})
		return err
	})
	return key, err
}

// OperatorKeyCreator is the actor of the audit events of operator keys
// minted offline.
var OperatorKeyCreator = keyhub.Actor{Type: "system", ID: "operator-key-create"}

// CreateOperatorKey mints another operator key, for an operator who lost
// theirs. It has no caller to authorize: `keyhub operator-key create` calls
// it with the store in hand, and access to the database is the authority.
// The audit log records it as done by OperatorKeyCreator. It returns the
// key and its secret, which is shown only this once.
func (s *Service) CreateOperatorKey(ctx context.Context, name string) (*keyhub.APIKey, string, error) {
	var v keyhub.Validation
	name = validName(&v, "name", name)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	var (
		k   *keyhub.APIKey
		key string
	)
	err := s.store.Update(ctx, func(tx keyhub.Tx) (err error) {
		k, key, err = s.createOperatorKey(ctx, tx, name, OperatorKeyCreator)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return k, key, nil
}

// createOperatorKey makes an operator key holding every scope, on behalf of
// the system (not of a caller: there is none yet, or it lost its key).
func (s *Service) createOperatorKey(ctx context.Context, tx keyhub.Tx, name string, by keyhub.Actor) (*keyhub.APIKey, string, error) {
	now := s.Now()
	key := secret.NewKey("kh_op")
	h := secret.Hash(key)
	k := &keyhub.APIKey{
		ID: keyhub.NewID(keyhub.PrefixAPIKey, now), Name: name, Environment: "operator",
		Start: secret.Start(key), Hash: h[:], Scopes: []string{"*"}, Enabled: true,
		Creator: by, CreatedAt: now, UpdatedAt: now,
	}
	k.Normalize()
	if err := tx.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	system := &keyhub.Caller{Principal: &keyhub.Principal{Actor: by, Scopes: []string{"*"}, Operator: true}}
	return k, key, s.record(ctx, tx, system, "", change{action: "operator_key.created", after: k}, now)
}
