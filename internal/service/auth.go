package service

import (
	"context"
	"net/netip"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/verify"
)

// errInvalidToken is the one answer for every unusable credential, so that a
// caller learns nothing about which keys exist.
func errInvalidToken() error {
	return keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "the credential is invalid, revoked, disabled or expired")
}

// Authenticate resolves a bearer credential, used from ip, into a
// Principal: an API key (active and, if it has an allow-list, used from an
// allowed address), one of keyhub's access tokens for the management
// audience, or a trusted external provider's JWT.
func (s *Service) Authenticate(ctx context.Context, token string, ip netip.Addr) (*keyhub.Principal, error) {
	if looksLikeJWT(token) {
		return s.authenticateJWT(ctx, token)
	}
	rec, code, err := s.ver.Lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	if code != verify.Valid {
		return nil, errInvalidToken()
	}
	code, _ = rec.Check(s.Now(), ip, nil)
	switch code {
	case verify.Valid:
	case verify.ForbiddenIP:
		return nil, keyhub.CodedErrorf(keyhub.KindForbidden, "forbidden_ip", "the credential may not be used from this address")
	default:
		return nil, errInvalidToken()
	}
	s.ver.RecordUse(rec)
	return rec.Principal, nil
}

// VerifyRequest is the input of VerifyKey.
type VerifyRequest struct {
	Key    string   `json:"key"`
	Scopes []string `json:"scopes"`
	IP     string   `json:"ip"`
	// Cost is how many credits a valid use spends; 1 when absent.
	Cost *int64 `json:"cost"`
}

// VerifyKey answers a verification request for a caller holding
// verify:api_keys. A tenant's caller verifies only its own tenant's keys; an
// operator those of the tenant it names, or of any tenant.
func (s *Service) VerifyKey(ctx context.Context, c *Caller, in VerifyRequest) (verify.Result, error) {
	if err := require(c, keyhub.ScopeVerifyAPIKeys, "verifying API keys"); err != nil {
		return verify.Result{}, err
	}
	var v keyhub.Validation
	if in.Key == "" {
		v.Add("key", "is required")
	}
	for i, sc := range in.Scopes {
		if err := keyhub.ValidateScope(sc); err != nil {
			v.Add("scopes["+itoa(i)+"]", "%v", err)
		}
	}
	var ip netip.Addr
	if in.IP != "" {
		var err error
		if ip, err = netip.ParseAddr(in.IP); err != nil || ip.Zone() != "" {
			v.Add("ip", "is not a valid IP address")
		}
	}
	cost := int64(1)
	if in.Cost != nil {
		cost = *in.Cost
		if cost < 0 || cost > maxCredits {
			v.Add("cost", "must be from 0 to %d", int64(maxCredits))
		}
	}
	if err := v.Err(); err != nil {
		return verify.Result{}, err
	}
	return s.ver.Verify(ctx, verify.Request{Key: in.Key, Scopes: in.Scopes, IP: ip, TenantID: c.TenantID, Cost: cost})
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
		now := s.Now()
		key = secret.NewKey("kh_op")
		h := secret.Hash(key)
		k := &keyhub.APIKey{
			ID: keyhub.NewID(keyhub.PrefixAPIKey, now), Name: "bootstrap operator key", Environment: "operator",
			Start: secret.Start(key), Hash: h[:], Scopes: []string{"*"}, Meta: []byte(`{}`), Enabled: true,
			Creator: keyhub.Actor{Type: "system", ID: "bootstrap"}, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		c := &Caller{Principal: &keyhub.Principal{Actor: k.Creator}}
		return s.audit(ctx, tx, c, "", "operator_key.created", "api_key", k.ID, snapshot(k), now)
	})
	return key, err
}
