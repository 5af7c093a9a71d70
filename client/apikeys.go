package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// APIKeysService manages the API keys of the tenant.
type APIKeysService struct{ c *Client }

// APIKeyCreate is the input of APIKeysService.Create. Zero fields take the
// server's defaults: the tenant's "live" environment, no scopes, no role,
// any IP, no expiry, empty meta, enabled.
type APIKeyCreate struct {
	Name        string          `json:"name"`
	Environment string          `json:"environment,omitempty"`
	Scopes      []string        `json:"scopes,omitempty"`
	RoleID      string          `json:"role_id,omitempty"`
	IPs         []string        `json:"ips,omitempty"`
	ExpiresAt   *time.Time      `json:"expires_at,omitempty"`
	Meta        json.RawMessage `json:"meta,omitempty"`
	Enabled     *bool           `json:"enabled,omitempty"`
	// RateLimit, when set, bounds how often the key verifies.
	RateLimit *RateLimit `json:"ratelimit,omitempty"`
	// Credits, when set, gives the key a balance of uses.
	Credits *Credits `json:"credits,omitempty"`
}

// APIKeyUpdate is the input of APIKeysService.Update. Nil fields are kept;
// a non-nil empty Scopes or IPs empties the list.
type APIKeyUpdate struct {
	Name   *string
	Scopes []string
	// RoleID replaces the role; ClearRole removes it.
	RoleID    *string
	ClearRole bool
	IPs       []string
	// ExpiresAt replaces the expiry; ClearExpiry makes the key never expire.
	ExpiresAt   *time.Time
	ClearExpiry bool
	// Meta replaces the whole meta object.
	Meta    json.RawMessage
	Enabled *bool
	// RateLimit replaces the rate limit; ClearRateLimit removes it.
	RateLimit      *RateLimit
	ClearRateLimit bool
	// Credits changes the balance or refill; ClearCredits removes credits,
	// making the key's uses unlimited.
	Credits      *CreditsUpdate
	ClearCredits bool
}

// CreditsUpdate changes a key's credits. Nil fields are kept.
type CreditsUpdate struct {
	// Remaining sets the balance.
	Remaining *int64
	// Add adds to the balance (a negative number takes away, never below
	// zero).
	Add *int64
	// Refill replaces the refill; ClearRefill removes it.
	Refill      *Refill
	ClearRefill bool
	// LowThreshold replaces the low-balance threshold; ClearLowThreshold
	// removes it.
	LowThreshold      *int64
	ClearLowThreshold bool
}

// MarshalJSON encodes only the fields to change, with null for a cleared
// refill.
func (u CreditsUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Remaining != nil {
		m["remaining"] = *u.Remaining
	}
	if u.Add != nil {
		m["add"] = *u.Add
	}
	switch {
	case u.ClearRefill:
		m["refill"] = nil
	case u.Refill != nil:
		m["refill"] = u.Refill
	}
	switch {
	case u.ClearLowThreshold:
		m["low_threshold"] = nil
	case u.LowThreshold != nil:
		m["low_threshold"] = *u.LowThreshold
	}
	return json.Marshal(m)
}

// MarshalJSON encodes only the fields to change, with null for a cleared
// role, expiry, rate limit or credits, as PATCH /v1/api-keys/{id} expects.
func (u APIKeyUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	if u.Scopes != nil {
		m["scopes"] = u.Scopes
	}
	switch {
	case u.ClearRole:
		m["role_id"] = nil
	case u.RoleID != nil:
		m["role_id"] = *u.RoleID
	}
	if u.IPs != nil {
		m["ips"] = u.IPs
	}
	switch {
	case u.ClearExpiry:
		m["expires_at"] = nil
	case u.ExpiresAt != nil:
		m["expires_at"] = u.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	if u.Meta != nil {
		m["meta"] = u.Meta
	}
	if u.Enabled != nil {
		m["enabled"] = *u.Enabled
	}
	switch {
	case u.ClearRateLimit:
		m["ratelimit"] = nil
	case u.RateLimit != nil:
		m["ratelimit"] = u.RateLimit
	}
	switch {
	case u.ClearCredits:
		m["credits"] = nil
	case u.Credits != nil:
		m["credits"] = u.Credits
	}
	return json.Marshal(m)
}

// APIKeyListOptions filters and pages APIKeysService.List. Zero fields do
// not filter.
type APIKeyListOptions struct {
	Environment string
	// State is "active", "disabled", "revoked" or "expired".
	State  string
	RoleID string
	// Name keeps the keys whose name starts with it.
	Name   string
	Limit  int
	Cursor string
}

func (o APIKeyListOptions) query() url.Values {
	q := url.Values{}
	setIf(q, "environment", o.Environment)
	setIf(q, "state", o.State)
	setIf(q, "role_id", o.RoleID)
	setIf(q, "name", o.Name)
	return listQuery(q, o.Limit, o.Cursor)
}

// Create creates a key. The answer's Key holds the secret, which the
// server shows only this once.
func (s *APIKeysService) Create(ctx context.Context, in APIKeyCreate) (*APIKey, error) {
	var k APIKey
	if err := s.c.do(ctx, http.MethodPost, "/v1/api-keys", nil, in, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// List lists one page of keys, newest first.
func (s *APIKeysService) List(ctx context.Context, opt APIKeyListOptions) (*Page[APIKey], error) {
	var p Page[APIKey]
	if err := s.c.do(ctx, http.MethodGet, "/v1/api-keys", opt.query(), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// All iterates over every key that opt selects, from opt.Cursor on,
// fetching pages as it goes. It stops at the first error, which it yields.
func (s *APIKeysService) All(ctx context.Context, opt APIKeyListOptions) iter.Seq2[APIKey, error] {
	return all(func(cursor string) (*Page[APIKey], error) {
		opt.Cursor = cursor
		return s.List(ctx, opt)
	}, opt.Cursor)
}

// Get reads one key.
func (s *APIKeysService) Get(ctx context.Context, id string) (*APIKey, error) {
	return s.one(ctx, http.MethodGet, id, nil)
}

// Update changes a key.
func (s *APIKeysService) Update(ctx context.Context, id string, in APIKeyUpdate) (*APIKey, error) {
	return s.one(ctx, http.MethodPatch, id, in)
}

// Revoke revokes a key and returns it. The key record stays, for audit;
// revoking a revoked key is not an error.
func (s *APIKeysService) Revoke(ctx context.Context, id string) (*APIKey, error) {
	return s.one(ctx, http.MethodDelete, id, nil)
}

// Rotate replaces a key with a new one that has the same name, scopes,
// role, allow-list, meta and limits, and returns the new key with its
// secret in Key, shown only this once. The old key keeps verifying for
// gracePeriod (a duration such as "24h" or "90d"; "" or "0s" stops it at
// once) and links to the new one in ReplacedBy.
func (s *APIKeysService) Rotate(ctx context.Context, id, gracePeriod string) (*APIKey, error) {
	in := struct {
		GracePeriod string `json:"grace_period,omitempty"`
	}{gracePeriod}
	var k APIKey
	if err := s.c.do(ctx, http.MethodPost, "/v1/api-keys/"+pathID(id)+"/rotate", nil, in, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// Usage returns a key's verifications per hour in [from, to), oldest first;
// hours without any are left out. A zero to means the end of the current
// hour, a zero from 24 hours before to. Counts reach the server's store in
// batches, so the last few seconds may be missing.
func (s *APIKeysService) Usage(ctx context.Context, id string, from, to time.Time) ([]UsageBucket, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339Nano))
	}
	var out struct {
		Data []UsageBucket `json:"data"`
	}
	if err := s.c.do(ctx, http.MethodGet, "/v1/api-keys/"+pathID(id)+"/usage", q, nil, &out); err != nil {
		return nil, err
	}
	if out.Data == nil {
		out.Data = []UsageBucket{}
	}
	return out.Data, nil
}

// RevokeBySecret revokes the key whose secret is key, for when the secret
// is all one has (a leaked key, say), and returns it. A key of another
// tenant answers not found, as an unknown one does.
func (s *APIKeysService) RevokeBySecret(ctx context.Context, key string) (*APIKey, error) {
	in := struct {
		Key string `json:"key"`
	}{key}
	var k APIKey
	if err := s.c.do(ctx, http.MethodPost, "/v1/keys/revoke", nil, in, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

func (s *APIKeysService) one(ctx context.Context, method, id string, in any) (*APIKey, error) {
	var k APIKey
	if err := s.c.do(ctx, method, "/v1/api-keys/"+pathID(id), nil, in, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// all iterates over the items of the pages that fetch returns, starting at
// cursor and following NextCursor until it is empty.
func all[T any](fetch func(cursor string) (*Page[T], error), cursor string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			p, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, v := range p.Data {
				if !yield(v, nil) {
					return
				}
			}
			// A cursor that does not move would loop for ever.
			if p.NextCursor == "" || p.NextCursor == cursor {
				return
			}
			cursor = p.NextCursor
		}
	}
}
