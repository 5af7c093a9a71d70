package yaxi_test

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// keyShape is the example response of the List endpoint: exactly these
// members, of these types.
var keyShape = map[string]string{
	"id": "string", "name": "string", "environment": "string", "hostSoftware": "string",
	"redirectScraping": "boolean", "servicePermissions": "null|object|array|string|number|boolean",
	"expiresAt": "string|null", "tenantId": "string", "createdAt": "string", "updatedAt": "string",
}

// createdShape is the example response of Create: the key and its secret.
var createdShape = func() map[string]string {
	m := map[string]string{"secret": "string"}
	for k, v := range keyShape {
		m[k] = v
	}
	return m
}()

var rfc3339Seconds = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// yaxiKeyID is the form of YAXI's key ids.
var yaxiKeyID = regexp.MustCompile(`^api-key-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// yaxiTenant is a tenant id as YAXI shows it.
func yaxiTenant(id string) string {
	return keyhub.UUIDForm(keyhub.UUIDPrefixTenant, keyhub.PrefixTenant, id)
}

// nativeID is keyhub's id of a key YAXI names.
func nativeID(t *testing.T, id string) string {
	t.Helper()
	n, ok := keyhub.ParseUUIDForm(keyhub.UUIDPrefixAPIKey, keyhub.PrefixAPIKey, id)
	if !ok {
		t.Fatalf("%q is not a YAXI key id", id)
	}
	return n
}

// mint makes the ticket a YAXI customer's backend makes with its key: an
// HS256 JWT with the key's id as kid, exp in ttl seconds and data, signed
// with the secret's bytes, by a JOSE library that is not keyhub's.
func mint(t *testing.T, id, secret string, ttl int64) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	h.Set("kid", id)
	payload, _ := json.Marshal(map[string]any{"exp": time.Now().Unix() + ttl, "data": map[string]any{"ref": "42"}})
	out, err := jws.Sign(payload, jws.WithKey(jwa.HS256(), key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// verifyTicket asks keyhub about a ticket, as the operator.
func verifyTicket(t *testing.T, s *apitest.Server, ticket string) map[string]any {
	t.Helper()
	return s.Native(200, "POST", "/v1/tickets/verify", s.Operator, "", map[string]any{"ticket": ticket})
}

// setup starts a server with a tenant and a management key holding the
// three scopes the document's token carries.
func setup(t *testing.T) (s *apitest.Server, tenant, auth string) {
	s = apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.Compat = []string{"yaxi"} })
	tenant = s.Tenant("yaxi customer", nil)
	_, mgmt := s.Key(tenant, map[string]any{"name": "hub client",
		"scopes": []string{"read:api_keys", "create:api_keys", "delete:api_keys"}})
	return s, tenant, "Authorization: Bearer " + mgmt
}

// exampleRequest is the document's Create example, byte for byte.
const exampleRequest = `{
"name": "my api key",
"environment": "Production",
"hostSoftware": "Generic",
"redirectScraping": false
}`

func TestSeedExamples(t *testing.T) {
	s, tenant, auth := setup(t)

	created := s.Must(201, "POST", "/api/api-keys", exampleRequest, auth, "Content-Type: application/json").Object(t)
	apitest.Shape(t, "create", created, createdShape)
	want := map[string]any{"name": "my api key", "environment": "Production", "hostSoftware": "Generic",
		"redirectScraping": false, "servicePermissions": nil, "expiresAt": nil, "tenantId": yaxiTenant(tenant)}
	for k, v := range want {
		if created[k] != v {
			t.Errorf("create: %s = %v, want %v", k, created[k], v)
		}
	}
	for _, f := range []string{"createdAt", "updatedAt"} {
		if !rfc3339Seconds.MatchString(created[f].(string)) {
			t.Errorf("create: %s = %v, want RFC 3339 like 2026-01-01T00:00:00Z", f, created[f])
		}
	}
	id, secret := created["id"].(string), created["secret"].(string)
	if !yaxiKeyID.MatchString(id) {
		t.Errorf("id %q is not YAXI's api-key-<uuid>", id)
	}
	if raw, err := base64.StdEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
		t.Errorf("secret %q is not the base64 of 32 bytes, as YAXI's are", secret)
	}
	nid := nativeID(t, id)

	list := s.Must(200, "GET", "/api/tenant/api-keys", nil, auth)
	if strings.Contains(string(list.Body), secret) || strings.Contains(string(list.Body), `"secret"`) {
		t.Fatalf("list shows a secret: %s", list.Body)
	}
	found := false
	for _, it := range list.Array(t) {
		k := it.(map[string]any)
		apitest.Shape(t, "list item", k, keyShape)
		if k["id"] == id {
			found = true
			for f, v := range want {
				if k[f] != v {
					t.Errorf("list: %s = %v, want %v", f, k[f], v)
				}
			}
		}
	}
	if !found {
		t.Fatalf("created key %s not listed: %s", id, list.Body)
	}

	for _, p := range []string{"/api/tenant/api-keys/", "/api/api-keys/"} {
		g := s.Must(200, "GET", p+id, nil, auth)
		if strings.Contains(string(g.Body), secret) {
			t.Fatalf("get shows the secret")
		}
		apitest.Shape(t, "get", g.Object(t), keyShape)
	}

	// keyhub's own id reads the same key.
	if g := s.Must(200, "GET", "/api/api-keys/"+nid, nil, auth).Object(t); g["id"] != id {
		t.Errorf("get by keyhub id: %v", g)
	}

	// The same key, natively and through a ticket, with its YAXI attributes.
	native := s.Native(200, "GET", "/v1/api-keys/"+nid, s.Operator, tenant, nil)
	if native["state"] != "active" || native["environment"] != "live" || native["kind"] != "signing" {
		t.Errorf("native view: %v", native)
	}
	v := verifyTicket(t, s, mint(t, id, secret, 60))
	if v["valid"] != true || v["code"] != "VALID" {
		t.Fatalf("ticket: %v", v)
	}
	meta := v["key"].(map[string]any)["meta"].(map[string]any)
	if meta["hostSoftware"] != "Generic" || meta["redirectScraping"] != false || meta["servicePermissions"] != nil {
		t.Errorf("verify meta: %v", meta)
	}

	del := s.Must(200, "DELETE", "/api/api-keys/"+id, nil, auth).Object(t)
	apitest.Shape(t, "delete", del, keyShape)
	if v := verifyTicket(t, s, mint(t, id, secret, 60)); v["code"] != "REVOKED" {
		t.Fatalf("ticket after delete: %v", v)
	}
	if st := s.Native(200, "GET", "/v1/api-keys/"+nid, s.Operator, tenant, nil)["state"]; st != "revoked" {
		t.Errorf("native state after delete: %v", st)
	}
	errShape(t, s.Must(404, "GET", "/api/tenant/api-keys/"+id, nil, auth), "not_found")
	if strings.Contains(string(s.Must(200, "GET", "/api/tenant/api-keys", nil, auth).Body), id) {
		t.Error("a deleted key is still listed")
	}
	// YAXI deletes keys: once deleted, the key is gone for DELETE as for
	// GET, on both paths and by either id.
	for _, p := range []string{"/api/tenant/api-keys/", "/api/api-keys/"} {
		errShape(t, s.Must(404, "GET", p+id, nil, auth), "not_found")
		errShape(t, s.Must(404, "DELETE", p+id, nil, auth), "not_found")
		errShape(t, s.Must(404, "DELETE", p+nid, nil, auth), "not_found")
	}
}

func TestRoundTrip(t *testing.T) {
	s, tenant, auth := setup(t)
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	body := `{"name":"sandbox","environment":"Sandbox","hostSoftware":"SAP","redirectScraping":true,
		"servicePermissions":{"accounts":["read"],"n":1},"expiresAt":"` + exp + `"}`
	k := s.Must(201, "POST", "/api/api-keys", body, auth).Object(t)
	if k["environment"] != "Sandbox" || k["hostSoftware"] != "SAP" || k["redirectScraping"] != true || k["expiresAt"] != exp {
		t.Errorf("create: %v", k)
	}
	if env := s.Native(200, "GET", "/v1/api-keys/"+nativeID(t, k["id"].(string)), s.Operator, tenant, nil)["environment"]; env != "test" {
		t.Errorf("Sandbox key is in environment %v, not test", env)
	}
	g := s.Must(200, "GET", "/api/api-keys/"+k["id"].(string), nil, auth).Object(t)
	sp, _ := json.Marshal(g["servicePermissions"])
	if string(sp) != `{"accounts":["read"],"n":1}` || g["environment"] != "Sandbox" || g["hostSoftware"] != "SAP" {
		t.Errorf("get: %v", g)
	}
	meta := verifyTicket(t, s, mint(t, k["id"].(string), k["secret"].(string), 60))["key"].(map[string]any)["meta"].(map[string]any)
	if meta["hostSoftware"] != "SAP" || meta["redirectScraping"] != true {
		t.Errorf("verify meta: %v", meta)
	}
	// Defaults when the optional fields are left out.
	d := s.Must(201, "POST", "/api/api-keys", `{"name":"bare"}`, auth).Object(t)
	if d["environment"] != "Production" || d["hostSoftware"] != "Generic" || d["redirectScraping"] != false || d["servicePermissions"] != nil {
		t.Errorf("defaults: %v", d)
	}
}

// errShape checks an error answer's format and code.
func errShape(t *testing.T, r apitest.Resp, code string) map[string]any {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	e := r.Object(t)
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error without message: %s", r.Body)
	}
	if e["error"] != code {
		t.Errorf("error code %v, want %s: %s", e["error"], code, r.Body)
	}
	return e
}

func fieldNamed(e map[string]any, name string) bool {
	fs, _ := e["fields"].([]any)
	for _, f := range fs {
		if f.(map[string]any)["field"] == name {
			return true
		}
	}
	return false
}

func TestErrors(t *testing.T) {
	s, tenant, auth := setup(t)
	cases := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"UnknownEnvironment", `{"name":"x","environment":"Staging"}`, 422, "validation_failed", "environment"},
		{"NativeEnvironmentName", `{"name":"x","environment":"live"}`, 422, "validation_failed", "environment"},
		{"NameRequired", `{"environment":"Production"}`, 422, "validation_failed", "name"},
		{"PastExpiry", `{"name":"x","expiresAt":"2001-01-01T00:00:00Z"}`, 422, "validation_failed", "expiresAt"},
		{"BadExpiry", `{"name":"x","expiresAt":"tomorrow"}`, 422, "validation_failed", "expiresAt"},
		{"UnknownField", `{"name":"x","scopes":["a"]}`, 400, "unknown_field", "scopes"},
		// meta is what servicePermissions is kept in, but the client sent
		// meta: the error names what it sent.
		{"UnknownFieldMeta", `{"name":"x","meta":{}}`, 400, "unknown_field", "meta"},
		{"UnknownFieldExpires", `{"name":"x","expires_at":"2030-01-01T00:00:00Z"}`, 400, "unknown_field", "expires_at"},
		{"WrongType", `{"name":"x","redirectScraping":"yes"}`, 400, "invalid_type", "redirectScraping"},
		{"WrongTypeName", `{"name":5}`, 400, "invalid_type", "name"},
		{"Malformed", `{"name":`, 400, "malformed_json", ""},
		{"Trailing", `{"name":"x"} {}`, 400, "malformed_json", ""},
		{"Empty", ``, 400, "body_required", ""},
		{"Array", `[]`, 400, "invalid_type", ""},
		{"TooLarge", apitest.BigBody(), 413, "body_too_large", ""},
		{"MetaTooLarge", `{"name":"x","servicePermissions":"` + strings.Repeat("p", 9000) + `"}`, 422, "validation_failed", "servicePermissions"},
	}
	var scenarios []apitest.Scenario
	for _, c := range cases {
		scenarios = append(scenarios, apitest.Scenario{Name: c.name, Method: "POST", URL: "/api/api-keys",
			Headers: apitest.Headers(auth), Body: c.body, Status: c.status,
			Check: func(t *testing.T, r apitest.Resp) {
				e := errShape(t, r, c.code)
				if c.field != "" && !fieldNamed(e, c.field) {
					t.Errorf("error does not name %s: %s", c.field, r.Body)
				}
			}})
	}
	s.Run(t, scenarios)

	t.Run("Unauthenticated", func(t *testing.T) {
		r := s.Must(401, "GET", "/api/tenant/api-keys", nil)
		errShape(t, r, "unauthenticated")
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		errShape(t, s.Must(401, "GET", "/api/tenant/api-keys", nil, "Authorization: Bearer kh_live_nope"), "invalid_token")
	})
	t.Run("InsufficientScope", func(t *testing.T) {
		_, ro := s.Key(tenant, map[string]any{"name": "reader", "scopes": []string{"read:api_keys"}})
		e := errShape(t, s.Must(403, "POST", "/api/api-keys", exampleRequest, "Authorization: Bearer "+ro), "insufficient_scope")
		if e["scope"] != "create:api_keys" {
			t.Errorf("scope %v", e["scope"])
		}
		errShape(t, s.Must(403, "DELETE", "/api/api-keys/key_01HX9KZMB3F7VNQP8R2WDGT4E6", nil, "Authorization: Bearer "+ro), "insufficient_scope")
	})
	t.Run("OtherTenant", func(t *testing.T) {
		other := s.Tenant("other", nil)
		k, secret := s.Key(other, map[string]any{"name": "theirs"})
		id := k["id"].(string)
		for _, p := range []string{"/api/tenant/api-keys/", "/api/api-keys/"} {
			errShape(t, s.Must(404, "GET", p+id, nil, auth), "not_found")
			errShape(t, s.Must(404, "DELETE", p+id, nil, auth), "not_found")
		}
		errShape(t, s.Must(404, "GET", "/api/api-keys/not-an-id", nil, auth), "not_found")
		if st := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, other, nil)["state"]; st != "active" {
			t.Errorf("other tenant's key changed: %v", st)
		}
		if v := s.Verify(secret, nil, ""); v["code"] != "VALID" {
			t.Errorf("other tenant's key: %v", v)
		}
		if strings.Contains(string(s.Must(200, "GET", "/api/tenant/api-keys", nil, auth).Body), id) {
			t.Error("other tenant's key listed")
		}
	})
	t.Run("MethodNotAllowed", func(t *testing.T) {
		r := s.Must(405, "PUT", "/api/api-keys", `{}`, auth)
		errShape(t, r, "method_not_allowed")
		if r.Header.Get("Allow") != "POST" {
			t.Errorf("Allow %q", r.Header.Get("Allow"))
		}
	})
	t.Run("OperatorNamesTenant", func(t *testing.T) {
		errShape(t, s.Must(400, "GET", "/api/tenant/api-keys", nil, "Authorization: Bearer "+s.Operator), "tenant_required")
		a := s.Must(200, "GET", "/api/tenant/api-keys", nil, "Authorization: Bearer "+s.Operator, "Keyhub-Tenant: "+tenant).Array(t)
		if len(a) == 0 {
			t.Error("operator sees no keys of the tenant")
		}
	})
	if strings.Contains(s.Log.String(), "level=ERROR") {
		t.Errorf("server logged errors:\n%s", s.Log)
	}
}
