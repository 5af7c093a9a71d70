package yativo_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// base is the seed's path; v1 is Yativo's real base, which serves the same.
const (
	base = "/api/business/api-keys"
	v1   = "/api/v1/business/api-keys"
)

// keyShape is the ApiKey interface; last_used_at and expires_at are
// optional and appear only when set.
var keyShape = map[string]string{
	"id": "string", "name": "string", "key_prefix": "string", "permissions": "array",
	"is_active": "boolean", "created_at": "string",
}

func with(shape map[string]string, extra ...string) map[string]string {
	m := map[string]string{}
	for k, v := range shape {
		m[k] = v
	}
	for _, e := range extra {
		m[e] = "string"
	}
	return m
}

var iso = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// yativoScopes is the document's permission table.
var yativoScopes = []string{"transactions:read", "payouts:write", "customers:read", "customers:write",
	"virtual-accounts:write", "webhooks:write"}

type env struct {
	s       *apitest.Server
	tenant  string
	auth    string
	mgmtKey []string // the management key's scopes
}

func setup(t *testing.T) *env {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.Compat = []string{"yativo"} })
	for _, sc := range yativoScopes {
		s.Native(201, "POST", "/v1/scopes", s.Operator, "", map[string]any{"name": sc})
	}
	tenant := s.Tenant("yativo business", map[string]string{"live": "yat_live"})
	scopes := []string{"read:api_keys", "create:api_keys", "delete:api_keys", "transactions:read", "payouts:write", "customers:read"}
	_, mgmt := s.Key(tenant, map[string]any{"name": "backend admin", "scopes": scopes})
	return &env{s: s, tenant: tenant, auth: "Authorization: Bearer " + mgmt, mgmtKey: scopes}
}

// success checks Yativo's success envelope — exactly status,
// status_code (the HTTP status), message and data — and returns its data.
func success(t *testing.T, r apitest.Resp) any {
	t.Helper()
	m := r.Object(t)
	apitest.Shape(t, "success envelope", m, map[string]string{"status": "string", "status_code": "number",
		"message": "string", "data": "object|array"})
	if m["status"] != "success" || m["status_code"] != float64(r.Status) || m["message"] == "" {
		t.Fatalf("not a success envelope for %d: %s", r.Status, r.Body)
	}
	return m["data"]
}

// failure checks Yativo's error envelope — status "error", status_code,
// message, and errors as a map of each bad field to its messages when
// fields are at fault — and returns it.
func failure(t *testing.T, r apitest.Resp, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	m := r.Object(t)
	shape := map[string]string{"status": "string", "status_code": "number", "message": "string"}
	if _, ok := m["errors"]; ok {
		shape["errors"] = "object"
		for f, msgs := range m["errors"].(map[string]any) {
			if l, ok := msgs.([]any); !ok || len(l) == 0 {
				t.Errorf("errors[%q] is not a list of messages: %s", f, r.Body)
			}
		}
	}
	apitest.Shape(t, "error envelope", m, shape)
	if m["status"] != "error" || m["status_code"] != float64(status) || m["message"] == "" {
		t.Errorf("not an error envelope for %d: %s", status, r.Body)
	}
	return m
}

// fieldErrors are the fields an error envelope names.
func fieldErrors(m map[string]any) map[string]any {
	f, _ := m["errors"].(map[string]any)
	return f
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestSeedExamples(t *testing.T) {
	e := setup(t)
	s := e.s

	// Create, exactly as the document's curl does.
	r := s.Must(201, "POST", base, `{
    "name": "Production Backend",
    "permissions": ["transactions:read", "payouts:write", "customers:read"]
  }`, e.auth, "Content-Type: application/json")
	k := success(t, r).(map[string]any)
	apitest.Shape(t, "create", k, with(keyShape, "key"))
	secret := k["key"].(string)
	if !strings.HasPrefix(secret, "yat_live_") || k["key_prefix"] != "yat_live" || k["is_active"] != true ||
		k["name"] != "Production Backend" || !iso.MatchString(k["created_at"].(string)) {
		t.Errorf("create: %v", k)
	}
	if p := strs(k["permissions"]); !slices.Equal(p, []string{"transactions:read", "payouts:write", "customers:read"}) {
		t.Errorf("permissions %v", p)
	}
	id := k["id"].(string)

	// List.
	lr := s.Must(200, "GET", base, nil, e.auth)
	if strings.Contains(string(lr.Body), secret) || strings.Contains(string(lr.Body), `"key"`) {
		t.Fatal("list shows a secret")
	}
	found := false
	for _, it := range success(t, lr).([]any) {
		m := it.(map[string]any)
		apitest.Shape(t, "list item", m, keyShape)
		if m["id"] == id {
			found = true
			if m["key_prefix"] != "yat_live" || m["is_active"] != true {
				t.Errorf("listed: %v", m)
			}
		}
	}
	if !found {
		t.Fatalf("created key not listed: %s", lr.Body)
	}

	// Natively and through verify.
	native := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, e.tenant, nil)
	if native["state"] != "active" || native["environment"] != "live" {
		t.Errorf("native: %v", native)
	}
	v := s.Verify(secret, nil, "")
	vs := strs(v["key"].(map[string]any)["scopes"])
	slices.Sort(vs)
	if v["code"] != "VALID" || !slices.Equal(vs, []string{"customers:read", "payouts:write", "transactions:read"}) {
		t.Errorf("verify: %v", v)
	}

	// Revoke, exactly as the document's curl does (with our id).
	d := success(t, s.Must(200, "DELETE", base+"/"+id, nil, e.auth)).(map[string]any)
	apitest.Shape(t, "delete", d, keyShape)
	if d["is_active"] != false {
		t.Errorf("revoked key active: %v", d)
	}
	if v := s.Verify(secret, nil, ""); v["code"] != "REVOKED" {
		t.Errorf("verify after revoke: %v", v)
	}
	if st := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, e.tenant, nil)["state"]; st != "revoked" {
		t.Errorf("native after revoke: %v", st)
	}
	still := false
	for _, it := range success(t, s.Must(200, "GET", base, nil, e.auth)).([]any) {
		if m := it.(map[string]any); m["id"] == id {
			still = m["is_active"] == false
		}
	}
	if !still {
		t.Error("revoked key not listed as inactive")
	}
}

func TestCreateOptions(t *testing.T) {
	e := setup(t)
	s := e.s
	// Omitted permissions: the caller's scopes but its management ones.
	k := success(t, s.Must(201, "POST", base, `{"name":"all"}`, e.auth)).(map[string]any)
	got := strs(k["permissions"])
	slices.Sort(got)
	if want := []string{"customers:read", "payouts:write", "transactions:read"}; !slices.Equal(got, want) {
		t.Errorf("omitted permissions gave %v, want %v", got, want)
	}
	// Wildcards that could match a management scope are left out too.
	s.Native(201, "POST", "/v1/scopes", s.Operator, "", map[string]any{"name": "read:reports"})
	_, wide := s.Key(e.tenant, map[string]any{"name": "wide", "scopes": []string{"create:api_keys", "read:*", "customers:*", "*"}})
	k = success(t, s.Must(201, "POST", v1, `{"name":"by omission"}`, "Authorization: Bearer "+wide)).(map[string]any)
	if p := strs(k["permissions"]); !slices.Equal(p, []string{"customers:*"}) {
		t.Errorf("omitted permissions of a wildcard key gave %v, want [customers:*]", p)
	}
	// An operator holds *: a key by omission holds nothing.
	k = success(t, s.Must(201, "POST", base, `{"name":"op"}`, "Authorization: Bearer "+s.Operator, "Keyhub-Tenant: "+e.tenant)).(map[string]any)
	if p := k["permissions"].([]any); len(p) != 0 {
		t.Errorf("operator's omitted permissions gave %v", p)
	}
	// key_prefix is the key's first 8 characters, whatever its prefix.
	khTenant := s.Tenant("kh business", nil)
	_, kh := s.Key(khTenant, map[string]any{"name": "m", "scopes": []string{"create:api_keys", "read:api_keys"}})
	k = success(t, s.Must(201, "POST", v1, `{"name":"kh"}`, "Authorization: Bearer "+kh)).(map[string]any)
	if k["key_prefix"] != "kh_live_" || k["key"].(string)[:8] != k["key_prefix"] {
		t.Errorf("key_prefix %v of key %v", k["key_prefix"], k["key"])
	}
	for _, it := range success(t, s.Must(200, "GET", v1, nil, "Authorization: Bearer "+kh)).([]any) {
		if m := it.(map[string]any); m["id"] == k["id"] && m["key_prefix"] != "kh_live_" {
			t.Errorf("listed key_prefix %v", m["key_prefix"])
		}
	}
	// Explicitly none.
	if p := success(t, s.Must(201, "POST", base, `{"name":"none","permissions":[]}`, e.auth)).(map[string]any)["permissions"]; len(p.([]any)) != 0 {
		t.Errorf("empty permissions gave %v", p)
	}
	// ISO 8601 expiry, as a date or a time.
	for in, out := range map[string]string{"2031-05-06": "2031-05-06T00:00:00Z", "2031-05-06T07:08:09+02:00": "2031-05-06T05:08:09Z"} {
		k := success(t, s.Must(201, "POST", base, `{"name":"exp","expires_at":"`+in+`"}`, e.auth)).(map[string]any)
		apitest.Shape(t, "expiring", k, with(keyShape, "key", "expires_at"))
		if k["expires_at"] != out {
			t.Errorf("expires_at %q gave %v, want %s", in, k["expires_at"], out)
		}
	}
}

func TestErrors(t *testing.T) {
	e := setup(t)
	s := e.s
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"NameRequired", `{"permissions":["transactions:read"]}`, 422, "name"},
		{"NotInCatalogue", `{"name":"x","permissions":["refunds:write"]}`, 422, "permissions[0]"},
		{"BadScope", `{"name":"x","permissions":["a b"]}`, 422, "permissions[0]"},
		{"PastExpiry", `{"name":"x","expires_at":"2001-01-01"}`, 422, "expires_at"},
		{"BadExpiry", `{"name":"x","expires_at":"soon"}`, 422, "expires_at"},
		{"Escalation", `{"name":"x","permissions":["webhooks:write"]}`, 403, ""},
		{"UnknownField", `{"name":"x","environment":"test"}`, 400, "environment"},
		// scopes is what permissions are kept as, but the client sent
		// scopes: the error names what it sent.
		{"UnknownFieldScopes", `{"name":"x","scopes":["a"]}`, 400, "scopes"},
		{"WrongType", `{"name":"x","permissions":"transactions:read"}`, 400, "permissions"},
		{"Malformed", `{"name"`, 400, ""},
		{"Empty", ``, 400, ""},
		{"TooLarge", apitest.BigBody(), 413, ""},
	}
	var scenarios []apitest.Scenario
	for _, path := range []string{base, v1} {
		for _, c := range cases {
			scenarios = append(scenarios, apitest.Scenario{Name: c.name + path, Method: "POST", URL: path,
				Headers: apitest.Headers(e.auth), Body: c.body, Status: c.status,
				Check: func(t *testing.T, r apitest.Resp) {
					m := failure(t, r, c.status)
					if c.field != "" {
						if _, ok := fieldErrors(m)[c.field]; !ok || len(fieldErrors(m)) != 1 {
							t.Errorf("errors do not name exactly %s: %s", c.field, r.Body)
						}
					}
					if c.status == 422 && m["message"] != "Validation failed" {
						t.Errorf("422 message %q", m["message"])
					}
				}})
		}
	}
	s.Run(t, scenarios)
	t.Run("UnknownPaths", func(t *testing.T) {
		for _, p := range []string{"/api/v1/business/transactions/index", "/api/v1/nothing", "/api/business/other"} {
			m := failure(t, s.Do("GET", p, nil, e.auth), 404)
			if _, ok := m["errors"]; ok {
				t.Errorf("%s: %v", p, m)
			}
		}
	})
	t.Run("Auth", func(t *testing.T) {
		failure(t, s.Do("GET", base, nil), 401)
		failure(t, s.Do("GET", v1, nil), 401)
		failure(t, s.Do("GET", base, nil, "Authorization: Bearer YOUR_ACCESS_TOKEN"), 401)
		_, ro := s.Key(e.tenant, map[string]any{"name": "ro", "scopes": []string{"read:api_keys"}})
		failure(t, s.Do("POST", base, `{"name":"x"}`, "Authorization: Bearer "+ro), 403)
		failure(t, s.Do("DELETE", base+"/key_01HX9KZMB3F7VNQP8R2WDGT4E6", nil, "Authorization: Bearer "+ro), 403)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		other := s.Tenant("other business", map[string]string{"live": "yat_live"})
		k, secret := s.Key(other, map[string]any{"name": "theirs"})
		id := k["id"].(string)
		failure(t, s.Do("DELETE", base+"/"+id, nil, e.auth), 404)
		failure(t, s.Do("DELETE", base+"/key_01HX9KZMB3F7VNQP8R2WDGT4E6", nil, e.auth), 404)
		if st := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, other, nil)["state"]; st != "active" {
			t.Errorf("other tenant's key changed: %v", st)
		}
		if v := s.Verify(secret, nil, ""); v["code"] != "VALID" {
			t.Errorf("other tenant's key: %v", v)
		}
		if strings.Contains(string(s.Must(200, "GET", base, nil, e.auth).Body), id) {
			t.Error("other tenant's key listed")
		}
	})
	t.Run("MethodNotAllowed", func(t *testing.T) {
		for _, p := range []string{base, v1} {
			r := s.Do("GET", p+"/key_01HX9KZMB3F7VNQP8R2WDGT4E6", nil, e.auth)
			failure(t, r, 405)
			if r.Header.Get("Allow") != "DELETE" {
				t.Errorf("Allow %q", r.Header.Get("Allow"))
			}
		}
	})
	if strings.Contains(s.Log.String(), "level=ERROR") {
		t.Errorf("server logged errors:\n%s", s.Log)
	}
}
