package httpapi

import (
	"encoding/json"
	"time"

	"github.com/keyhub/keyhub"
)

// KeyView is the JSON form of an API key: its state derived, its secret
// never included (only on create, in Key).
type KeyView struct {
	ID          string          `json:"id"`
	TenantID    string          `json:"tenant_id"`
	Kind        keyhub.KeyKind  `json:"kind"`
	Name        string          `json:"name"`
	Environment string          `json:"environment"`
	Start       string          `json:"start"`
	Scopes      []string        `json:"scopes"`
	RoleID      *string         `json:"role_id"`
	IPs         []string        `json:"ips"`
	Meta        json.RawMessage `json:"meta"`
	Enabled     bool            `json:"enabled"`
	State       keyhub.KeyState `json:"state"`
	ExpiresAt   *time.Time      `json:"expires_at"`
	RevokedAt   *time.Time      `json:"revoked_at"`
	LastUsedAt  *time.Time      `json:"last_used_at"`
	RateLimit   *rateLimitView  `json:"ratelimit"`
	Credits     *creditsView    `json:"credits"`
	RotatedFrom *string         `json:"rotated_from"`
	ReplacedBy  *string         `json:"replaced_by"`
	Creator     keyhub.Actor    `json:"creator"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Key         string          `json:"key,omitempty"`
}

// NewKeyView renders k as seen at now.
func NewKeyView(k *keyhub.APIKey, now time.Time) KeyView {
	v := KeyView{
		ID: k.ID, TenantID: k.TenantID, Kind: k.Kind, Name: k.Name, Environment: k.Environment, Start: k.Start,
		Scopes: nonNil(k.Scopes), IPs: nonNil(k.IPs), Meta: k.Meta, Enabled: k.Enabled, State: k.State(now),
		ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt, Creator: k.Creator,
		CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt,
	}
	v.RoleID, v.RotatedFrom, v.ReplacedBy = optional(k.RoleID), optional(k.RotatedFrom), optional(k.ReplacedBy)
	if rl := k.RateLimit; rl != nil {
		v.RateLimit = &rateLimitView{Limit: rl.Limit, Duration: rl.Duration}
	}
	if c := k.Credits; c != nil {
		v.Credits = &creditsView{Remaining: c.Remaining, Refill: c.Refill, LowThreshold: c.LowThreshold}
	}
	if len(v.Meta) == 0 {
		v.Meta = json.RawMessage(`{}`)
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func roleView(r *keyhub.Role) *keyhub.Role {
	r.Scopes = nonNil(r.Scopes)
	return r
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type rateLimitView struct {
	Limit    int64           `json:"limit"`
	Duration keyhub.Duration `json:"duration"`
}

type creditsView struct {
	Remaining    int64          `json:"remaining"`
	Refill       *keyhub.Refill `json:"refill"`
	LowThreshold *int64         `json:"low_threshold"`
}

// EventData renders an object as the native API shows it, for the data of
// webhook events (service.Renderer).
func EventData(obj any, now time.Time) (json.RawMessage, error) {
	switch o := obj.(type) {
	case *keyhub.APIKey:
		return json.Marshal(NewKeyView(o, now))
	case *keyhub.Client:
		return json.Marshal(newClientView(o))
	case *keyhub.Role:
		r := *o
		return json.Marshal(roleView(&r))
	case *keyhub.Member:
		return json.Marshal(memberView(o))
	}
	return json.Marshal(obj)
}
