package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// MaxMetaSize bounds a key's meta object (DESIGN.md §2).
const MaxMetaSize = 8 << 10

// KeyCreate is the input of CreateKey.
type KeyCreate struct {
	// Kind is "bearer" (the default) or "signing".
	Kind        string          `json:"kind"`
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

// KeyQuery selects keys to list: filters, an optional sort and a page.
type KeyQuery struct {
	PageRequest
	Environment  string
	State        string
	RoleID       string
	NamePrefix   string
	NameContains string
	NotRevoked   bool
	// Sort orders by other fields than the id; such lists page by Offset.
	Sort []keyhub.KeySort
}

// validMeta checks that meta is a JSON object of at most MaxMetaSize bytes
// that every store holds alike, and returns it compacted; absent or null
// meta is the empty object.
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
	if err := keyhub.CheckJSONText(buf.Bytes()); err != nil {
		v.Add(field, "%v", err)
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
	envs := envNames(t)
	if len(envs) == 0 {
		return ""
	}
	return envs[0]
}

func envNames(t *keyhub.Tenant) []string {
	envs := make([]string, 0, len(t.KeyPrefixes))
	for e := range t.KeyPrefixes {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	return envs
}

// roleFor checks that the role a key is to join exists in the tenant.
func roleFor(ctx context.Context, tx keyhub.Tx, v *keyhub.Validation, tenantID, roleID string) (string, error) {
	if roleID == "" {
		return "", nil
	}
	if !keyhub.ValidID(keyhub.PrefixRole, roleID) {
		v.Add("role_id", "is not a role id")
		return "", nil
	}
	_, err := tx.GetRole(ctx, tenantID, roleID)
	if keyhub.IsKind(err, keyhub.KindNotFound) {
		v.Add("role_id", "role %q not found", roleID)
		return "", nil
	}
	return roleID, err
}

// CreateKey issues a new key and returns it with its secret, which is never
// available again. The caller's scopes must cover everything the key holds.
func (s *Service) CreateKey(ctx context.Context, c *keyhub.Caller, in KeyCreate) (*keyhub.APIKey, string, error) {
	if err := c.Require(keyhub.ScopeCreateAPIKeys, "creating an API key"); err != nil {
		return nil, "", err
	}
	now := s.Now()
	var v keyhub.Validation
	kind := keyKind(&v, "kind", in.Kind)
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
		t, err := s.sharedTenantOf(ctx, tx, c)
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
		roleID, err := roleFor(ctx, tx, &v, t.ID, in.RoleID)
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		id := keyhub.NewID(keyhub.PrefixAPIKey, now)
		sec, err := s.newKeySecret(kind, prefix, id)
		if err != nil {
			return err
		}
		key = sec.shown
		k = &keyhub.APIKey{
			ID: id, TenantID: t.ID, Kind: kind, Name: name, Environment: env,
			Start: sec.start, Hash: sec.hash, SealedSecret: sec.sealed, Scopes: scopes, RoleID: roleID, IPs: ips, Meta: meta,
			Enabled: in.Enabled == nil || *in.Enabled, ExpiresAt: expires,
			RateLimit: rl, Credits: credits, Creator: c.Principal.Actor, CreatedAt: now, UpdatedAt: now,
		}
		k.Normalize()
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "api_key.created", after: k}, now)
	})
	if err != nil {
		return nil, "", err
	}
	return k, key, nil
}

func envList(t *keyhub.Tenant) string {
	b, _ := json.Marshal(envNames(t))
	return string(b)
}

// GetKey reads one key of the caller's tenant.
func (s *Service) GetKey(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.APIKey, error) {
	if err := c.Require(keyhub.ScopeReadAPIKeys, "reading API keys"); err != nil {
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

// ListKeys lists one page of the caller's tenant's keys.
func (s *Service) ListKeys(ctx context.Context, c *keyhub.Caller, q KeyQuery) (Page[*keyhub.APIKey], error) {
	if err := c.Require(keyhub.ScopeReadAPIKeys, "listing API keys"); err != nil {
		return Page[*keyhub.APIKey]{}, err
	}
	f := keyhub.APIKeyFilter{Environment: q.Environment, RoleID: q.RoleID, NamePrefix: q.NamePrefix,
		NameContains: q.NameContains, NotRevoked: q.NotRevoked, Sort: q.Sort, Now: s.Now()}
	var bad []keyhub.FieldError
	if q.State != "" {
		if !keyhub.ValidKeyState(q.State) {
			bad = append(bad, keyhub.FieldError{Field: "state", Message: "must be one of active, disabled, revoked, expired"})
		}
		f.State = keyhub.KeyState(q.State)
	}
	if q.RoleID != "" && !keyhub.ValidID(keyhub.PrefixRole, q.RoleID) {
		bad = append(bad, keyhub.FieldError{Field: "role_id", Message: "is not a role id"})
	}
	if len(q.Sort) > 0 && q.Cursor != "" {
		bad = append(bad, keyhub.FieldError{Field: "cursor", Message: "a sorted list pages by offset, not by cursor"})
	}
	if len(bad) > 0 {
		return Page[*keyhub.APIKey]{}, &keyhub.Error{Kind: keyhub.KindBadRequest, Code: "invalid_query", Message: "invalid query parameters", Fields: bad}
	}
	var out Page[*keyhub.APIKey]
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		out, err = paged(q.PageRequest, keyhub.PrefixAPIKey, func(k *keyhub.APIKey) string { return k.ID },
			func(p keyhub.Page) ([]*keyhub.APIKey, error) {
				f.Page = p
				return tx.ListAPIKeys(ctx, t.ID, f)
			})
		return err
	})
	return out, err
}

// UpdateKey changes a key. A revoked key cannot change, nor can a rotated
// one outlive its grace period. Every change but disabling is held to the
// coverage rule: the caller's scopes must cover what the key holds before
// and after.
func (s *Service) UpdateKey(ctx context.Context, c *keyhub.Caller, id string, in KeyPatch) (*keyhub.APIKey, error) {
	if err := c.Require(keyhub.ScopeUpdateAPIKeys, "updating an API key"); err != nil {
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
		k := *before
		if in.RoleID.Set && in.RoleID.Value != before.RoleID {
			if k.RoleID, err = roleFor(ctx, tx, &v, t.ID, in.RoleID.Value); err != nil {
				return err
			}
		}
		var add int64
		if in.Credits.Set {
			k.Credits = nil
			if in.Credits.Value != nil {
				k.Credits, add = patchCredits(&v, "credits", before.Credits, in.Credits.Value, now)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if before.RevokedAt != nil {
			return keyhub.CodedErrorf(keyhub.KindConflict, "key_revoked", "api key %q is revoked and cannot be changed", id)
		}
		if in.ExpiresAt.Set && before.ReplacedBy != "" && (expires == nil || before.ExpiresAt != nil && expires.After(*before.ExpiresAt)) {
			return keyhub.CodedErrorf(keyhub.KindConflict, "key_rotated",
				"api key %q was rotated to %q: its expiry can be brought forward, never moved later or cleared", id, before.ReplacedBy)
		}
		if in.Name.Set {
			k.Name = name
		}
		if in.Scopes.Set {
			k.Scopes = scopes
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
		if in.Enabled.Set {
			k.Enabled = *in.Enabled.Value
		}
		k.UpdatedAt = now
		k.Normalize()
		if err := tx.UpdateAPIKey(ctx, &k); err != nil {
			return err
		}
		if add != 0 {
			n, err := tx.AddCredits(ctx, t.ID, k.ID, add)
			switch {
			case errors.Is(err, keyhub.ErrBelowZero):
				v.Add("credits.add", "would take the balance below zero")
				return v.Err()
			case errors.Is(err, keyhub.ErrOutOfRange):
				v.Add("credits.add", "would take the balance out of range")
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
		return s.record(ctx, tx, c, t.ID, change{action: "api_key.updated", before: before, after: &k}, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeKey revokes a key. Revoking only takes power away, so it needs
// delete:api_keys and nothing more. Revoking a revoked key changes nothing
// and answers the key as it is, so retries are safe.
func (s *Service) RevokeKey(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.APIKey, error) {
	return s.revokeKey(ctx, c, id, false)
}

// DeleteKey revokes a key as surfaces that delete keys see it (YAXI): a
// revoked key is gone, so revoking it again answers not found, exactly as
// reading it does there. The record stays, for audit, as RevokeKey's does.
// The check and the revocation are one transaction, so of two concurrent
// deletes one answers the key and the other not found.
func (s *Service) DeleteKey(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.APIKey, error) {
	return s.revokeKey(ctx, c, id, true)
}

func (s *Service) revokeKey(ctx context.Context, c *keyhub.Caller, id string, gone bool) (*keyhub.APIKey, error) {
	if err := c.Require(keyhub.ScopeDeleteAPIKeys, "revoking an API key"); err != nil {
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
		switch {
		case before.RevokedAt != nil && gone:
			return keyhub.NotFound("api key", id)
		case before.RevokedAt != nil:
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
		return s.record(ctx, tx, c, t.ID, change{action: "api_key.revoked", before: before, after: &k}, now)
	})
	return out, err
}

// RevokeKeyBySecret revokes the key given by its secret, as
// `keyhub auth api-key revoke <key>` does. The key must belong to the
// caller's tenant; any other answers not found, as an unknown key does.
func (s *Service) RevokeKeyBySecret(ctx context.Context, c *keyhub.Caller, key string) (*keyhub.APIKey, error) {
	if err := c.Require(keyhub.ScopeDeleteAPIKeys, "revoking an API key"); err != nil {
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
