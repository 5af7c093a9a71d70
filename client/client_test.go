package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// recorded is one request the fake server received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// fake starts a server that records each request and answers with status,
// content type and body.
func fake(t *testing.T, status int, body string) (*httptest.Server, *[]recorded) {
	t.Helper()
	var reqs []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs = append(reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(b)})
		ct := "application/json"
		if status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

const keyJSON = `{"id":"key_01","tenant_id":"ten_01","name":"ci","environment":"live","start":"kh_live_abcd",
"scopes":["payouts:write"],"role_id":null,"ips":["10.0.0.0/8"],"meta":{"team":"a"},"enabled":true,
"state":"active","expires_at":"2030-01-02T03:04:05Z","revoked_at":null,"last_used_at":null,
"creator":{"type":"operator","id":"key_00"},"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`

func TestHeaders(t *testing.T) {
	srv, reqs := fake(t, 200, `{"data":[]}`)
	c := New(srv.URL+"/", "kh_live_secret", WithTenant("ten_01"), WithHTTPClient(srv.Client()))
	if _, err := c.Roles.List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	r := (*reqs)[0]
	if r.Method != "GET" || r.Path != "/v1/roles" || r.RawQuery != "" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer kh_live_secret" {
		t.Errorf("Authorization %q", got)
	}
	if got := r.Header.Get("Keyhub-Tenant"); got != "ten_01" {
		t.Errorf("Keyhub-Tenant %q", got)
	}
	if r.Header.Get("Content-Type") != "" {
		t.Error("GET sent a Content-Type")
	}
}

func TestNoCredentialNoHeader(t *testing.T) {
	srv, reqs := fake(t, 200, `{"data":[]}`)
	c := New(srv.URL, "")
	if _, err := c.Tenants.List(context.Background(), ListOptions{Limit: 10, Cursor: "c1"}); err != nil {
		t.Fatal(err)
	}
	r := (*reqs)[0]
	if _, ok := r.Header["Authorization"]; ok {
		t.Error("sent Authorization without a key")
	}
	if _, ok := r.Header["Keyhub-Tenant"]; ok {
		t.Error("sent Keyhub-Tenant without a tenant")
	}
	if r.RawQuery != "cursor=c1&limit=10" {
		t.Errorf("query %q", r.RawQuery)
	}
}

func TestAPIKeyCreate(t *testing.T) {
	srv, reqs := fake(t, 201, strings.TrimSuffix(keyJSON, "}")+`,"key":"kh_live_SECRET"}`)
	c := New(srv.URL, "k")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	k, err := c.APIKeys.Create(context.Background(), APIKeyCreate{
		Name: "ci", Environment: "live", Scopes: []string{"payouts:write"},
		IPs: []string{"10.0.0.0/8"}, ExpiresAt: &exp, Meta: json.RawMessage(`{"team":"a"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := (*reqs)[0]
	want := `{"name":"ci","environment":"live","scopes":["payouts:write"],"ips":["10.0.0.0/8"],"expires_at":"2030-01-02T03:04:05Z","meta":{"team":"a"}}`
	if r.Method != "POST" || r.Path != "/v1/api-keys" || r.Body != want {
		t.Errorf("request %s %s %s\nwant body %s", r.Method, r.Path, r.Body, want)
	}
	if r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	if k.Key != "kh_live_SECRET" || k.ID != "key_01" || k.State != "active" || k.RoleID != "" ||
		!k.ExpiresAt.Equal(exp) || k.RevokedAt != nil || k.Creator.Type != "operator" ||
		string(k.Meta) != `{"team":"a"}` || len(k.IPs) != 1 {
		t.Errorf("decoded %+v", k)
	}
}

func TestAPIKeyUpdateEncoding(t *testing.T) {
	name, role := "new", "role_01"
	off := false
	exp := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   APIKeyUpdate
		want string
	}{
		{"Empty", APIKeyUpdate{}, `{}`},
		{"NameAndRole", APIKeyUpdate{Name: &name, RoleID: &role}, `{"name":"new","role_id":"role_01"}`},
		{"ClearRoleAndExpiry", APIKeyUpdate{ClearRole: true, ClearExpiry: true}, `{"expires_at":null,"role_id":null}`},
		{"EmptyLists", APIKeyUpdate{Scopes: []string{}, IPs: []string{}}, `{"ips":[],"scopes":[]}`},
		{"ExpiryMetaEnabled", APIKeyUpdate{ExpiresAt: &exp, Meta: json.RawMessage(`{"a":1}`), Enabled: &off},
			`{"enabled":false,"expires_at":"2031-01-01T00:00:00Z","meta":{"a":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := fake(t, 200, keyJSON)
			c := New(srv.URL, "k")
			if _, err := c.APIKeys.Update(context.Background(), "key_01", tt.in); err != nil {
				t.Fatal(err)
			}
			r := (*reqs)[0]
			if r.Method != "PATCH" || r.Path != "/v1/api-keys/key_01" || r.Body != tt.want {
				t.Errorf("got %s %s %s, want body %s", r.Method, r.Path, r.Body, tt.want)
			}
		})
	}
}

func TestAPIKeyListQueryAndAll(t *testing.T) {
	calls := 0
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Get("cursor") == "" {
			io.WriteString(w, `{"data":[`+keyJSON+`,`+keyJSON+`],"next_cursor":"c2"}`)
			return
		}
		io.WriteString(w, `{"data":[`+keyJSON+`],"next_cursor":null}`)
	}))
	defer srv.Close()
	c := New(srv.URL, "k")
	opt := APIKeyListOptions{Environment: "live", State: "active", RoleID: "role_1", Name: "c i", Limit: 2}
	n := 0
	for k, err := range c.APIKeys.All(context.Background(), opt) {
		if err != nil {
			t.Fatal(err)
		}
		if k.ID != "key_01" {
			t.Errorf("key %+v", k)
		}
		n++
	}
	if n != 3 || calls != 2 {
		t.Errorf("got %d keys in %d calls", n, calls)
	}
	if queries[0] != "environment=live&limit=2&name=c+i&role_id=role_1&state=active" {
		t.Errorf("first query %q", queries[0])
	}
	if !strings.Contains(queries[1], "cursor=c2") {
		t.Errorf("second query %q", queries[1])
	}
}

func TestPaths(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, method, path, body string
		call                     func(c *Client) error
	}{
		{"TenantCreate", "POST", "/v1/tenants", `{"name":"acme","key_prefixes":{"live":"ac_live"}}`, func(c *Client) error {
			_, err := c.Tenants.Create(ctx, TenantCreate{Name: "acme", KeyPrefixes: map[string]string{"live": "ac_live"}})
			return err
		}},
		{"TenantGet", "GET", "/v1/tenants/ten_1", "", func(c *Client) error { _, err := c.Tenants.Get(ctx, "ten_1"); return err }},
		{"TenantUpdate", "PATCH", "/v1/tenants/ten_1", `{"name":"b"}`, func(c *Client) error {
			n := "b"
			_, err := c.Tenants.Update(ctx, "ten_1", TenantUpdate{Name: &n})
			return err
		}},
		{"ScopeCreate", "POST", "/v1/scopes", `{"name":"payouts:write","description":"d"}`, func(c *Client) error {
			_, err := c.Scopes.Create(ctx, ScopeCreate{Name: "payouts:write", Description: "d"})
			return err
		}},
		{"ScopeDelete", "DELETE", "/v1/scopes/payouts:write", "", func(c *Client) error { return c.Scopes.Delete(ctx, "payouts:write") }},
		{"KeyGet", "GET", "/v1/api-keys/key_1", "", func(c *Client) error { _, err := c.APIKeys.Get(ctx, "key_1"); return err }},
		{"KeyRevoke", "DELETE", "/v1/api-keys/key_1", "", func(c *Client) error { _, err := c.APIKeys.Revoke(ctx, "key_1"); return err }},
		{"RoleCreate", "POST", "/v1/roles", `{"name":"r","scopes":[]}`, func(c *Client) error {
			_, err := c.Roles.Create(ctx, RoleCreate{Name: "r"})
			return err
		}},
		{"RoleGet", "GET", "/v1/roles/role_1", "", func(c *Client) error { _, err := c.Roles.Get(ctx, "role_1"); return err }},
		{"RoleUpdate", "PATCH", "/v1/roles/role_1", `{"description":"","scopes":["a"]}`, func(c *Client) error {
			d := ""
			_, err := c.Roles.Update(ctx, "role_1", RoleUpdate{Description: &d, Scopes: []string{"a"}})
			return err
		}},
		{"RoleDelete", "DELETE", "/v1/roles/role_1", "", func(c *Client) error { return c.Roles.Delete(ctx, "role_1") }},
		{"Verify", "POST", "/v1/keys/verify", `{"key":"kh_live_x","scopes":["a:b"],"ip":"203.0.113.7"}`, func(c *Client) error {
			_, err := c.Verify(ctx, VerifyRequest{Key: "kh_live_x", Scopes: []string{"a:b"}, IP: "203.0.113.7"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := fake(t, 200, `{}`)
			if err := tt.call(New(srv.URL, "k")); err != nil {
				t.Fatal(err)
			}
			r := (*reqs)[0]
			if r.Method != tt.method || r.Path != tt.path || r.Body != tt.body {
				t.Errorf("got %s %s %q, want %s %s %q", r.Method, r.Path, r.Body, tt.method, tt.path, tt.body)
			}
		})
	}
}

func TestAuditQuery(t *testing.T) {
	srv, reqs := fake(t, 200, `{"data":[{"id":"evt_1","tenant_id":"ten_1","actor":{"type":"api_key","id":"key_1"},
"action":"api_key.created","target_type":"api_key","target_id":"key_2","ip":"127.0.0.1","diff":{"name":"x"},
"created_at":"2025-01-01T00:00:00Z"}],"next_cursor":"n"}`)
	c := New(srv.URL, "k")
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))
	p, err := c.Audit.List(context.Background(), AuditListOptions{TargetID: "key_2", Action: "api_key.created", From: from, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if q := (*reqs)[0].RawQuery; q != "action=api_key.created&from=2024-12-31T23%3A00%3A00Z&limit=5&target_id=key_2" {
		t.Errorf("query %q", q)
	}
	if len(p.Data) != 1 || p.NextCursor != "n" || p.Data[0].Actor.ID != "key_1" || string(p.Data[0].Diff) != `{"name":"x"}` {
		t.Errorf("page %+v", p)
	}
}

func TestVerifyDecode(t *testing.T) {
	srv, _ := fake(t, 200, `{"valid":false,"code":"INSUFFICIENT_SCOPE","key":{"id":"key_1","tenant_id":"ten_1",
"name":"ci","environment":"live","scopes":["a"],"role":{"id":"role_1","name":"r"},"meta":{},"expires_at":null},"missing_scope":"b"}`)
	res, err := New(srv.URL, "k").Verify(context.Background(), VerifyRequest{Key: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid || res.Code != CodeInsufficientScope || res.Key == nil || res.Key.ID != "key_1" || res.Key.ExpiresAt != nil || res.Key.Role.ID != "role_1" || res.MissingScope != "b" {
		t.Errorf("result %+v", res)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, ct, body string
		status         int
		want           string
	}{
		{"Validation", "application/problem+json", `{"type":"about:blank","title":"Unprocessable Entity","status":422,
"detail":"request has invalid fields","code":"validation_failed",
"errors":[{"field":"scopes[0]","message":"scope \"a::b\" has an empty segment"}]}`, 422,
			`422 validation_failed: request has invalid fields: scopes[0]: scope "a::b" has an empty segment`},
		{"DetailAlreadyListsFields", "application/problem+json", `{"status":422,"code":"validation_failed",
"detail":"request has invalid fields: name: is required","errors":[{"field":"name","message":"is required"}]}`, 422,
			`422 validation_failed: request has invalid fields: name: is required`},
		{"NotFound", "application/problem+json", `{"title":"Not Found","status":404,"detail":"api key \"key_9\" not found","code":"not_found"}`, 404,
			`404 not_found: api key "key_9" not found`},
		{"TitleOnly", "application/problem+json", `{"title":"Unauthorized","status":401,"code":"unauthorized"}`, 401,
			`401 unauthorized: Unauthorized`},
		{"NotProblem", "text/plain", "bad gateway\n", 502, `502: bad gateway`},
		{"HTML", "text/html", "<html>oops</html>", 503, `503: Service Unavailable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ct)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			_, err := New(srv.URL, "k").APIKeys.Get(context.Background(), "key_9")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v", err, err)
			}
			if e.Status != tt.status || err.Error() != tt.want {
				t.Errorf("got %d %q\nwant %q", e.Status, err.Error(), tt.want)
			}
			if StatusCode(err) != tt.status {
				t.Errorf("StatusCode %d", StatusCode(err))
			}
		})
	}
}

func TestValidationFields(t *testing.T) {
	srv, _ := fake(t, 422, `{"status":422,"code":"validation_failed","detail":"request has invalid fields",
"errors":[{"field":"name","message":"is required"},{"field":"ips[1]","message":"bad"}]}`)
	_, err := New(srv.URL, "k").Roles.Get(context.Background(), "role_1")
	var e *Error
	if !errors.As(err, &e) || len(e.Errors) != 2 || e.Errors[1].Field != "ips[1]" {
		t.Fatalf("error %#v", err)
	}
	if want := "422 validation_failed: request has invalid fields: name: is required; ips[1]: bad"; err.Error() != want {
		t.Errorf("got %q", err.Error())
	}
	if !IsNotFound(&Error{Status: 404}) || IsNotFound(err) {
		t.Error("IsNotFound")
	}
}

func TestNoContent(t *testing.T) {
	srv, reqs := fake(t, 204, "")
	if err := New(srv.URL, "k").Roles.Delete(context.Background(), "role_1"); err != nil {
		t.Fatal(err)
	}
	if len(*reqs) != 1 {
		t.Fatal("no request")
	}
}

func TestContextCanceled(t *testing.T) {
	srv, _ := fake(t, 200, `{}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(srv.URL, "k").APIKeys.Get(ctx, "key_1"); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v", err)
	}
}
