package verify

import (
	"encoding/json"
	"time"

	"github.com/keyhub/keyhub"
)

// Key is the part of an API key that verification and its answers read:
// its state, limits, identity and what a verify answer, introspection, the
// portal and a signing key's use show. A cached record holds this instead
// of the whole keyhub.APIKey, whose management fields (hash, allow-list
// text, rotation links, creator, last use, update time) it never reads,
// so that a million cached keys fit a small machine (--cache-size).
type Key struct {
	ID          string
	TenantID    string // "" for operator keys
	Kind        keyhub.KeyKind
	Name        string
	Environment string
	// Start is the key's first characters, as it is shown.
	Start     string
	RoleID    string
	Meta      json.RawMessage
	Enabled   bool
	ExpiresAt *time.Time
	RevokedAt *time.Time
	RateLimit *keyhub.RateLimit
	Credits   *keyhub.Credits
	CreatedAt time.Time
	// SealedSecret is a signing key's sealed secret; nil for bearer keys.
	SealedSecret []byte
}

// compactKey copies what Key keeps of k; the copy shares k's strings and
// limits, not the struct, so the rest of k is freed.
func compactKey(k *keyhub.APIKey) *Key {
	return &Key{ID: k.ID, TenantID: k.TenantID, Kind: k.Kind, Name: k.Name, Environment: k.Environment, Start: k.Start,
		RoleID: k.RoleID, Meta: k.Meta, Enabled: k.Enabled, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt,
		RateLimit: k.RateLimit, Credits: k.Credits, CreatedAt: k.CreatedAt, SealedSecret: k.SealedSecret}
}

// State derives the key's state at now, as keyhub.APIKey.State does.
func (k *Key) State(now time.Time) keyhub.KeyState {
	return keyhub.KeyStateAt(k.RevokedAt, k.Enabled, k.ExpiresAt, now)
}

// IsOperator reports whether the key is an operator credential, as
// keyhub.APIKey.IsOperator does.
func (k *Key) IsOperator() bool { return k.TenantID == "" }

// compactRole keeps what a record shows of its role, its id and name; the
// role's scopes are folded into the record's already.
func compactRole(r *keyhub.Role) *keyhub.Role {
	if r == nil {
		return nil
	}
	return &keyhub.Role{ID: r.ID, TenantID: r.TenantID, Name: r.Name}
}
