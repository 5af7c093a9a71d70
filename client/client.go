// Package client is a Go client of keyhub's native management API
// (/v1/...). It speaks the HTTP contract of DESIGN.md §5: bearer
// authentication, the Keyhub-Tenant header for operator credentials,
// {"data","next_cursor"} lists and RFC 9457 problem+json errors, which it
// returns as *Error.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("KEYHUB_API_KEY"),
//		client.WithTenant("ten_..."))
//	k, err := c.APIKeys.Create(ctx, client.APIKeyCreate{Name: "ci", Scopes: []string{"payouts:write"}})
//
// A service can authenticate as an OAuth client instead, with tokens it
// obtains and renews on its own:
//
//	c := client.NewWithClientCredentials(url, os.Getenv("KEYHUB_CLIENT_ID"), os.Getenv("KEYHUB_CLIENT_SECRET"))
//
// Middleware protects a net/http API with keyhub's verification, answering
// as keyhub's forward auth answers a proxy; RequireScopes adds per-route
// scopes and KeyFromContext gives a handler the verified key.
//
// The package is a module of its own (go 1.23, the standard library and
// golang.org/x/oauth2 only), so that using it brings in nothing of the
// server.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// TenantHeader is the header with which operator credentials choose the
// tenant a request acts on.
const TenantHeader = "Keyhub-Tenant"

// maxResponse bounds how much of a response body the client reads.
const maxResponse = 32 << 20

// Client calls one keyhub server with one credential. It is safe for
// concurrent use. Its resource fields group the endpoints.
type Client struct {
	baseURL string
	apiKey  string
	tenant  string
	http    *http.Client
	agent   string
	// tokenScopes are the scopes NewWithClientCredentials requests.
	tokenScopes []string

	// Tenants manages tenants (operator credentials only).
	Tenants *TenantsService
	// Scopes manages the operator's scope catalogue.
	Scopes *ScopesService
	// APIKeys manages the API keys of the tenant.
	APIKeys *APIKeysService
	// Roles manages the roles of the tenant.
	Roles *RolesService
	// Members manages the people of the tenant who sign in to the portal.
	Members *MembersService
	// Clients manages the OAuth clients of the tenant.
	Clients *ClientsService
	// SigningKeys rotates the token signing keys (operator credentials).
	SigningKeys *SigningKeysService
	// Audit reads the audit log.
	Audit *AuditService
	// Webhooks manages the tenant's webhooks.
	Webhooks *WebhooksService
}

// Option configures a Client.
type Option func(*Client)

// WithTenant makes every request act on tenant id, by sending it in the
// Keyhub-Tenant header. Only operator credentials may choose a tenant;
// tenant credentials act on their own.
func WithTenant(id string) Option { return func(c *Client) { c.tenant = id } }

// WithHTTPClient makes the client send its requests with hc instead of
// http.DefaultClient, for timeouts, proxies or custom transports.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// New returns a client of the server at baseURL (for example
// "http://127.0.0.1:8080") that authenticates with apiKey, or with any
// other bearer credential such as an access token. An empty apiKey sends no
// Authorization header. NewWithClientCredentials authenticates as an OAuth
// client instead.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{
		baseURL: strings.TrimRight(baseURL, "/"),
		apiKey:  apiKey,
		http:    http.DefaultClient,
		agent:   "keyhub-go",
	}
	for _, o := range opts {
		o(c)
	}
	c.Tenants = &TenantsService{c}
	c.Scopes = &ScopesService{c}
	c.APIKeys = &APIKeysService{c}
	c.Roles = &RolesService{c}
	c.Members = &MembersService{c}
	c.Clients = &ClientsService{c}
	c.SigningKeys = &SigningKeysService{c}
	c.Audit = &AuditService{c}
	c.Webhooks = &WebhooksService{c}
	return c
}

// Tenant returns the tenant the client acts on, "" for the credential's own.
func (c *Client) Tenant() string { return c.tenant }

// Verify asks whether a key is good for the given scopes from the given IP.
// An invalid key is not an error: the answer says why in Code.
func (c *Client) Verify(ctx context.Context, req VerifyRequest) (*VerifyResult, error) {
	var out VerifyResult
	if err := c.do(ctx, http.MethodPost, "/v1/keys/verify", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Do sends one request to path (such as "/v1/api-keys") with in encoded as
// its JSON body (nil for none) and decodes a successful answer into out (nil
// to discard it). It is the escape hatch for endpoints the typed methods do
// not cover; an error answer is returned as *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.do(ctx, method, path, query, in, out)
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("keyhub client: encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("keyhub client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if c.tenant != "" {
		req.Header.Set(TenantHeader, c.tenant)
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err // already names the method and URL
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("keyhub client: reading %s %s response: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return parseError(resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("keyhub client: decoding %s %s response: %w", method, path, err)
	}
	return nil
}

// pathID escapes one path segment.
func pathID(s string) string { return url.PathEscape(s) }

// listQuery adds the pagination parameters to q.
func listQuery(q url.Values, limit int, cursor string) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q
}

// setIf sets q[k] when v is not empty.
func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}
