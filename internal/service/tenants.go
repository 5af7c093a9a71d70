package service

import (
	"context"
	"maps"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// MaxNameLen bounds names of tenants, keys, roles and clients.
const MaxNameLen = 200

// TenantCreate is the input of CreateTenant.
type TenantCreate struct {
	Name        string            `json:"name"`
	KeyPrefixes map[string]string `json:"key_prefixes"`
	// LeakPolicy is "revoke" (the default) or "flag".
	LeakPolicy string `json:"leak_policy"`
}

// TenantPatch is the input of UpdateTenant. KeyPrefixes entries are merged
// into the tenant's: a new environment name adds that environment.
type TenantPatch struct {
	Name        Opt[string]            `json:"name"`
	KeyPrefixes Opt[map[string]string] `json:"key_prefixes"`
	LeakPolicy  Opt[string]            `json:"leak_policy"`
}

func validLeakPolicy(v *keyhub.Validation, field, p string) keyhub.LeakPolicy {
	switch keyhub.LeakPolicy(p) {
	case "":
		return keyhub.LeakRevoke
	case keyhub.LeakRevoke, keyhub.LeakFlag:
		return keyhub.LeakPolicy(p)
	}
	v.Add(field, "must be revoke or flag")
	return ""
}

func validName(v *keyhub.Validation, field, name string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(name) > MaxNameLen:
		v.Add(field, "must be at most %d characters", MaxNameLen)
	case keyhub.CheckText(name) != nil:
		v.Add(field, "%v", keyhub.CheckText(name))
	case strings.ContainsFunc(name, unicode.IsControl):
		v.Add(field, "must not contain control characters")
	case strings.ContainsFunc(name, isBidiControl):
		// A name shown in a list could otherwise reorder what follows it
		// (the "Trojan Source" trick).
		v.Add(field, "must not contain bidirectional formatting characters")
	}
	return name
}

// isBidiControl reports whether r is one of Unicode's bidirectional
// formatting characters: marks, embeddings, overrides and isolates.
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// validPrefixes checks environment names and key prefixes.
func validPrefixes(v *keyhub.Validation, field string, m map[string]string) {
	envs := make([]string, 0, len(m))
	for env := range m {
		envs = append(envs, env)
	}
	sort.Strings(envs)
	for _, env := range envs {
		if !validEnvName(env) {
			v.Add(field+"."+env, "environment name must be 1-32 characters of a-z, 0-9, '_' and '-', starting with a letter")
			continue
		}
		if !secret.ValidPrefix(m[env]) {
			v.Add(field+"."+env, "key prefix must be 1-%d characters of a-z, 0-9 and '_', starting with a letter and not ending in '_'", secret.MaxPrefixLen)
		}
	}
}

func validEnvName(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CreateTenant creates a tenant. Operators only.
func (s *Service) CreateTenant(ctx context.Context, c *keyhub.Caller, in TenantCreate) (*keyhub.Tenant, error) {
	if err := c.Require(keyhub.ScopeManageTenants, "creating a tenant"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	name := validName(&v, "name", in.Name)
	prefixes := keyhub.DefaultKeyPrefixes()
	if in.KeyPrefixes != nil {
		validPrefixes(&v, "key_prefixes", in.KeyPrefixes)
		if len(in.KeyPrefixes) == 0 {
			v.Add("key_prefixes", "must name at least one environment")
		}
		prefixes = in.KeyPrefixes
	}
	policy := validLeakPolicy(&v, "leak_policy", in.LeakPolicy)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	t := &keyhub.Tenant{ID: keyhub.NewID(keyhub.PrefixTenant, now), Name: name, KeyPrefixes: prefixes, LeakPolicy: policy, CreatedAt: now, UpdatedAt: now}
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.CreateTenant(ctx, t); err != nil {
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "tenant.created", after: t}, now)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// GetTenant reads a tenant. Operators read any; a tenant credential reads
// only its own.
func (s *Service) GetTenant(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Tenant, error) {
	if err := c.Authenticated(); err != nil {
		return nil, err
	}
	if !c.Principal.Operator && c.Principal.TenantID != id {
		return nil, keyhub.NotFound("tenant", id)
	}
	var t *keyhub.Tenant
	err := s.store.View(ctx, func(tx keyhub.Tx) (err error) {
		t, err = lookup("tenant", keyhub.PrefixTenant, id, func() (*keyhub.Tenant, error) { return tx.GetTenant(ctx, id) })
		return err
	})
	return t, err
}

// ListTenants lists one page of tenants. Operators only.
func (s *Service) ListTenants(ctx context.Context, c *keyhub.Caller, req PageRequest) (Page[*keyhub.Tenant], error) {
	if err := c.Require(keyhub.ScopeManageTenants, "listing tenants"); err != nil {
		return Page[*keyhub.Tenant]{}, err
	}
	var out Page[*keyhub.Tenant]
	err := s.store.View(ctx, func(tx keyhub.Tx) (err error) {
		out, err = paged(req, keyhub.PrefixTenant, func(t *keyhub.Tenant) string { return t.ID },
			func(p keyhub.Page) ([]*keyhub.Tenant, error) { return tx.ListTenants(ctx, p) })
		return err
	})
	return out, err
}

// UpdateTenant renames a tenant or changes its key prefixes for keys
// created from then on. Operators only.
func (s *Service) UpdateTenant(ctx context.Context, c *keyhub.Caller, id string, in TenantPatch) (*keyhub.Tenant, error) {
	if err := c.Require(keyhub.ScopeManageTenants, "updating a tenant"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	var name string
	if in.Name.Set {
		name = validName(&v, "name", in.Name.Value)
	}
	if in.KeyPrefixes.Set {
		if in.KeyPrefixes.Value == nil {
			v.Add("key_prefixes", "must be an object")
		}
		validPrefixes(&v, "key_prefixes", in.KeyPrefixes.Value)
	}
	var policy keyhub.LeakPolicy
	if in.LeakPolicy.Set {
		if policy = validLeakPolicy(&v, "leak_policy", in.LeakPolicy.Value); in.LeakPolicy.Value == "" {
			v.Add("leak_policy", "must be revoke or flag")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *keyhub.Tenant
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		before, err := lookup("tenant", keyhub.PrefixTenant, id, func() (*keyhub.Tenant, error) { return tx.GetTenant(ctx, id) })
		if err != nil {
			return err
		}
		t := *before
		t.KeyPrefixes = maps.Clone(before.KeyPrefixes)
		if in.Name.Set {
			t.Name = name
		}
		if in.KeyPrefixes.Set {
			maps.Copy(t.KeyPrefixes, in.KeyPrefixes.Value)
		}
		if in.LeakPolicy.Set {
			t.LeakPolicy = policy
		}
		now := s.Now()
		t.UpdatedAt = now
		if err := tx.UpdateTenant(ctx, &t); err != nil {
			return err
		}
		out = &t
		return s.record(ctx, tx, c, t.ID, change{action: "tenant.updated", before: before, after: &t}, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
