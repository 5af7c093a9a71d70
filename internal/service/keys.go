package service

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// MaxMetaSize bounds a key's meta object (DESIGN.md §2).
const MaxMetaSize = 8 << 10

// KeyCreate is the input of CreateKey.
type KeyCreate struct {
	Name        string          `json:"name"`
	Environment string          `json:"environment"`
	Scopes      []string        `json:"scopes"`
	RoleID      string          `json:"role_id"`
	IPs         []string        `json:"ips"`
	ExpiresAt   *Time           `json:"expires_at"`
	Meta        json.RawMessage `json:"meta"`
	Enabled     *bool           `json:"enabled"`
	RateLimit   *RateLimitInput `json:"ratelimit"`
	Credits     *CreditsInput   `json:"credits"`
}

// KeyPatch is the input of UpdateKey; absent fields are kept, null clears
// role_id and expires_at.
type KeyPatch struct {
	Name      Opt[string]          `json:"name"`
	Scopes    Opt[[]string]        `json:"scopes"`
	RoleID    Opt[string]          `json:"role_id"`
	IPs       Opt[[]string]        `json:"ips"`
	ExpiresAt Opt[*Time]           `json:"expires_at"`
	Meta      Opt[json.RawMessage] `json:"meta"`
	Enabled   Opt[*bool]           `json:"enabled"`
	RateLimit Opt[*RateLimitInput] `json:"ratelimit"`
	Credits   Opt[*CreditsPatch]   `json:"credits"`
}

// validMeta checks that meta is a JSON object of at most MaxMetaSize bytes
// and returns it compacted; absent or null meta is the empty object.
func validMeta(v *keyhub.Validation, field string, meta json.RawMessage) json.RawMessage {
	if len(meta) == 0 || string(meta) == "null" {
		return json.RawMessage(`{}`)
	}
	if len(meta) > MaxMetaSize {
		v.Add(field, "must be at most %d bytes", MaxMetaSize)
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, meta); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
		v.Add(field, "must be a JSON object")
		return nil
	}
	return buf.Bytes()
}

// defaultEnvironment picks "live" when the tenant has it, else the first
// environment by name, so a key can be created without naming one.
func defaultEnvironment(t *keyhub.Tenant) string {
	if _, ok := t.KeyPrefixes["live"]; ok {
		return "live"
	}
	envs := make([]string, 0, len(t.KeyPrefixes))
	for e := range t.KeyPrefixes {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	if len(envs) == 0 {
		return ""
	}
	return envs[0]
}

// grantable checks the no-escalation rule for scopes the caller would grant.
func grantable(c *Caller, scopes []string, what string) error {
	if s, ok := c.Principal.CanGrant(scopes); !ok {
		return keyhub.ErrInsufficientScope(s, what)
	}
	return nil
}

// roleFor loads the role a key is to join and checks the caller may grant
// its scopes.
func roleFor(ctx context.Context, tx keyhub.Tx, c *Caller, v *keyhub.Validation, tenantID, roleID string) (*keyhub.Role, error) {
	if roleID == "" {
		return nil, nil
	}
	if !keyhub.ValidID(keyhub.PrefixRole, roleID) {
		v.Add("role_id", "is not a role id")
		return nil, nil
	}
	r, err := tx.GetRole(ctx, tenantID, roleID)
	if keyhub.IsKind(err, keyhub.KindNotFound) {
		v.Add("role_id", "role %q not found", roleID)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r, grantable(c, r.Scopes, "assigning role "+roleID)
}

// CreateKey issues a new key and returns it with its secret, which is never
// available again.
func (s *Service) CreateKey(ctx context.Context, c *Caller, in KeyCreate) (*keyhub.APIKey, string, error) {
	if err := require(c, keyhub.ScopeCreateAPIKeys, "creating an API key"); err != nil {
		return nil, "", err
	}
	now := s.Now()
	var v keyhub.Validation
	name := validName(&v, "name", in.Name)
	scopes := keyhub.NormalizeScopes(&v, "scopes", in.Scopes)
	ips := keyhub.NormalizeIPs(&v, "ips", in.IPs)
	meta := validMeta(&v, "meta", in.Meta)
	expires := checkTime(&v, "expires_at", in.ExpiresAt, now)
	rl := validRateLimit(&v, "ratelimit", in.RateLimit)
	credits := validCredits(&v, "credits", in.Credits, now)
	var k *keyhub.APIKey
	var key string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		env := in.Environment
		if env == "" {
			env = defaultEnvironment(t)
		}
		prefix, ok := t.KeyPrefixes[env]
		if !ok {
			v.Add("environment", "unknown environment %q; the tenant has %s", env, envList(t))
		}
		if err := checkCatalogue(ctx, tx, &v, "scopes", scopes); err != nil {
			return err
		}
		role, err := roleFor(ctx, tx, c, &v, t.ID, in.RoleID)
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := grantable(c, scopes, "granting a scope"); err != nil {
			return err
		}
		key = secret.NewKey(prefix)
		h := secret.Hash(key)
		k = &keyhub.APIKey{
			ID: keyhub.NewID(keyhub.PrefixAPIKey, now), TenantID: t.ID, Name: name, Environment: env,
			Start: secret.Start(key), Hash: h[:], Scopes: scopes, IPs: ips, Meta: meta,
			Enabled: in.Enabled == nil || *in.Enabled, ExpiresAt: expires,
			RateLimit: rl, Credits: credits, Creator: c.Principal.Actor, CreatedAt: now, UpdatedAt: now,
		}
		if role != nil {
			k.RoleID = role.ID
		}
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, t.ID, "api_key.created", "api_key", k.ID, snapshot(k), now)
	})
	if err != nil {
		return nil, "", err
	}
	// A digest cannot be cached as unknown before its key exists, short of
	// a guessed secret; dropping it anyway keeps the rule simple.
	s.inval.InvalidateKey(k.Hash)
	return k, key, nil
}

func envList(t *keyhub.Tenant) string {
	envs := make([]string, 0, len(t.KeyPrefixes))
	for e := range t.KeyPrefixes {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	b, _ := json.Marshal(envs)
	return string(b)
}

// GetKey reads one key of the caller's tenant.
func (s *Service) GetKey(ctx context.Context, c *Caller, id string) (*keyhub.APIKey, error) {
	if err := require(c, keyhub.ScopeReadAPIKeys, "reading API keys"); err != nil {
		return nil, err
	}
	var k *keyhub.APIKey
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		k, err = getKey(ctx, tx, t.ID, id)
		return err
	})
	return k, err
}

func getKey(ctx context.Context, tx keyhub.Tx, tenantID, id string) (*keyhub.APIKey, error) {
	return lookup("api key", keyhub.PrefixAPIKey, id, func() (*keyhub.APIKey, error) { return tx.GetAPIKey(ctx, tenantID, id) })
}

// ListKeys lists the caller's tenant's keys.
func (s *Service) ListKeys(ctx context.Context, c *Caller, f keyhub.APIKeyFilter) ([]*keyhub.APIKey, error) {
	if err := require(c, keyhub.ScopeReadAPIKeys, "listing API keys"); err != nil {
		return nil, err
	}
	f.Now = s.Now()
	var out []*keyhub.APIKey
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		out, err = tx.ListAPIKeys(ctx, t.ID, f)
		return err
	})
	return out, err
}

// UpdateKey changes a key. A revoked key cannot change. Granting scopes,
// joining a role or re-enabling a key are grants, held to no-escalation.
func (s *Service) UpdateKey(ctx context.Context, c *Caller, id string, in KeyPatch) (*keyhub.APIKey, error) {
	if err := require(c, keyhub.ScopeUpdateAPIKeys, "updating an API key"); err != nil {
		return nil, err
	}
	now := s.Now()
	var v keyhub.Validation
	var name string
	var scopes, ips []string
	var meta json.RawMessage
	if in.Name.Set {
		name = validName(&v, "name", in.Name.Value)
	}
	if in.Scopes.Set {
		scopes = keyhub.NormalizeScopes(&v, "scopes", in.Scopes.Value)
	}
	if in.IPs.Set {
		ips = keyhub.NormalizeIPs(&v, "ips", in.IPs.Value)
	}
	if in.Meta.Set {
		meta = validMeta(&v, "meta", in.Meta.Value)
	}
	expires := checkTime(&v, "expires_at", in.ExpiresAt.Value, now)
	if in.Enabled.Set && in.Enabled.Value == nil {
		v.Add("enabled", "must be true or false")
	}
	var rl *keyhub.RateLimit
	if in.RateLimit.Set {
		rl = validRateLimit(&v, "ratelimit", in.RateLimit.Value)
	}
	var out *keyhub.APIKey
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getKey(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		if in.Scopes.Set {
			if err := checkCatalogue(ctx, tx, &v, "scopes", scopes); err != nil {
				return err
			}
		}
		var role *keyhub.Role
		if in.RoleID.Set && in.RoleID.Value != before.RoleID {
			if role, err = roleFor(ctx, tx, c, &v, t.ID, in.RoleID.Value); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if before.RevokedAt != nil {
			return keyhub.CodedErrorf(keyhub.KindConflict, "key_revoked", "api key %q is revoked and cannot be changed", id)
		}
		k := *before
		if in.Name.Set {
			k.Name = name
		}
		if in.Scopes.Set {
			added := slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return slices.Contains(before.Scopes, s) })
			if err := grantable(c, added, "granting a scope"); err != nil {
				return err
			}
			k.Scopes = scopes
		}
		if in.RoleID.Set {
			k.RoleID = ""
			if role != nil {
				k.RoleID = role.ID
			}
		}
		if in.IPs.Set {
			k.IPs = ips
		}
		if in.Meta.Set {
			k.Meta = meta
		}
		if in.ExpiresAt.Set {
			k.ExpiresAt = expires
		}
		if in.RateLimit.Set {
			k.RateLimit = rl
		}
		var add int64
		if in.Credits.Set {
			k.Credits = nil
			if in.Credits.Value != nil {
				k.Credits, add = patchCredits(&v, "credits", before.Credits, in.Credits.Value, now)
			}
			if err := v.Err(); err != nil {
				return err
			}
		}
		if in.Enabled.Set {
			k.Enabled = *in.Enabled.Value
			if k.Enabled && !before.Enabled {
				if err := s.canGrantKey(ctx, tx, c, &k); err != nil {
					return err
				}
			}
		}
		k.UpdatedAt = now
		if err := tx.UpdateAPIKey(ctx, &k); err != nil {
			return err
		}
		if add != 0 {
			n, err := tx.AddCredits(ctx, t.ID, k.ID, add)
			if keyhub.IsKind(err, keyhub.KindInvalid) {
				v.Add("credits.add", "would take the balance below zero")
				return v.Err()
			}
			if err != nil {
				return err
			}
			cr := *k.Credits
			cr.Remaining = n
			k.Credits = &cr
		}
		out = &k
		return s.audit(ctx, tx, c, t.ID, "api_key.updated", "api_key", k.ID, diff(before, &k), now)
	})
	if err != nil {
		return nil, err
	}
	s.inval.InvalidateKey(out.Hash)
	return out, nil
}

// canGrantKey checks that the caller could grant everything the key holds.
func (s *Service) canGrantKey(ctx context.Context, tx keyhub.Tx, c *Caller, k *keyhub.APIKey) error {
	if err := grantable(c, k.Scopes, "enabling a key with a scope"); err != nil {
		return err
	}
	if k.RoleID == "" {
		return nil
	}
	r, err := tx.GetRole(ctx, k.TenantID, k.RoleID)
	if err != nil {
		return err
	}
	return grantable(c, r.Scopes, "enabling a key with a scope")
}

// RevokeKey revokes a key. Revoking a revoked key changes nothing and
// answers the key as it is, so retries are safe.
func (s *Service) RevokeKey(ctx context.Context, c *Caller, id string) (*keyhub.APIKey, error) {
	if err := require(c, keyhub.ScopeDeleteAPIKeys, "revoking an API key"); err != nil {
		return nil, err
	}
	var out *keyhub.APIKey
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getKey(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		if before.RevokedAt != nil {
			out = before
			return nil
		}
		now := s.Now()
		k := *before
		k.RevokedAt = &now
		k.UpdatedAt = now
		if err := tx.UpdateAPIKey(ctx, &k); err != nil {
			return err
		}
		out = &k
		return s.audit(ctx, tx, c, t.ID, "api_key.revoked", "api_key", k.ID, diff(before, &k), now)
	})
	if err != nil {
		return nil, err
	}
	s.inval.InvalidateKey(out.Hash)
	return out, nil
}

// RevokeKeyBySecret revokes the key given by its secret, as
// `keyhub auth api-key revoke <key>` does. The key must belong to the
// caller's tenant; any other answers not found, as an unknown key does.
func (s *Service) RevokeKeyBySecret(ctx context.Context, c *Caller, key string) (*keyhub.APIKey, error) {
	if err := require(c, keyhub.ScopeDeleteAPIKeys, "revoking an API key"); err != nil {
		return nil, err
	}
	if _, err := secret.Parse(key); err != nil {
		var v keyhub.Validation
		v.Add("key", "is not a well-formed API key")
		return nil, v.Err()
	}
	h := secret.Hash(key)
	var id string
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		k, err := tx.GetAPIKeyByHash(ctx, h[:])
		if keyhub.IsKind(err, keyhub.KindNotFound) || err == nil && (k.TenantID != t.ID || !secret.Equal(k.Hash, h[:])) {
			return keyhub.CodedErrorf(keyhub.KindNotFound, "not_found", "api key not found")
		}
		if err != nil {
			return err
		}
		id = k.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.RevokeKey(ctx, c, id)
}
