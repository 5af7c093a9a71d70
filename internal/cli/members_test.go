package cli

import "testing"

const memberJSON = `{"id":"mem_01","tenant_id":"ten_01","email":"ada@acme.test","name":"Ada","scopes":["read:api_keys"],
"external_id":"","creator":{"type":"operator","id":"key_00"},"created_at":"2025-06-01T12:00:00Z","updated_at":"2025-06-01T12:00:00Z"}`

func TestMembers(t *testing.T) {
	runCases(t, []cliCase{
		{name: "Create", args: []string{"members", "create", "--email", "ada@acme.test", "--name", "Ada", "--scope", "read:api_keys"},
			status: 201, resp: memberJSON, method: "POST", path: "/v1/members",
			body: `{"email":"ada@acme.test","name":"Ada","scopes":["read:api_keys"]}`,
			exactOut: "id:          mem_01\nemail:       ada@acme.test\nname:        Ada\nscopes:      read:api_keys\n" +
				"external id: -\ncreated:     2025-06-01T12:00:00Z\nupdated:     2025-06-01T12:00:00Z\n"},
		{name: "CreateNeedsEmail", args: []string{"members", "create", "--name", "Ada"}, code: 2, errOut: []string{"--email"}},
		{name: "CreateNoScopes", args: []string{"members", "create", "--email", "b@acme.test"}, status: 201, resp: memberJSON,
			method: "POST", path: "/v1/members", body: `{"email":"b@acme.test","scopes":[]}`},
		{name: "List", args: []string{"members", "list", "--search", "acme"}, resp: `{"data":[` + memberJSON + `]}`,
			method: "GET", path: "/v1/members", query: "search=acme",
			exactOut: "ID      EMAIL          NAME  SCOPES         CREATED\nmem_01  ada@acme.test  Ada   read:api_keys  2025-06-01T12:00:00Z\n"},
		{name: "Get", args: []string{"members", "get", "mem_01", "--json"}, resp: memberJSON, method: "GET", path: "/v1/members/mem_01",
			out: []string{`"email": "ada@acme.test"`}},
		{name: "Update", args: []string{"members", "update", "mem_01", "--email", "ada@new.test", "--scope", ""},
			resp: memberJSON, method: "PATCH", path: "/v1/members/mem_01", body: `{"email":"ada@new.test","scopes":[]}`},
		{name: "UpdateNothing", args: []string{"members", "update", "mem_01"}, code: 2, errOut: []string{"nothing to change"}},
		{name: "Remove", args: []string{"members", "remove", "mem_01"}, status: 204, method: "DELETE", path: "/v1/members/mem_01",
			exactOut: "removed member mem_01\n"},
	})
}
