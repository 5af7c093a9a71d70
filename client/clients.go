package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"
)

// ClientsService manages the OAuth clients of the tenant: machine
// credentials that obtain access tokens with the client credentials grant.
type ClientsService struct{ c *Client }

// OAuthClient is an OAuth client as the management API shows it. The
// secret is only in ClientSecret, and only in the answers to Create and
// RotateSecret.
type OAuthClient struct {
	ClientID string `json:"client_id"`
	// TenantID is "" for an operator's client.
	TenantID  string   `json:"tenant_id,omitempty"`
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes"`
	Audiences []string `json:"audiences"`
	// TokenTTL is the lifetime of the client's access tokens as a Go
	// duration string, such as "24h0m0s".
	TokenTTL string `json:"token_ttl"`
	Enabled  bool   `json:"enabled"`
	// PreviousSecretExpiresAt is when the secret replaced by the last
	// rotation stops working; nil when none does.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	Creator                 Actor      `json:"creator"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
	// ClientSecret is the secret, returned once by Create and RotateSecret.
	ClientSecret string `json:"client_secret,omitempty"`
}

// ClientCreate is the input of ClientsService.Create. Zero fields take the
// server's defaults: no scopes, no audiences, its token lifetime, enabled.
type ClientCreate struct {
	Name      string   `json:"name"`
	Scopes    []string `json:"scopes,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
	// TokenTTL is a duration such as "1h" or "24h".
	TokenTTL string `json:"token_ttl,omitempty"`
	Enabled  *bool  `json:"enabled,omitempty"`
}

// ClientUpdate is the input of ClientsService.Update. Nil fields are kept;
// a non-nil empty Scopes or Audiences empties the list.
type ClientUpdate struct {
	Name      *string
	Scopes    []string
	Audiences []string
	TokenTTL  *string
	Enabled   *bool
}

// MarshalJSON encodes only the fields to change.
func (u ClientUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	if u.Scopes != nil {
		m["scopes"] = u.Scopes
	}
	if u.Audiences != nil {
		m["audiences"] = u.Audiences
	}
	if u.TokenTTL != nil {
		m["token_ttl"] = *u.TokenTTL
	}
	if u.Enabled != nil {
		m["enabled"] = *u.Enabled
	}
	return json.Marshal(m)
}

// Create creates a client. The answer's ClientSecret holds the secret,
// which the server shows only this once.
func (s *ClientsService) Create(ctx context.Context, in ClientCreate) (*OAuthClient, error) {
	var cl OAuthClient
	if err := s.c.do(ctx, http.MethodPost, "/v1/clients", nil, in, &cl); err != nil {
		return nil, err
	}
	return &cl, nil
}

// List lists one page of clients.
func (s *ClientsService) List(ctx context.Context, opt ListOptions) (*Page[OAuthClient], error) {
	var p Page[OAuthClient]
	q := listQuery(nil, opt.Limit, opt.Cursor)
	if err := s.c.do(ctx, http.MethodGet, "/v1/clients", q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// All iterates over every client from opt.Cursor on, fetching pages as it
// goes. It stops at the first error, which it yields.
func (s *ClientsService) All(ctx context.Context, opt ListOptions) iter.Seq2[OAuthClient, error] {
	return all(func(cursor string) (*Page[OAuthClient], error) {
		opt.Cursor = cursor
		return s.List(ctx, opt)
	}, opt.Cursor)
}

// Get reads one client.
func (s *ClientsService) Get(ctx context.Context, id string) (*OAuthClient, error) {
	return s.one(ctx, http.MethodGet, "/v1/clients/"+pathID(id), nil)
}

// Update changes a client.
func (s *ClientsService) Update(ctx context.Context, id string, in ClientUpdate) (*OAuthClient, error) {
	return s.one(ctx, http.MethodPatch, "/v1/clients/"+pathID(id), in)
}

// Delete deletes a client; its tokens stop verifying.
func (s *ClientsService) Delete(ctx context.Context, id string) error {
	return s.c.do(ctx, http.MethodDelete, "/v1/clients/"+pathID(id), nil, nil, nil)
}

// RotateSecret gives a client a new secret and returns the client with it
// in ClientSecret, shown only this once. The old secret keeps working for
// gracePeriod (a duration such as "1h"; "" or "0s" stops it at once).
func (s *ClientsService) RotateSecret(ctx context.Context, id, gracePeriod string) (*OAuthClient, error) {
	in := struct {
		GracePeriod string `json:"grace_period,omitempty"`
	}{gracePeriod}
	return s.one(ctx, http.MethodPost, "/v1/clients/"+pathID(id)+"/rotate-secret", in)
}

func (s *ClientsService) one(ctx context.Context, method, path string, in any) (*OAuthClient, error) {
	var cl OAuthClient
	if err := s.c.do(ctx, method, path, nil, in, &cl); err != nil {
		return nil, err
	}
	return &cl, nil
}
