package cycle_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

const base = "/v1/hubs/current/api-keys"

// keyShape is Cycle's ApiKey: secret is always there, the key in a
// create's answer and its display hint everywhere else.
var keyShape = map[string]string{
	"id": "string", "hub_id": "string", "name": "string", "creator": "object", "secret": "string",
	"role_id": "string", "ips": "array", "state": "object", "events": "object",
}

var createdShape = keyShape

type env struct {
	t      *testing.T
	s      *apitest.Server
	hub    string
	role   string
	auth   []string // Authorization and X-Hub-Id
	secret string   // of the management key
}

// setup starts a server with the Cycle surface and a hub; every answer of
// the surface the test receives is validated against Cycle's description.
func setup(t *testing.T) *env {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.Compat = []string{"cycle"} })
	s.HTTP = &http.Client{Transport: newSpecChecker(t)}
	hub := s.Tenant("cycle hub", nil)
	role := s.Role(hub, "deployers", "servers-view", "servers-manage")
	_, mgmt := s.Key(hub, map[string]any{"name": "hub admin", "scopes": []string{
		"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys", "read:roles", "servers-view", "servers-manage"}})
	return &env{t: t, s: s, hub: hub, role: role, secret: mgmt,
		auth: []string{"Authorization: Bearer " + mgmt, "X-Hub-Id: " + hub}}
}

func (e *env) do(want int, method, path string, body any, extra ...string) map[string]any {
	e.t.Helper()
	return e.s.Must(want, method, path, body, append(append([]string{}, e.auth...), extra...)...).Object(e.t)
}

// checkKey checks a key's shape and nested objects.
func checkKey(t *testing.T, what string, k map[string]any, shape map[string]string) {
	t.Helper()
	apitest.Shape(t, what, k, shape)
	apitest.Shape(t, what+".creator", k["creator"].(map[string]any), map[string]string{"id": "string", "type": "string"})
	apitest.Shape(t, what+".state", k["state"].(map[string]any), map[string]string{"current": "string", "changed": "string"})
	apitest.Shape(t, what+".events", k["events"].(map[string]any),
		map[string]string{"created": "string", "updated": "string", "deleted": "string"})
}

// errOf checks Cycle's error envelope and returns the error object.
func errOf(t *testing.T, r apitest.Resp, status int, code string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	m := r.Object(t)
	apitest.Shape(t, "error envelope", m, map[string]string{"error": "object", "data": "null"})
	e := m["error"].(map[string]any)
	if e["status"] != float64(status) || e["code"] != code {
		t.Errorf("error status/code %v %v, want %d %s: %s", e["status"], e["code"], status, code, r.Body)
	}
	if x, ok := e["extra"].(map[string]any); ok {
		if _, cap := x["capability"]; len(x) != 1 || !cap {
			t.Errorf("extra holds more than Cycle's capability: %v", x)
		}
	}
	for _, f := range []string{"title", "detail"} {
		if s, _ := e[f].(string); s == "" {
			t.Errorf("error without %s: %s", f, r.Body)
		}
	}
	return e
}

func TestSeedExamples(t *testing.T) {
	e := setup(t)
	s := e.s

	// Create: the document's sample, with its objectid role swapped for a
	// keyhub role (the sample's id is refused by name, see TestErrors).
	created := e.do(201, "POST", base, `{"name": "string", "role_id": "`+e.role+`", "ips": []}`,
		"Content-Type: application/json")
	apitest.Shape(t, "create", created, map[string]string{"data": "object"})
	k := created["data"].(map[string]any)
	checkKey(t, "create", k, createdShape)
	if k["name"] != "string" || k["role_id"] != e.role || k["hub_id"] != e.hub || k["state"].(map[string]any)["current"] != "live" {
		t.Errorf("create: %v", k)
	}
	id, secret := k["id"].(string), k["secret"].(string)
	if !strings.HasPrefix(secret, "kh_live_") || len(k["ips"].([]any)) != 0 || k["creator"].(map[string]any)["type"] != "api-key" {
		t.Errorf("create: secret %q, ips %v, creator %v", secret, k["ips"], k["creator"])
	}
	hint := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, e.hub, nil)["start"].(string)

	// List: secret is the display hint, never the secret.
	r := s.Must(200, "GET", base, nil, e.auth...)
	if strings.Contains(string(r.Body), secret) || !strings.Contains(string(r.Body), `"secret":"`+hint+`"`) {
		t.Fatalf("list shows %s, not the hint %s: %s", secret, hint, r.Body)
	}
	list := r.Object(t)
	apitest.Shape(t, "list", list, map[string]string{"data": "array"})
	for _, it := range list["data"].([]any) {
		checkKey(t, "list item", it.(map[string]any), keyShape)
	}

	// Get, with and without include=roles.
	gr := s.Must(200, "GET", base+"/"+id, nil, e.auth...)
	if strings.Contains(string(gr.Body), secret) {
		t.Fatal("get shows the secret")
	}
	g := gr.Object(t)
	apitest.Shape(t, "get", g, map[string]string{"data": "object", "includes": "object"})
	checkKey(t, "get", g["data"].(map[string]any), keyShape)
	g = e.do(200, "GET", base+"/"+id+"?include=roles", nil)
	roles := g["includes"].(map[string]any)["roles"].(map[string]any)
	role, ok := roles[e.role].(map[string]any)
	if !ok || role["id"] != e.role || role["name"] != "deployers" || role["hub_id"] != e.hub {
		t.Fatalf("includes: %v", g["includes"])
	}
	spec := role["capabilities"].(map[string]any)["specific"].([]any)
	if len(spec) != 2 || spec[0] != "servers-manage" || spec[1] != "servers-view" && spec[0] != "servers-view" {
		t.Errorf("role capabilities: %v", role["capabilities"])
	}

	// The same key natively and through verify.
	native := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, e.hub, nil)
	if native["state"] != "active" || native["role_id"] != e.role {
		t.Errorf("native: %v", native)
	}
	if v := s.Verify(secret, nil, ""); v["code"] != "VALID" || v["key"].(map[string]any)["role"].(map[string]any)["id"] != e.role {
		t.Errorf("verify: %v", v)
	}

	// Update: the document's sample, with a keyhub role.
	role2 := s.Role(e.hub, "readers", "servers-view")
	u := e.do(200, "PATCH", base+"/"+id, `{"name": "renamed", "role_id": "`+role2+`", "ips": ["203.0.113.7", "10.0.0.0/8"]}`)
	apitest.Shape(t, "update", u, map[string]string{"data": "object"})
	d := u["data"].(map[string]any)
	checkKey(t, "update", d, keyShape)
	ips := d["ips"].([]any)
	if d["name"] != "renamed" || d["role_id"] != role2 || len(ips) != 2 || ips[0] != "203.0.113.7" || ips[1] != "10.0.0.0/8" {
		t.Errorf("update: %v", d)
	}
	if v := s.Verify(secret, nil, ""); v["key"].(map[string]any)["role"].(map[string]any)["id"] != role2 {
		t.Errorf("verify after update: %v", v)
	}

	// Delete: soft, answered with the deleted key.
	del := e.do(200, "DELETE", base+"/"+id, nil)
	apitest.Shape(t, "delete", del, map[string]string{"data": "object"})
	dk := del["data"].(map[string]any)
	if dk["state"].(map[string]any)["current"] != "deleted" ||
		strings.HasPrefix(dk["events"].(map[string]any)["deleted"].(string), "0001") {
		t.Errorf("delete: %v", dk)
	}
	if v := s.Verify(secret, nil, ""); v["code"] != "REVOKED" {
		t.Errorf("verify after delete: %v", v)
	}
	if st := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, e.hub, nil)["state"]; st != "revoked" {
		t.Errorf("native after delete: %v", st)
	}
	if c := e.do(200, "GET", base+"/"+id, nil)["data"].(map[string]any)["state"].(map[string]any)["current"]; c != "deleted" {
		t.Errorf("get after delete: %v", c)
	}
	errOf(t, s.Do("PATCH", base+"/"+id, `{"name":"x"}`, e.auth...), 403, "403.invalid-state")
}

func TestList(t *testing.T) {
	e := setup(t)
	ids := map[string]string{}
	for _, n := range []string{"alpha", "Beta", "gamma", "delta"} {
		// Ids order by millisecond; keep creations apart so they sort.
		time.Sleep(2 * time.Millisecond)
		ids[n] = e.do(201, "POST", base, map[string]any{"name": n, "role_id": e.role})["data"].(map[string]any)["id"].(string)
	}
	e.do(200, "DELETE", base+"/"+ids["delta"], nil)
	names := func(q string) string {
		t.Helper()
		var out []string
		for _, it := range e.do(200, "GET", base+q, nil)["data"].([]any) {
			out = append(out, it.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	cases := map[string]string{
		"?sort=name":            "alpha,Beta,delta,gamma,hub admin",
		"?sort=-name":           "hub admin,gamma,delta,Beta,alpha",
		"?sort=-events.created": "delta,gamma,Beta,alpha,hub admin",
		"?sort=events.updated,-id&filter[state]=live":    "hub admin,alpha,Beta,gamma",
		"?filter[state]=live&sort=-name":                 "hub admin,gamma,Beta,alpha",
		"?sort=id":                                       "hub admin,alpha,Beta,gamma,delta",
		"?filter[search]=ET&sort=name":                   "Beta",
		"?filter[state]=deleted":                         "delta",
		"?filter%5Bstate%5D=live&sort=name":              "alpha,Beta,gamma,hub admin",
		"?sort=name&page[size]=2&page[number]=2":         "delta,gamma",
		"?sort=name&page%5Bsize%5D=2&page%5Bnumber%5D=3": "hub admin",
		"?sort=name&page[size]=2&page[number]=9":         "",
		"?sort=-name&sort=id&page[size]=100":             "hub admin,gamma,delta,Beta,alpha",
	}
	for q, want := range cases {
		if got := names(q); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	inc := e.do(200, "GET", base+"?include=roles", nil)
	if _, ok := inc["includes"].(map[string]any)["roles"].(map[string]any)[e.role]; !ok {
		t.Errorf("list includes: %v", inc["includes"])
	}
	for _, q := range []string{"?sort=bogus", "?page[size]=101", "?page[size]=0", "?page[number]=x",
		"?filter[state]=active", "?filter[bogus]=1", "?include=creators"} {
		errOf(t, e.s.Do("GET", base+q, nil, e.auth...), 422, "422.invalid-argument")
	}
	// Twenty to a page by default.
	for i := range 20 {
		e.do(201, "POST", base, map[string]any{"name": "k" + string(rune('a'+i)), "role_id": e.role})
	}
	if n := len(e.do(200, "GET", base, nil)["data"].([]any)); n != 20 {
		t.Errorf("default page holds %d", n)
	}
}

// TestInactiveState shows keys disabled natively or expired as Cycle's
// "inactive", listed by neither the live nor the deleted filter.
func TestInactiveState(t *testing.T) {
	e := setup(t)
	id := e.do(201, "POST", base, map[string]any{"name": "paused", "role_id": e.role})["data"].(map[string]any)["id"].(string)
	e.s.Native(200, "PATCH", "/v1/api-keys/"+id, e.s.Operator, e.hub, map[string]any{"enabled": false})
	k := e.do(200, "GET", base+"/"+id, nil)["data"].(map[string]any)
	if k["state"].(map[string]any)["current"] != "inactive" {
		t.Errorf("disabled key: %v", k)
	}
	for _, f := range []string{"live", "deleted"} {
		if n := len(e.do(200, "GET", base+"?filter[state]="+f+"&filter[search]=paus", nil)["data"].([]any)); n != 0 {
			t.Errorf("%s filter found %d disabled keys", f, n)
		}
	}
	// A key of no role (made natively) shows role_id "".
	nk, _ := e.s.Key(e.hub, map[string]any{"name": "roleless"})
	if k := e.do(200, "GET", base+"/"+nk["id"].(string), nil)["data"].(map[string]any); k["role_id"] != "" {
		t.Errorf("roleless key: %v", k)
	}
}
