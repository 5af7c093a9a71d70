package cli

import (
	"strings"
	"testing"
)

const clientJSON = `{"client_id":"cli_01","tenant_id":"ten_01","name":"billing","scopes":["read:api_keys","create:api_keys"],
"audiences":["hub:api"],"token_ttl":"24h0m0s","enabled":true,"previous_secret_expires_at":null,
"creator":{"type":"operator","id":"key_00"},"created_at":"2025-06-01T12:00:00Z","updated_at":"2025-06-01T12:00:00Z"}`

var clientSecretJSON = strings.TrimSuffix(clientJSON, "}") + `,"client_secret":"khcs_SECRETSECRET"}`

func TestClients(t *testing.T) {
	rotated := strings.Replace(clientSecretJSON, `"previous_secret_expires_at":null`, `"previous_secret_expires_at":"2025-06-01T13:00:00Z"`, 1)
	runCases(t, []cliCase{
		{name: "Create", args: []string{"clients", "create", "--name", "billing", "--scope", "read:api_keys,create:api_keys",
			"--audience", "hub:api", "--ttl", "24h"}, status: 201, resp: clientSecretJSON, method: "POST", path: "/v1/clients",
			body: `{"name":"billing","scopes":["read:api_keys","create:api_keys"],"audiences":["hub:api"],"token_ttl":"24h"}`,
			exactOut: `client id:        cli_01
name:             billing
tenant:           ten_01
enabled:          true
scopes:           read:api_keys,create:api_keys
audiences:        hub:api
token ttl:        24h
old secret until: -
creator:          operator key_00
created:          2025-06-01T12:00:00Z
updated:          2025-06-01T12:00:00Z

client secret: khcs_SECRETSECRET

Store this secret now: keyhub keeps only its hash and will not show it again.
`},
		{name: "CreateMinimalDisabled", args: []string{"clients", "create", "--name", "b", "--disabled"}, status: 201,
			resp: clientSecretJSON, method: "POST", path: "/v1/clients", body: `{"name":"b","enabled":false}`,
			out: []string{"client secret: khcs_SECRETSECRET"}},
		{name: "CreateJSON", args: []string{"--json", "clients", "create", "--name", "b", "--ttl", "90m"}, status: 201,
			resp: clientSecretJSON, method: "POST", path: "/v1/clients", body: `{"name":"b","token_ttl":"1h30m"}`,
			out: []string{`"client_secret": "khcs_SECRETSECRET"`, `"token_ttl": "24h0m0s"`}},
		{name: "CreateMissingName", args: []string{"clients", "create"}, code: 2, errOut: []string{"missing required flag --name"}},
		{name: "CreateBadTTL", args: []string{"clients", "create", "--name", "b", "--ttl", "0"}, code: 2, errOut: []string{`"--ttl"`}},
		{name: "List", args: []string{"clients", "list"}, resp: `{"data":[` + clientJSON + `]}`, method: "GET", path: "/v1/clients",
			exactOut: "CLIENT ID  NAME     ENABLED  SCOPES                         AUDIENCES  TOKEN TTL  CREATED\n" +
				"cli_01     billing  true     read:api_keys,create:api_keys  hub:api    24h        2025-06-01T12:00:00Z\n"},
		{name: "ListJSON", args: []string{"clients", "list", "--json", "--limit", "2"}, resp: `{"data":[` + clientJSON + `]}`,
			method: "GET", path: "/v1/clients", query: "limit=2", out: []string{`"client_id": "cli_01"`}},
		{name: "Get", args: []string{"clients", "get", "cli_01"}, resp: clientJSON, method: "GET", path: "/v1/clients/cli_01",
			out: []string{"client id:        cli_01\n", "token ttl:        24h\n"}},
		{name: "GetHasNoSecret", args: []string{"clients", "get", "cli_01", "--json"}, resp: clientJSON, method: "GET",
			path: "/v1/clients/cli_01", out: []string{`"tenant_id": "ten_01"`}},
		{name: "Update", args: []string{"clients", "update", "cli_01", "--name", "b2", "--scope", "", "--audience", "hub:api,x",
			"--ttl", "30m", "--disable"}, resp: clientJSON, method: "PATCH", path: "/v1/clients/cli_01",
			body: `{"name":"b2","scopes":[],"audiences":["hub:api","x"],"token_ttl":"30m","enabled":false}`},
		{name: "UpdateEnable", args: []string{"clients", "update", "cli_01", "--enable"}, resp: clientJSON, method: "PATCH",
			path: "/v1/clients/cli_01", body: `{"enabled":true}`},
		{name: "UpdateNothing", args: []string{"clients", "update", "cli_01"}, code: 2, errOut: []string{"nothing to change"}},
		{name: "UpdateEnableDisable", args: []string{"clients", "update", "cli_01", "--enable", "--disable"}, code: 2,
			errOut: []string{"--enable and --disable exclude each other"}},
		{name: "RotateSecret", args: []string{"clients", "rotate-secret", "cli_01", "--grace", "1h"}, resp: rotated,
			method: "POST", path: "/v1/clients/cli_01/rotate-secret", body: `{"grace_period":"1h"}`,
			out: []string{"old secret until: 2025-06-01T13:00:00Z\n", "client secret: khcs_SECRETSECRET\n", "will not show it again"}},
		{name: "RotateSecretAtOnce", args: []string{"clients", "rotate-secret", "cli_01"}, resp: clientSecretJSON,
			method: "POST", path: "/v1/clients/cli_01/rotate-secret", body: `{}`},
		{name: "Delete", args: []string{"clients", "delete", "cli_01"}, status: 204, method: "DELETE", path: "/v1/clients/cli_01",
			exactOut: "deleted client cli_01\n"},
		{name: "DeleteJSON", args: []string{"clients", "delete", "cli_01", "--json"}, status: 204, method: "DELETE",
			path: "/v1/clients/cli_01", exactOut: ""},
		{name: "NotFound", args: []string{"clients", "get", "cli_9"}, status: 404,
			resp:   `{"title":"Not Found","status":404,"detail":"client \"cli_9\" not found","code":"not_found"}`,
			method: "GET", path: "/v1/clients/cli_9", code: 1, errOut: []string{`keyhub: 404 not_found: client "cli_9" not found`}},
	})
}

func TestSigningKeys(t *testing.T) {
	resp := `{"kid":"sk_02","alg":"ES256","created_at":"2025-06-01T12:00:00Z"}`
	runCases(t, []cliCase{
		{name: "Rotate", args: []string{"signing-keys", "rotate"}, resp: resp, method: "POST", path: "/v1/signing-keys/rotate",
			exactOut: "kid:     sk_02\nalg:     ES256\ncreated: 2025-06-01T12:00:00Z\n"},
		{name: "RotateJSON", args: []string{"signing-keys", "rotate", "--json"}, resp: resp, method: "POST",
			path: "/v1/signing-keys/rotate", out: []string{`"kid": "sk_02"`, `"alg": "ES256"`}},
		{name: "Forbidden", args: []string{"signing-keys", "rotate"}, status: 403,
			resp:   `{"title":"Forbidden","status":403,"detail":"rotating signing keys requires an operator credential","code":"forbidden"}`,
			method: "POST", path: "/v1/signing-keys/rotate", code: 1, errOut: []string{"403 forbidden"}},
		{name: "Bare", args: []string{"signing-keys"}, code: 2, errOut: []string{"keyhub signing-keys [command]"}},
	})
}
