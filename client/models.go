package client

import (
	"encoding/json"
	"time"
)

// The SDK declares its own copies of the server's wire types so that its
// users depend on the JSON contract only, not on the server module and
// everything it imports.

// Actor identifies who made a change or created an object.
type Actor struct {
	// Type is "operator", "api_key", "client", "user", "member" or "system".
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Tenant is one customer's isolated space of keys.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// KeyPrefixes maps an environment name to the prefix of keys created in
	// it from then on. Its keys are the tenant's environments.
	KeyPrefixes map[string]string `json:"key_prefixes"`
	// LeakPolicy is what a report of one of the tenant's keys found leaked
	// does: "revoke" (the default) or "flag".
	LeakPolicy string    `json:"leak_policy"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ScopeEntry is a scope registered in a tenant's catalog.
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

// Member is a person of a tenant who signs in to the portal.
type Member struct {
	ID       string   `json:"id"`
	TenantID string   `json:"tenant_id"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Scopes   []string `json:"scopes"`
	// ExternalID is the platform's id of the user a hand-off named; "" for
	// members invited in keyhub.
	ExternalID string    `json:"external_id"`
	Creator    Actor     `json:"creator"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// AuditEvent is one recorded change.
type AuditEvent struct {
	ID string `json:"id"`
	// TenantID is "" for operator-level changes.
	TenantID   string          `json:"tenant_id"`
	Actor      Actor           `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	IP         string          `json:"ip"`
	Diff       json.RawMessage `json:"diff"`
	CreatedAt  time.Time       `json:"created_at"`
}
