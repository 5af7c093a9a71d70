package service

import (
	"context"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// Token lifetimes a client may be given.
const (
	DefaultTokenTTL = 24 * time.Hour // the YAXI example's expires_in 86400
	MinTokenTTL     = time.Minute
	MaxTokenTTL     = 7 * 24 * time.Hour
	maxAudiences    = 20
	maxAudienceLen  = 200
)

// ClientCreate is the input of CreateClient.
type ClientCreate struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Audiences []string `json:"audiences"`
	TokenTTL  string   `json:"token_ttl"`
	Enabled   *bool    `json:"enabled"`
}

// ClientPatch is the input of UpdateClient.
type ClientPatch struct {
	Name      Opt[string]   `json:"name"`
	Scopes    Opt[[]string] `json:"scopes"`
	Audiences Opt[[]string] `json:"audiences"`
	TokenTTL  Opt[string]   `json:"token_ttl"`
	Enabled   Opt[*bool]    `json:"enabled"`
}

// SecretRotation is the input of RotateClientSecret.
type SecretRotation struct {
	// GracePeriod is how long the old secret keeps working, tokens issued
	// until the rotation keeping theirs until they expire; absent or "0s":
	// the old secret and every token issued before stop at once.
	GracePeriod string `json:"grace_period"`
}

func validAudiences(v *keyhub.Validation, field string, in []string) []string {
	if len(in) > maxAudiences {
		v.Add(field, "at most %d audiences", maxAudiences)
		return nil
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for i, a := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case a == "":
			v.Add(f, "must not be empty")
		case len(a) > maxAudienceLen:
			v.Add(f, "must be at most %d characters", maxAudienceLen)
		case keyhub.CheckText(a) != nil:
			v.Add(f, "%v", keyhub.CheckText(a))
		case seen[a]:
		default:
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func validTTL(v *keyhub.Validation, field, s string) time.Duration {
	if s == "" {
		return DefaultTokenTTL
	}
	d, err := keyhub.ParseDuration(s)
	if err != nil {
		v.Add(field, "%v", err)
		return 0
	}
	if d < MinTokenTTL || d > MaxTokenTTL {
		v.Add(field, "must be from 1m to 7d")
	}
	return d
}

// clientTenant is the tenant a client call acts on: the caller's, or for an
// operator naming no tenant, none (operator clients).
func (s *Service) clientTenant(ctx context.Context, tx keyhub.Tx, c *keyhub.Caller) (string, error) {
	if c.TenantID == "" && c.Principal.Operator {
		return "", nil
	}
	t, err := s.tenantOf(ctx, tx, c)
	if err != nil {
		return "", err
	}
	return t.ID, nil
}

// CreateClient creates an OAuth client and returns it with its secret, shown
// only this once. A client may hold only scopes its creator's cover.
func (s *Service) CreateClient(ctx context.Context, c *keyhub.Caller, in ClientCreate) (*keyhub.Client, string, error) {
	if err := c.Require(keyhub.ScopeManageClients, "creating an OAuth client"); err != nil {
		return nil, "", err
	}
	var v keyhub.Validation
	name := validName(&v, "name", in.Name)
	scopes := keyhub.NormalizeScopes(&v, "scopes", in.Scopes)
	auds := validAudiences(&v, "audiences", in.Audiences)
	ttl := validTTL(&v, "token_ttl", in.TokenTTL)
	if len(auds) == 0 && len(in.Audiences) == 0 {
		auds = []string{s.audience}
	}
	now := s.Now()
	var cl *keyhub.Client
	var sec string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		tenantID, err := s.clientTenant(ctx, tx, c)
		if err != nil {
			return err
		}
		if err := checkCatalogue(ctx, tx, &v, "scopes", scopes); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		sec = secret.NewClientSecret()
		h := secret.Hash(sec)
		cl = &keyhub.Client{
			ID: keyhub.NewID(keyhub.PrefixClient, now), TenantID: tenantID, Name: name, SecretHash: h[:],
			Scopes: scopes, Audiences: auds, TokenTTL: keyhub.Duration(ttl), Enabled: in.Enabled == nil || *in.Enabled,
			Creator: c.Principal.Actor, CreatedAt: now, UpdatedAt: now,
		}
		cl.Normalize()
		if err := tx.CreateClient(ctx, cl); err != nil {
			return err
		}
		return s.record(ctx, tx, c, tenantID, change{action: "client.created", after: cl}, now)
	})
	if err != nil {
		return nil, "", err
	}
	return cl, sec, nil
}

func getClient(ctx context.Context, tx keyhub.Tx, tenantID, id string) (*keyhub.Client, error) {
	return lookup("client", keyhub.PrefixClient, id, func() (*keyhub.Client, error) { return tx.GetClient(ctx, tenantID, id) })
}

// GetClient reads a client of the caller's tenant.
func (s *Service) GetClient(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Client, error) {
	if err := c.Require(keyhub.ScopeReadClients, "reading OAuth clients"); err != nil {
		return nil, err
	}
	var cl *keyhub.Client
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		tenantID, err := s.clientTenant(ctx, tx, c)
		if err != nil {
			return err
		}
		cl, err = getClient(ctx, tx, tenantID, id)
		return err
	})
	return cl, err
}

// ListClients lists one page of the caller's tenant's clients.
func (s *Service) ListClients(ctx context.Context, c *keyhub.Caller, req PageRequest) (Page[*keyhub.Client], error) {
	if err := c.Require(keyhub.ScopeReadClients, "listing OAuth clients"); err != nil {
		return Page[*keyhub.Client]{}, err
	}
	var out Page[*keyhub.Client]
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		tenantID, err := s.clientTenant(ctx, tx, c)
		if err != nil {
			return err
		}
		out, err = paged(req, keyhub.PrefixClient, func(cl *keyhub.Client) string { return cl.ID },
			func(p keyhub.Page) ([]*keyhub.Client, error) { return tx.ListClients(ctx, tenantID, p) })
		return err
	})
	return out, err
}

// UpdateClient changes a client. Its tokens follow at once: a token's
// scopes are its claims intersected with the client's current scopes, and a
// token for an audience the client no longer has is refused.
func (s *Service) UpdateClient(ctx context.Context, c *keyhub.Caller, id string, in ClientPatch) (*keyhub.Client, error) {
	if err := c.Require(keyhub.ScopeManageClients, "updating an OAuth client"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	var name string
	var scopes, auds []string
	var ttl time.Duration
	if in.Name.Set {
		name = validName(&v, "name", in.Name.Value)
	}
	if in.Scopes.Set {
		scopes = keyhub.NormalizeScopes(&v, "scopes", in.Scopes.Value)
	}
	if in.Audiences.Set {
		if auds = validAudiences(&v, "audiences", in.Audiences.Value); len(in.Audiences.Value) == 0 {
			v.Add("audiences", "must name at least one audience")
		}
	}
	if in.TokenTTL.Set {
		if ttl = validTTL(&v, "token_ttl", in.TokenTTL.Value); in.TokenTTL.Value == "" {
			v.Add("token_ttl", "must be a duration such as 24h")
		}
	}
	if in.Enabled.Set && in.Enabled.Value == nil {
		v.Add("enabled", "must be true or false")
	}
	var out *keyhub.Client
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		tenantID, err := s.clientTenant(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getClient(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if in.Scopes.Set {
			if err := checkCatalogue(ctx, tx, &v, "scopes", scopes); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		cl := *before
		if in.Name.Set {
			cl.Name = name
		}
		if in.Scopes.Set {
			cl.Scopes = scopes
		}
		if in.Audiences.Set {
			cl.Audiences = auds
		}
		if in.TokenTTL.Set {
			cl.TokenTTL = keyhub.Duration(ttl)
		}
		if in.Enabled.Set {
			cl.Enabled = *in.Enabled.Value
		}
		now := s.Now()
		cl.UpdatedAt = now
		cl.Normalize()
		if err := tx.UpdateClient(ctx, &cl); err != nil {
			return err
		}
		out = &cl
		return s.record(ctx, tx, c, tenantID, change{action: "client.updated", before: before, after: &cl}, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteClient deletes a client; its tokens stop working at once.
// Deleting only takes power away, so manage:clients suffices.
func (s *Service) DeleteClient(ctx context.Context, c *keyhub.Caller, id string) error {
	if err := c.Require(keyhub.ScopeManageClients, "deleting an OAuth client"); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		tenantID, err := s.clientTenant(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getClient(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteClient(ctx, tenantID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, c, tenantID, change{action: "client.deleted", before: before}, s.Now())
	})
}

// RotateClientSecret gives a client a new secret, shown once: whoever calls
// it gets the client's powers, so the coverage rule applies. With a grace
// period the old secret keeps working that long; without one, the old
// secret and every token issued before stop at once.
func (s *Service) RotateClientSecret(ctx context.Context, c *keyhub.Caller, id string, in SecretRotation) (*keyhub.Client, string, error) {
	if err := c.Require(keyhub.ScopeManageClients, "rotating a client secret"); err != nil {
		return nil, "", err
	}
	var v keyhub.Validation
	grace := validGrace(&v, "grace_period", in.GracePeriod)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	var out *keyhub.Client
	var sec string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		tenantID, err := s.clientTenant(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getClient(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		now := s.Now()
		sec = secret.NewClientSecret()
		h := secret.Hash(sec)
		cl := *before
		cl.SecretHash = h[:]
		cl.PreviousSecretHash, cl.PreviousSecretExpiresAt = nil, nil
		if grace > 0 {
			end := now.Add(grace)
			cl.PreviousSecretHash, cl.PreviousSecretExpiresAt = before.SecretHash, &end
		} else {
			// Tokens issued before now carry an earlier epoch and die.
			cl.TokenEpoch++
		}
		cl.UpdatedAt = now
		if err := tx.UpdateClient(ctx, &cl); err != nil {
			return err
		}
		out = &cl
		return s.record(ctx, tx, c, tenantID, change{action: "client.secret_rotated", before: before, after: &cl}, now)
	})
	if err != nil {
		return nil, "", err
	}
	return out, sec, nil
}
