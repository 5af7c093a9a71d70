package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

const hubifyKeyResp = `{"id":"key_01","tenant_id":"ten_01","name":"my-integration","environment":"live","start":"hfy_key_abc1",
"scopes":["labs:read","experiments:*"],"role_id":null,"ips":[],"meta":{},"enabled":true,"state":"active",
"expires_at":null,"revoked_at":null,"last_used_at":null,"ratelimit":null,"credits":null,"rotated_from":null,"replaced_by":null,
"creator":{"type":"api_key","id":"key_00"},"created_at":"2026-04-14T10:00:00.123456Z","updated_at":"2026-04-14T10:00:00.123456Z",
"key":"hfy_key_abc123def456ghi789"}`

// The output of the seed's example, byte for byte.
const hubifyDoc = `{
  "key": "hfy_key_abc123def456ghi789",
  "name": "my-integration",
  "scopes": ["labs:read", "experiments:*"],
  "created_at": "2026-04-14T10:00:00Z",
  "expires_at": null
}
`

func TestAuthAPIKeyCreate(t *testing.T) {
	expiring := strings.Replace(hubifyKeyResp, `"expires_at":null`, `"expires_at":"2025-08-30T14:00:00+02:00"`, 1)
	noScopes := strings.Replace(hubifyKeyResp, `"scopes":["labs:read","experiments:*"]`, `"scopes":[]`, 1)
	runCases(t, []cliCase{
		{name: "SeedExample", args: []string{"auth", "api-key", "create", "--name", "my-integration", "--scope", "labs:read,experiments:*"},
			status: 201, resp: hubifyKeyResp, method: "POST", path: "/v1/api-keys",
			body:     `{"name":"my-integration","scopes":["labs:read","experiments:*"]}`,
			exactOut: hubifyDoc, errOut: []string{"Warning: API keys are shown only once at creation."}},
		{name: "ExpiresAndEnv", args: []string{"auth", "api-key", "create", "--name", "my-integration", "--scope", "labs:read",
			"--scope", "experiments:*", "--expires", "90d", "--env", "live"}, status: 201, resp: expiring,
			method: "POST", path: "/v1/api-keys",
			body:     `{"name":"my-integration","environment":"live","scopes":["labs:read","experiments:*"],"expires_at":"2025-08-30T12:00:00Z"}`,
			exactOut: strings.Replace(hubifyDoc, `"expires_at": null`, `"expires_at": "2025-08-30T12:00:00Z"`, 1)},
		{name: "JSONFlagSameOutput", args: []string{"--json", "auth", "api-key", "create", "--name", "my-integration", "--scope", "labs:read,experiments:*"},
			status: 201, resp: hubifyKeyResp, method: "POST", path: "/v1/api-keys",
			body: `{"name":"my-integration","scopes":["labs:read","experiments:*"]}`, exactOut: hubifyDoc},
		{name: "NoScopes", args: []string{"auth", "api-key", "create", "--name", "my-integration"}, status: 201, resp: noScopes,
			method: "POST", path: "/v1/api-keys", body: `{"name":"my-integration"}`,
			exactOut: strings.Replace(hubifyDoc, `["labs:read", "experiments:*"]`, `[]`, 1)},
		{name: "MissingName", args: []string{"auth", "api-key", "create", "--scope", "labs:read"}, code: 2,
			errOut: []string{"keyhub: missing required flag --name\nRun 'keyhub auth api-key create --help' for usage.\n"}},
		{name: "ServerError", args: []string{"auth", "api-key", "create", "--name", "x", "--scope", "a::b"}, status: 422,
			resp:   `{"status":422,"code":"validation_failed","detail":"request has invalid fields","errors":[{"field":"scopes[0]","message":"bad"}]}`,
			method: "POST", path: "/v1/api-keys", body: `{"name":"x","scopes":["a::b"]}`, code: 1, exactOut: "",
			errOut: []string{"keyhub: 422 validation_failed"}},
		{name: "BareGroup", args: []string{"auth", "api-key"}, code: 2, errOut: []string{"keyhub auth api-key [command]"}},
	})
}

func TestAuthAPIKeyCreateOutputIsJSON(t *testing.T) {
	f := newFake(t, 201, strings.Replace(hubifyKeyResp, `"name":"my-integration"`, `"name":"a<b> & \"c\""`, 1), nil)
	res := run(t, f.URL, nil, "", "auth", "api-key", "create", "--name", `a<b> & "c"`)
	var got map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || res.code != 0 {
		t.Fatalf("code %d, stdout %q: %v", res.code, res.stdout, err)
	}
	if got["name"] != `a<b> & "c"` || len(got) != 5 || !strings.Contains(res.stdout, `"name": "a<b> & \"c\""`) {
		t.Errorf("stdout %s", res.stdout)
	}
}

func TestAuthAPIKeyRevoke(t *testing.T) {
	revoked := strings.Replace(hubifyKeyResp, `"revoked_at":null`, `"revoked_at":"2026-04-15T10:00:00Z"`, 1)
	runCases(t, []cliCase{
		{name: "Revoke", args: []string{"auth", "api-key", "revoke", "hfy_key_abc123def456ghi789"}, resp: revoked,
			method: "POST", path: "/v1/keys/revoke", body: `{"key":"hfy_key_abc123def456ghi789"}`,
			exactOut: "revoked key key_01 (my-integration)\n"},
		{name: "RevokeJSON", args: []string{"--json", "auth", "api-key", "revoke", "hfy_key_abc123def456ghi789"}, resp: revoked,
			method: "POST", path: "/v1/keys/revoke", body: `{"key":"hfy_key_abc123def456ghi789"}`,
			out: []string{`"id": "key_01"`, `"revoked_at": "2026-04-15T10:00:00Z"`}},
		{name: "FromStdin", args: []string{"auth", "api-key", "revoke", "-"}, stdin: "hfy_key_abc123def456ghi789\n", resp: revoked,
			method: "POST", path: "/v1/keys/revoke", body: `{"key":"hfy_key_abc123def456ghi789"}`},
		{name: "EmptyStdin", args: []string{"auth", "api-key", "revoke", "-"}, code: 1, errOut: []string{"reading the key from standard input"}},
		{name: "Unknown", args: []string{"auth", "api-key", "revoke", "hfy_key_nope"}, status: 404,
			resp:   `{"title":"Not Found","status":404,"detail":"api key not found","code":"not_found"}`,
			method: "POST", path: "/v1/keys/revoke", body: `{"key":"hfy_key_nope"}`, code: 1,
			errOut: []string{"keyhub: 404 not_found: api key not found"}},
		{name: "MissingKey", args: []string{"auth", "api-key", "revoke"}, code: 2, errOut: []string{"missing argument KEY"}},
	})
}
