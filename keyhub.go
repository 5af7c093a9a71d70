// Package keyhub holds the domain of keyhub: tenants, API keys, roles,
// scopes, audit events, the rules that govern them and the Store interface
// that persists them. It imports nothing of the project and no technology.
package keyhub

import (
	"encoding/json"
	"net/netip"
	"time"
)

// Tenant is the unit of isolation; every other object belongs to one.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// KeyPrefixes maps an environment name to the prefix of keys created in
	// it from then on. Its keys are the tenant's environments.
	KeyPrefixes map[string]string `json:"key_prefixes"`
	// LeakPolicy is what a report of one of the tenant's keys found leaked
	// does: LeakRevoke (the default) or LeakFlag.
	LeakPolicy LeakPolicy `json:"leak_policy"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// LeakPolicy says what a leak report does to a tenant's key.
type LeakPolicy string

// Leak policies.
const (
	// LeakRevoke revokes a key reported leaked, at once.
	LeakRevoke LeakPolicy = "revoke"
	// LeakFlag only records the report (audit event and webhook), for a
	// tenant that wants to rotate its keys itself.
	LeakFlag LeakPolicy = "flag"
)

// DefaultKeyPrefixes are the environments and prefixes of a new tenant.
func DefaultKeyPrefixes() map[string]string {
	return map[string]string{"live": "kh_live", "test": "kh_test"}
}

// ScopeEntry is one entry of the operator's scope catalogue.
type ScopeEntry struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// Role is a named set of scopes; member keys hold them in addition to their own.
type Role struct {
	ID          string   `json:"id"`
	TenantID    string   `json:"tenant_id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scopes      []string `json:"scopes"`
	// Creator is who made the role; {"system", ""} for roles made before
	// keyhub recorded it.
	Creator   Actor     `json:"creator"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Actor identifies who made a change or created an object.
type Actor struct {
	Type string `json:"type"` // "operator", "api_key", "client", "user", "member", "system"
	ID   string `json:"id"`
}

// KeyState is the derived state of an API key.
type KeyState string

// Key states, in the precedence verification checks them.
const (
	StateActive   KeyState = "active"
	StateDisabled KeyState = "disabled"
	StateRevoked  KeyState = "revoked"
	StateExpired  KeyState = "expired"
)

// ValidKeyState reports whether s names a key state.
func ValidKeyState(s string) bool {
	switch KeyState(s) {
	case StateActive, StateDisabled, StateRevoked, StateExpired:
		return true
	}
	return false
}

// APIKey is a stored API key. A bearer key's secret is never stored: only
// its SHA-256 (Hash) and a display hint (Start). A signing key's secret is
// stored sealed under the master key (SealedSecret), since keyhub must use
// it; its Hash is SigningDigest of its id (see KeyKind).
type APIKey struct {
	ID          string          `json:"id"`
	TenantID    string          `json:"tenant_id"` // "" for operator keys
	Kind        KeyKind         `json:"kind"`
	Name        string          `json:"name"`
	Environment string          `json:"environment"`
	Start       string          `json:"start"`
	Hash        []byte          `json:"-"`
	Scopes      []string        `json:"scopes"`
	RoleID      string          `json:"role_id"`
	IPs         []string        `json:"ips"`
	Meta        json.RawMessage `json:"meta"`
	Enabled     bool            `json:"enabled"`
	ExpiresAt   *time.Time      `json:"expires_at"`
	RevokedAt   *time.Time      `json:"revoked_at"`
	LastUsedAt  *time.Time      `json:"last_used_at"`
	RateLimit   *RateLimit      `json:"ratelimit"`
	Credits     *Credits        `json:"credits"`
	// RotatedFrom and ReplacedBy link the keys of a rotation.
	RotatedFrom string    `json:"rotated_from"`
	ReplacedBy  string    `json:"replaced_by"`
	Creator     Actor     `json:"creator"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// SealedSecret is a signing key's secret, AES-256-GCM-sealed under the
	// master key; nil for bearer keys. Never marshalled, so never in an
	// answer or an audit diff.
	SealedSecret []byte `json:"-"`
}

// State derives the key's state at now. Precedence follows verification:
// revoked, then disabled, then expired.
func (k *APIKey) State(now time.Time) KeyState {
	return KeyStateAt(k.RevokedAt, k.Enabled, k.ExpiresAt, now)
}

// KeyStateAt is APIKey.State over the fields it reads, for copies of a key
// that keep only those (the verification cache's).
func KeyStateAt(revokedAt *time.Time, enabled bool, expiresAt *time.Time, now time.Time) KeyState {
	switch {
	case revokedAt != nil:
		return StateRevoked
	case !enabled:
		return StateDisabled
	case expiresAt != nil && !now.Before(*expiresAt):
		return StateExpired
	}
	return StateActive
}

// IsOperator reports whether the key is an operator credential.
func (k *APIKey) IsOperator() bool { return k.TenantID == "" }

// AuditEvent is an append-only record of one change.
type AuditEvent struct {
	ID         string          `json:"id"`
	TenantID   string          `json:"tenant_id"` // "" for operator-level changes
	Actor      Actor           `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	IP         string          `json:"ip"`
	Diff       json.RawMessage `json:"diff"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Principal is an authenticated caller.
type Principal struct {
	Actor
	// TenantID is the tenant the credential belongs to; "" for operators.
	TenantID string
	// Scopes are the credential's effective scopes. The bootstrap operator
	// key holds "*"; an operator-level OAuth client holds what it was given.
	Scopes []string
	// Operator marks a credential bound to no tenant: it may act on any
	// tenant it names, within its scopes.
	Operator bool
}

// Has reports whether the principal holds scope s. manage:tenants is held
// by operator credentials only, whatever a tenant credential's wildcards say.
func (p *Principal) Has(s string) bool {
	if s == ScopeManageTenants && !p.Operator {
		return false
	}
	return CoveredBy(p.Scopes, s)
}

// CanGrant returns the first scope of want the principal may not grant, and
// false; or "" and true when it may grant them all.
func (p *Principal) CanGrant(want []string) (string, bool) {
	for _, s := range want {
		if !p.Has(s) {
			return s, false
		}
	}
	return "", true
}

// IPAllowed reports whether ip falls in one of the prefixes; an empty list
// allows every address.
func IPAllowed(prefixes []netip.Prefix, ip netip.Addr) bool {
	if len(prefixes) == 0 {
		return true
	}
	ip = ip.Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Normalize gives a key's optional parts their one stored form: lists are
// never nil and absent meta is the empty object. The service calls it
// before every write; stores keep what they are given.
func (k *APIKey) Normalize() {
	if k.Kind == "" {
		k.Kind = KeyKindBearer
	}
	k.Scopes, k.IPs = nonNil(k.Scopes), nonNil(k.IPs)
	if len(k.Meta) == 0 || string(k.Meta) == "null" {
		k.Meta = json.RawMessage(`{}`)
	}
}

// Normalize gives a role's scopes their one stored form.
func (r *Role) Normalize() { r.Scopes = nonNil(r.Scopes) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
