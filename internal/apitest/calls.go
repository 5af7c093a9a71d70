package apitest

import "net/url"

// Native calls the native API with credential key, acting on tenant when
// it is not "", fails the test unless the answer has status want, and
// returns its JSON object (nil when the answer has no body).
func (c *Client) Native(want int, method, path, key, tenant string, body any) map[string]any {
	c.t.Helper()
	r := c.Must(want, method, path, body, Auth(key, tenant)...)
	if len(r.Body) == 0 {
		return nil
	}
	return r.Object(c.t)
}

// Tenant creates a tenant as the operator, with key prefixes when
// prefixes is not nil, and returns its id.
func (c *Client) Tenant(name string, prefixes map[string]string) string {
	c.t.Helper()
	body := map[string]any{"name": name}
	if prefixes != nil {
		body["key_prefixes"] = prefixes
	}
	return c.id(c.Native(201, "POST", "/v1/tenants", c.Operator, "", body), "id")
}

// Key creates an API key in tenant as the operator and returns the key
// object and its secret.
func (c *Client) Key(tenant string, body map[string]any) (map[string]any, string) {
	c.t.Helper()
	k := c.Native(201, "POST", "/v1/api-keys", c.Operator, tenant, body)
	return k, c.id(k, "key")
}

// Role creates a role of tenant as the operator, with scopes when any are
// given, and returns its id.
func (c *Client) Role(tenant, name string, scopes ...string) string {
	c.t.Helper()
	body := map[string]any{"name": name}
	if len(scopes) > 0 {
		body["scopes"] = scopes
	}
	return c.id(c.Native(201, "POST", "/v1/roles", c.Operator, tenant, body), "id")
}

// OAuthClient creates an OAuth client in tenant as the operator and
// returns its client_id and client_secret. (It is not called Client: a
// Server embeds its *Client under that name.)
func (c *Client) OAuthClient(tenant string, body map[string]any) (id, secret string) {
	c.t.Helper()
	m := c.Native(201, "POST", "/v1/clients", c.Operator, tenant, body)
	return c.id(m, "client_id"), c.id(m, "client_secret")
}

// Token asks /oauth2/token for a client-credentials token with HTTP Basic
// client authentication and the extra parameters of form, fails the test
// unless it is granted, and returns the access token.
func (c *Client) Token(clientID, secret string, form url.Values) string {
	c.t.Helper()
	v := url.Values{"grant_type": {"client_credentials"}}
	for k, x := range form {
		v[k] = x
	}
	r := c.Form("/oauth2/token", v, clientID, secret)
	if r.Status != 200 {
		c.t.Fatalf("token for %s: status %d, want 200: %s", clientID, r.Status, r.Body)
	}
	return c.id(r.Object(c.t), "access_token")
}

// Verify asks, as the operator, whether key is good for scopes (none when
// nil) from ip (none when ""), and returns the answer.
func (c *Client) Verify(key string, scopes []string, ip string) map[string]any {
	c.t.Helper()
	body := map[string]any{"key": key}
	if scopes != nil {
		body["scopes"] = scopes
	}
	if ip != "" {
		body["ip"] = ip
	}
	return c.Native(200, "POST", "/v1/keys/verify", c.Operator, "", body)
}

// id returns the string member name of m and fails the test when there is
// none.
func (c *Client) id(m map[string]any, name string) string {
	c.t.Helper()
	s, ok := m[name].(string)
	if !ok || s == "" {
		c.t.Fatalf("answer has no string %q: %v", name, m)
	}
	return s
}
