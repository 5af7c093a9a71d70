package cli

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

const keyJSON = `{"id":"key_01","tenant_id":"ten_01","name":"ci","environment":"live","start":"kh_live_abcd",
"scopes":["payouts:write","payouts:read"],"role_id":null,"ips":[],"meta":{"team":"a"},"enabled":true,
"state":"active","expires_at":"2025-08-30T12:00:00Z","revoked_at":null,"last_used_at":null,
"creator":{"type":"operator","id":"key_00"},"created_at":"2025-06-01T12:00:00Z","updated_at":"2025-06-01T12:00:00Z"}`

const key2JSON = `{"id":"key_02","tenant_id":"ten_01","name":"office laptop","environment":"test","start":"kh_test_wxyz",
"scopes":[],"role_id":"role_01","ips":["10.0.0.0/8"],"meta":{},"enabled":false,
"state":"disabled","expires_at":null,"revoked_at":null,"last_used_at":null,
"creator":{"type":"api_key","id":"key_01"},"created_at":"2025-05-01T00:00:00Z","updated_at":"2025-05-02T00:00:00Z"}`

var createdKeyJSON = strings.TrimSuffix(keyJSON, "}") + `,"key":"kh_live_SECRETSECRET"}`

func TestKeys(t *testing.T) {
	runCases(t, []cliCase{
		{name: "CreateFull", args: []string{"keys", "create", "--name", "ci", "--env", "live", "--scope", "payouts:write,payouts:read",
			"--ip", "10.0.0.0/8", "--ip", "2001:db8::/32", "--expires", "90d", "--role", "role_01", "--meta", `{"team": "a"}`},
			status: 201, resp: createdKeyJSON, method: "POST", path: "/v1/api-keys",
			body: `{"name":"ci","environment":"live","scopes":["payouts:write","payouts:read"],"role_id":"role_01",
"ips":["10.0.0.0/8","2001:db8::/32"],"expires_at":"2025-08-30T12:00:00Z","meta":{"team":"a"}}`,
			out: []string{"id:          key_01", "expires:     2025-08-30T12:00:00Z", "\nkey: kh_live_SECRETSECRET\n", "will not show it again"}},
		{name: "CreateMinimal", args: []string{"keys", "create", "--name", "ci"}, status: 201, resp: createdKeyJSON,
			method: "POST", path: "/v1/api-keys", body: `{"name":"ci"}`, out: []string{"key: kh_live_SECRETSECRET"}},
		{name: "CreateExpiresHours", args: []string{"keys", "create", "--name", "ci", "--expires", "36h"}, status: 201, resp: createdKeyJSON,
			method: "POST", path: "/v1/api-keys", body: `{"name":"ci","expires_at":"2025-06-03T00:00:00Z"}`},
		{name: "CreateExpiresTime", args: []string{"keys", "create", "--name", "ci", "--expires", "2030-01-02T03:04:05+01:00"}, status: 201,
			resp: createdKeyJSON, method: "POST", path: "/v1/api-keys", body: `{"name":"ci","expires_at":"2030-01-02T03:04:05+01:00"}`},
		{name: "CreateJSON", args: []string{"--json", "keys", "create", "--name", "ci"}, status: 201, resp: createdKeyJSON,
			method: "POST", path: "/v1/api-keys", body: `{"name":"ci"}`,
			out: []string{`"key": "kh_live_SECRETSECRET"`, `"state": "active"`, `"meta": {`}},
		{name: "Get", args: []string{"keys", "get", "key_02"}, resp: key2JSON, method: "GET", path: "/v1/api-keys/key_02",
			exactOut: `id:          key_02
name:        office laptop
environment: test
state:       disabled
start:       kh_test_wxyz
scopes:      -
role:        role_01
ips:         10.0.0.0/8
meta:        {}
ratelimit:   -
credits:     unlimited
expires:     never
last used:   never
revoked:     -
creator:     api_key key_01
created:     2025-05-01T00:00:00Z
updated:     2025-05-02T00:00:00Z
`},
		{name: "GetJSON", args: []string{"keys", "get", "key_02", "--json"}, resp: key2JSON, method: "GET", path: "/v1/api-keys/key_02",
			out: []string{"{\n  \"id\": \"key_02\",\n", `"role_id": "role_01"`, `"expires_at": null`}},
		{name: "UpdateClear", args: []string{"keys", "update", "key_01", "--scope", "", "--role", "", "--expires", "never", "--ip", "", "--disable"},
			resp: keyJSON, method: "PATCH", path: "/v1/api-keys/key_01",
			body: `{"scopes":[],"role_id":null,"expires_at":null,"ips":[],"enabled":false}`, out: []string{"id:          key_01"}},
		{name: "UpdateSet", args: []string{"keys", "update", "key_01", "--name", "ci2", "--scope", "a:b", "--role", "role_9",
			"--expires", "1d", "--meta", `{"x":1}`, "--enable"},
			resp: keyJSON, method: "PATCH", path: "/v1/api-keys/key_01",
			body: `{"name":"ci2","scopes":["a:b"],"role_id":"role_9","expires_at":"2025-06-02T12:00:00Z","meta":{"x":1},"enabled":true}`},
		{name: "Revoke", args: []string{"keys", "revoke", "key_01"},
			resp:   strings.Replace(keyJSON, `"revoked_at":null`, `"revoked_at":"2025-06-01T12:30:00Z"`, 1),
			method: "DELETE", path: "/v1/api-keys/key_01", exactOut: "revoked key key_01 (ci) at 2025-06-01T12:30:00Z\n"},
		{name: "RevokeJSON", args: []string{"keys", "revoke", "key_01", "--json"}, resp: keyJSON,
			method: "DELETE", path: "/v1/api-keys/key_01", out: []string{`"id": "key_01"`}},
	})
}

func TestKeysList(t *testing.T) {
	page := `{"data":[` + keyJSON + `,` + key2JSON + `],"next_cursor":null}`
	runCases(t, []cliCase{
		{name: "Table", args: []string{"keys", "list"}, resp: page, method: "GET", path: "/v1/api-keys",
			exactOut: `ID      NAME           ENV   STATE     START         SCOPES                      EXPIRES               CREATED
key_01  ci             live  active    kh_live_abcd  payouts:write,payouts:read  2025-08-30T12:00:00Z  2025-06-01T12:00:00Z
key_02  office laptop  test  disabled  kh_test_wxyz  -                           never                 2025-05-01T00:00:00Z
`},
		{name: "Filters", args: []string{"keys", "list", "--env", "live", "--state", "active", "--role", "role_01",
			"--name", "c i", "--limit", "10", "--cursor", "abc"},
			resp: `{"data":[]}`, method: "GET", path: "/v1/api-keys",
			query:    "cursor=abc&environment=live&limit=10&name=c+i&role_id=role_01&state=active",
			exactOut: "ID  NAME  ENV  STATE  START  SCOPES  EXPIRES  CREATED\n"},
		{name: "JSONArray", args: []string{"keys", "list", "--json"}, resp: page, method: "GET", path: "/v1/api-keys",
			out: []string{"[\n  {\n    \"id\": \"key_01\"", `"id": "key_02"`}},
		{name: "EmptyJSON", args: []string{"keys", "list", "--json"}, resp: `{"data":[]}`, method: "GET", path: "/v1/api-keys",
			exactOut: "[]\n"},
		{name: "MoreHint", args: []string{"keys", "list"}, resp: `{"data":[` + keyJSON + `],"next_cursor":"Y3Vy"}`,
			method: "GET", path: "/v1/api-keys", out: []string{"key_01"}, errOut: []string{"add --cursor Y3Vy, or --all"}},
	})
}

func TestKeysListAll(t *testing.T) {
	f := newFake(t, 0, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("cursor") {
		case "":
			io.WriteString(w, `{"data":[`+keyJSON+`],"next_cursor":"c1"}`)
		case "c1":
			io.WriteString(w, `{"data":[`+key2JSON+`],"next_cursor":null}`)
		default:
			w.WriteHeader(400)
		}
	})
	res := run(t, f.URL, nil, "", "keys", "list", "--all", "--limit", "1", "--json")
	if res.code != 0 || len(f.reqs) != 2 {
		t.Fatalf("code %d, %d requests, stderr %s", res.code, len(f.reqs), res.stderr)
	}
	if f.reqs[1].Query != "cursor=c1&limit=1" {
		t.Errorf("second query %q", f.reqs[1].Query)
	}
	if !strings.Contains(res.stdout, `"id": "key_01"`) || !strings.Contains(res.stdout, `"id": "key_02"`) || res.stderr != "" {
		t.Errorf("stdout %s stderr %s", res.stdout, res.stderr)
	}
}

func TestKeysListAllStopsOnError(t *testing.T) {
	n := 0
	f := newFake(t, 0, "", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n > 1 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(503)
			io.WriteString(w, `{"title":"Service Unavailable","status":503,"detail":"store unreachable","code":"unavailable"}`)
			return
		}
		fmt.Fprintf(w, `{"data":[%s],"next_cursor":"c%d"}`, keyJSON, n)
	})
	res := run(t, f.URL, nil, "", "keys", "list", "--all")
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "503 unavailable: store unreachable") {
		t.Errorf("code %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
}
