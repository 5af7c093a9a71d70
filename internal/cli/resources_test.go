package cli

import (
	"strings"
	"testing"
)

const tenantJSON = `{"id":"ten_01","name":"acme","key_prefixes":{"test":"ac_test","live":"ac_live"},
"created_at":"2025-06-01T12:00:00Z","updated_at":"2025-06-01T12:00:00Z"}`

const roleJSON = `{"id":"role_01","tenant_id":"ten_01","name":"payouts","description":"","scopes":["payouts:read","payouts:write"],
"created_at":"2025-06-01T12:00:00Z","updated_at":"2025-06-01T12:00:00Z"}`

const eventJSON = `{"id":"evt_01","tenant_id":"ten_01","actor":{"type":"api_key","id":"key_00"},"action":"api_key.created",
"target_type":"api_key","target_id":"key_01","ip":"127.0.0.1","diff":{"name":[null,"ci"]},"created_at":"2025-06-01T12:00:00Z"}`

func TestTenants(t *testing.T) {
	runCases(t, []cliCase{
		{name: "Create", args: []string{"tenants", "create", "acme", "--prefix", "live=ac_live", "--prefix", "test=ac_test"},
			status: 201, resp: tenantJSON, method: "POST", path: "/v1/tenants",
			body: `{"name":"acme","key_prefixes":{"live":"ac_live","test":"ac_test"}}`,
			exactOut: "id:       ten_01\nname:     acme\nprefixes: live=ac_live,test=ac_test\n" +
				"created:  2025-06-01T12:00:00Z\nupdated:  2025-06-01T12:00:00Z\n"},
		{name: "CreateDefaultPrefixes", args: []string{"tenants", "create", "acme"}, status: 201, resp: tenantJSON,
			method: "POST", path: "/v1/tenants", body: `{"name":"acme"}`},
		{name: "List", args: []string{"tenants", "list"}, resp: `{"data":[` + tenantJSON + `]}`, method: "GET", path: "/v1/tenants",
			exactOut: "ID      NAME  PREFIXES                   CREATED\nten_01  acme  live=ac_live,test=ac_test  2025-06-01T12:00:00Z\n"},
		{name: "ListJSON", args: []string{"tenants", "list", "--json", "--limit", "5"}, resp: `{"data":[` + tenantJSON + `]}`,
			method: "GET", path: "/v1/tenants", query: "limit=5", out: []string{`"key_prefixes": {`}},
		{name: "Get", args: []string{"tenants", "get", "ten_01", "--json"}, resp: tenantJSON, method: "GET", path: "/v1/tenants/ten_01",
			out: []string{`"id": "ten_01"`}},
		{name: "Update", args: []string{"tenants", "update", "ten_01", "--name", "Acme Inc", "--prefix", "live=acme_live"},
			resp: tenantJSON, method: "PATCH", path: "/v1/tenants/ten_01",
			body: `{"name":"Acme Inc","key_prefixes":{"live":"acme_live"}}`, out: []string{"ten_01"}},
	})
}

func TestScopes(t *testing.T) {
	runCases(t, []cliCase{
		{name: "Create", args: []string{"scopes", "create", "payouts:write", "--description", "Create payouts"},
			status: 201, resp: `{"name":"payouts:write","description":"Create payouts","created_at":"2025-06-01T12:00:00Z"}`,
			method: "POST", path: "/v1/scopes", body: `{"name":"payouts:write","description":"Create payouts"}`,
			exactOut: "created scope payouts:write\n"},
		{name: "CreateJSON", args: []string{"--json", "scopes", "create", "a"}, status: 201,
			resp:   `{"name":"a","description":"","created_at":"2025-06-01T12:00:00Z"}`,
			method: "POST", path: "/v1/scopes", body: `{"name":"a","description":""}`, out: []string{`"name": "a"`}},
		{name: "List", args: []string{"scopes", "list"},
			resp:   `{"data":[{"name":"payouts:write","description":"Create payouts","created_at":"2025-06-01T12:00:00Z"},{"name":"labs:read","description":"","created_at":"2025-06-01T12:00:00Z"}]}`,
			method: "GET", path: "/v1/scopes",
			exactOut: "NAME           DESCRIPTION     CREATED\npayouts:write  Create payouts  2025-06-01T12:00:00Z\n" +
				"labs:read      -               2025-06-01T12:00:00Z\n"},
		{name: "Delete", args: []string{"scopes", "delete", "payouts:write"}, status: 204,
			method: "DELETE", path: "/v1/scopes/payouts:write", exactOut: "deleted scope payouts:write\n"},
		{name: "DeleteJSONPrintsNothing", args: []string{"scopes", "delete", "a", "--json"}, status: 204,
			method: "DELETE", path: "/v1/scopes/a", exactOut: ""},
	})
}

func TestRoles(t *testing.T) {
	runCases(t, []cliCase{
		{name: "Create", args: []string{"roles", "create", "--name", "payouts", "--description", "d", "--scope", "payouts:read", "--scope", "payouts:write"},
			status: 201, resp: roleJSON, method: "POST", path: "/v1/roles",
			body: `{"name":"payouts","description":"d","scopes":["payouts:read","payouts:write"]}`,
			out:  []string{"id:          role_01", "scopes:      payouts:read,payouts:write", "description: -"}},
		{name: "CreateNoScopes", args: []string{"roles", "create", "--name", "empty"}, status: 201, resp: roleJSON,
			method: "POST", path: "/v1/roles", body: `{"name":"empty","scopes":[]}`},
		{name: "List", args: []string{"roles", "list"}, resp: `{"data":[` + roleJSON + `]}`, method: "GET", path: "/v1/roles",
			exactOut: "ID       NAME     SCOPES                      DESCRIPTION  CREATED\n" +
				"role_01  payouts  payouts:read,payouts:write  -            2025-06-01T12:00:00Z\n"},
		{name: "Get", args: []string{"roles", "get", "role_01", "--json"}, resp: roleJSON, method: "GET", path: "/v1/roles/role_01",
			out: []string{`"scopes": [`}},
		{name: "Update", args: []string{"roles", "update", "role_01", "--name", "p2", "--description", "", "--scope", "a:*"},
			resp: roleJSON, method: "PATCH", path: "/v1/roles/role_01", body: `{"name":"p2","description":"","scopes":["a:*"]}`},
		{name: "UpdateEmptyScopes", args: []string{"roles", "update", "role_01", "--scope", ""},
			resp: roleJSON, method: "PATCH", path: "/v1/roles/role_01", body: `{"scopes":[]}`},
		{name: "Delete", args: []string{"roles", "delete", "role_01"}, status: 204, method: "DELETE", path: "/v1/roles/role_01",
			exactOut: "deleted role role_01\n"},
	})
}

func TestAudit(t *testing.T) {
	runCases(t, []cliCase{
		{name: "List", args: []string{"audit", "list"}, resp: `{"data":[` + eventJSON + `]}`, method: "GET", path: "/v1/audit-events",
			exactOut: "ID      TIME                  ACTOR           ACTION           TARGET  IP\n" +
				"evt_01  2025-06-01T12:00:00Z  api_key:key_00  api_key.created  key_01  127.0.0.1\n"},
		{name: "Filters", args: []string{"audit", "list", "--target", "key_01", "--action", "api_key.created",
			"--from", "24h", "--to", "2025-06-01T13:00:00Z", "--limit", "20", "--cursor", "c"},
			resp: `{"data":[]}`, method: "GET", path: "/v1/audit-events",
			query: "action=api_key.created&cursor=c&from=2025-05-31T12%3A00%3A00Z&limit=20&target_id=key_01&to=2025-06-01T13%3A00%3A00Z"},
		{name: "JSON", args: []string{"audit", "list", "--json"}, resp: `{"data":[` + eventJSON + `]}`, method: "GET", path: "/v1/audit-events",
			out: []string{`"action": "api_key.created"`, `"diff": {`}},
	})
}

func TestVerify(t *testing.T) {
	valid := `{"valid":true,"code":"VALID","key":{"id":"key_01","tenant_id":"ten_01","name":"ci","environment":"live",
"scopes":["payouts:write"],"role":{"id":"role_01","name":"payouts"},"meta":{"team":"a"},"expires_at":null}}`
	runCases(t, []cliCase{
		{name: "Valid", args: []string{"verify", "kh_live_abc", "--scope", "payouts:write", "--ip", "203.0.113.7"},
			resp: valid, method: "POST", path: "/v1/keys/verify",
			body: `{"key":"kh_live_abc","scopes":["payouts:write"],"ip":"203.0.113.7"}`,
			out:  []string{"valid:       true", "code:        VALID", "role:        role_01 (payouts)", `meta:        {"team":"a"}`}},
		{name: "InvalidExits1", args: []string{"verify", "kh_live_abc", "--scope", "x"},
			resp: `{"valid":false,"code":"INSUFFICIENT_SCOPE","missing_scope":"x","key":{"id":"key_01","tenant_id":"ten_01","name":"ci",
"environment":"live","scopes":[],"role":null,"meta":{},"expires_at":null}}`,
			method: "POST", path: "/v1/keys/verify", body: `{"key":"kh_live_abc","scopes":["x"]}`, code: 1,
			out: []string{"valid:         false", "missing scope: x", "role:          -"}},
		{name: "NotFound", args: []string{"verify", "kh_live_zzz", "--json"}, resp: `{"valid":false,"code":"NOT_FOUND"}`,
			method: "POST", path: "/v1/keys/verify", body: `{"key":"kh_live_zzz"}`, code: 1,
			exactOut: "{\n  \"valid\": false,\n  \"code\": \"NOT_FOUND\"\n}\n"},
		{name: "Stdin", args: []string{"verify", "-"}, stdin: "kh_live_fromstdin\n", resp: valid,
			method: "POST", path: "/v1/keys/verify", body: `{"key":"kh_live_fromstdin"}`},
		{name: "StdinEmpty", args: []string{"verify", "-"}, code: 1, errOut: []string{"reading the key from standard input"}},
	})
}

func TestSecretNotInErrors(t *testing.T) {
	f := newFake(t, 500, `{"title":"Internal Server Error","status":500,"code":"internal","detail":"internal error"}`, nil)
	res := run(t, f.URL, map[string]string{"KEYHUB_API_KEY": "kh_live_TOPSECRET"}, "", "keys", "list")
	if res.code != 1 || strings.Contains(res.stderr+res.stdout, "TOPSECRET") {
		t.Errorf("code %d output %q", res.code, res.stderr+res.stdout)
	}
}
