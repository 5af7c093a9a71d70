package client

import (
	"encoding/json"
	"time"
)

// Page is one page of a list. NextCursor, when not empty, fetches the next
// page; it is empty on the last page.
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListOptions selects a page of a list without filters.
type ListOptions struct {
	// Limit is the page size; 0 lets the server choose (50, at most 200).
	Limit int
	// Cursor is the NextCursor of the previous page; "" for the first.
	Cursor string
}

// APIKey is an API key as the management API shows it. The secret itself
// is only in Key, and only in the answer to Create.
type APIKey struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenant_id"`
	Name        string `json:"name"`
	Environment string `json:"environment"`
	// Start is the display hint: the prefix and the first body characters.
	Start  string   `json:"start"`
	Scopes []string `json:"scopes"`
	// RoleID is the key's role, "" when it has none.
	RoleID string          `json:"role_id,omitempty"`
	IPs    []string        `json:"ips"`
	Meta   json.RawMessage `json:"meta,omitempty"`
	// Enabled is false for a disabled key.
	Enabled bool `json:"enabled"`
	// State is "active", "disabled", "revoked" or "expired".
	State      string     `json:"state"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// RateLimit bounds how often the key verifies; nil for no limit.
	RateLimit *RateLimit `json:"ratelimit"`
	// Credits is the key's remaining uses; nil for unlimited.
	Credits *Credits `json:"credits"`
	// RotatedFrom is the key this one replaced by rotation, "" if none.
	RotatedFrom string `json:"rotated_from,omitempty"`
	// ReplacedBy is the key that replaced this one by rotation, "" if none.
	ReplacedBy string    `json:"replaced_by,omitempty"`
	Creator    Actor     `json:"creator"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Key is the secret, returned once by Create and Rotate; store it then.
	Key string `json:"key,omitempty"`
}

// RateLimit allows Limit verifications per Duration window.
type RateLimit struct {
	Limit int64 `json:"limit"`
	// Duration is the window as a Go duration string: the server answers
	// "1m0s"; requests may also say "1m" or "1d".
	Duration string `json:"duration"`
}

// Refill intervals of Refill.Interval.
const (
	RefillDaily   = "daily"
	RefillMonthly = "monthly"
)

// Refill tops a key's credits up to Amount at the start of every Interval
// (RefillDaily or RefillMonthly, in UTC).
type Refill struct {
	Amount   int64  `json:"amount"`
	Interval string `json:"interval"`
}

// Credits is a key's remaining uses: each valid verification spends its
// cost, and a key with none left answers USAGE_EXCEEDED.
type Credits struct {
	Remaining int64 `json:"remaining"`
	// Refill is nil when the balance is never topped up.
	Refill *Refill `json:"refill,omitempty"`
	// LowThreshold, when set, is the balance at or below which the
	// tenant's webhooks are told once (api_key.credits_low).
	LowThreshold *int64 `json:"low_threshold,omitempty"`
}

// UsageBucket is one hour of a key's verifications counted by outcome code
// (the Code constants).
type UsageBucket struct {
	Hour   time.Time        `json:"hour"`
	Counts map[string]int64 `json:"counts"`
}

// VerifyRequest asks whether Key is good for every scope in Scopes when
// presented from IP. Scopes and IP may be empty.
type VerifyRequest struct {
	Key    string   `json:"key"`
	Scopes []string `json:"scopes,omitempty"`
	IP     string   `json:"ip,omitempty"`
	// Cost is how many credits a valid use spends; nil spends 1.
	Cost *int64 `json:"cost,omitempty"`
}

// Verification codes, in the order the server checks them.
const (
	CodeValid             = "VALID"
	CodeMalformed         = "MALFORMED"
	CodeNotFound          = "NOT_FOUND"
	CodeRevoked           = "REVOKED"
	CodeDisabled          = "DISABLED"
	CodeExpired           = "EXPIRED"
	CodeForbiddenIP       = "FORBIDDEN_IP"
	CodeInsufficientScope = "INSUFFICIENT_SCOPE"
	CodeRateLimited       = "RATE_LIMITED"
	CodeUsageExceeded     = "USAGE_EXCEEDED"
)

// VerifyResult is the answer to Verify.
type VerifyResult struct {
	Valid bool `json:"valid"`
	// Code says why the key is or is not valid (one of the Code constants).
	Code string `json:"code"`
	// Key describes the key; nil when it was malformed or not found.
	Key *VerifiedKey `json:"key,omitempty"`
	// MissingScope names the first required scope the key lacks, with
	// code INSUFFICIENT_SCOPE.
	MissingScope string `json:"missing_scope,omitempty"`
	// RateLimit is the key's rate-limit window after this verification;
	// nil when the key has no rate limit.
	RateLimit *VerifyRateLimit `json:"ratelimit,omitempty"`
	// Credits is the key's balance after this verification; nil when the
	// key has unlimited uses.
	Credits *VerifyCredits `json:"credits,omitempty"`
}

// VerifyRateLimit is the state of a key's rate-limit window.
type VerifyRateLimit struct {
	Limit     int64 `json:"limit"`
	Remaining int64 `json:"remaining"`
	// Reset is when the window ends, in Unix milliseconds.
	Reset int64 `json:"reset"`
}

// ResetTime returns Reset as a time.
func (r VerifyRateLimit) ResetTime() time.Time { return time.UnixMilli(r.Reset) }

// VerifyCredits is a key's credit balance.
type VerifyCredits struct {
	Remaining int64 `json:"remaining"`
}

// VerifiedKey is what verification reveals of a key.
type VerifiedKey struct {
	ID          string   `json:"id"`
	TenantID    string   `json:"tenant_id"`
	Name        string   `json:"name"`
	Environment string   `json:"environment"`
	Scopes      []string `json:"scopes"`
	// Role is the key's role; nil when it has none.
	Role      *VerifiedRole   `json:"role"`
	Meta      json.RawMessage `json:"meta,omitempty"`
	ExpiresAt *time.Time      `json:"expires_at"`
}

// VerifiedRole names the role of a verified key.
type VerifiedRole struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}
