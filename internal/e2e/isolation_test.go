package e2e

import (
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestTenantIsolation runs every tenant-scoped endpoint with another
// tenant's ids, through that other tenant's own management key, and
// expects 404 and no change.
func TestTenantIsolation(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		a, b := s.Tenant("a", nil), s.Tenant("b", nil)
		all := []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys", "verify:api_keys", "read:roles", "manage:roles", "read:audit", "read:clients", "manage:clients"}
		_, bKey := s.Key(b, map[string]any{"name": "b-admin", "scopes": all})
		rid := s.Role(a, "r")
		ak, aSecret := s.Key(a, map[string]any{"name": "victim", "role_id": rid})
		kid := ak["id"].(string)
		cid, _ := s.OAuthClient(a, map[string]any{"name": "victim-client", "scopes": []string{"read:api_keys"}})
		before := auditCount(t, s.Client)

		cases := []struct{ name, method, path, tenant, body string }{
			{"GetKey", "GET", "/v1/api-keys/" + kid, "", ""},
			{"PatchKey", "PATCH", "/v1/api-keys/" + kid, "", `{"name":"pwned"}`},
			{"RevokeKey", "DELETE", "/v1/api-keys/" + kid, "", ""},
			{"GetRole", "GET", "/v1/roles/" + rid, "", ""},
			{"PatchRole", "PATCH", "/v1/roles/" + rid, "", `{"name":"pwned"}`},
			{"DeleteRole", "DELETE", "/v1/roles/" + rid, "", ""},
			{"CreateKeyWithTheirRole", "POST", "/v1/api-keys", "", `{"name":"x","role_id":"` + rid + `"}`},
			{"GetTenant", "GET", "/v1/tenants/" + a, "", ""},
			{"HeaderListKeys", "GET", "/v1/api-keys", a, ""},
			{"HeaderCreateKey", "POST", "/v1/api-keys", a, `{"name":"x"}`},
			{"HeaderAudit", "GET", "/v1/audit-events", a, ""},
			{"HeaderRoles", "GET", "/v1/roles", a, ""},
			{"HeaderVerify", "POST", "/v1/keys/verify", a, `{"key":"x"}`},
			{"RotateKey", "POST", "/v1/api-keys/" + kid + "/rotate", "", `{"grace_period":"1h"}`},
			{"KeyUsage", "GET", "/v1/api-keys/" + kid + "/usage", "", ""},
			{"RevokeBySecret", "POST", "/v1/keys/revoke", "", `{"key":"` + aSecret + `"}`},
			{"GetClient", "GET", "/v1/clients/" + cid, "", ""},
			{"PatchClient", "PATCH", "/v1/clients/" + cid, "", `{"name":"pwned"}`},
			{"DeleteClient", "DELETE", "/v1/clients/" + cid, "", ""},
			{"RotateClientSecret", "POST", "/v1/clients/" + cid + "/rotate-secret", "", ""},
			{"HeaderClients", "GET", "/v1/clients", a, ""},
		}
		var scenarios []apitest.Scenario
		for _, c := range cases {
			sc := apitest.Scenario{Name: c.name, Method: c.method, URL: c.path, Status: 404,
				Headers: map[string]string{"Authorization": "Bearer " + bKey}}
			if c.tenant != "" {
				sc.Headers["Keyhub-Tenant"] = c.tenant
			}
			if c.body != "" {
				sc.Body = c.body
			}
			if c.name == "CreateKeyWithTheirRole" {
				sc.Status = 422 // the role is unknown to b: named as a bad field
			}
			scenarios = append(scenarios, sc)
		}
		s.Run(t, scenarios)
		// b's lists show none of a's objects.
		if n := len(s.Native(200, "GET", "/v1/api-keys", bKey, "", nil)["data"].([]any)); n != 1 {
			t.Fatalf("b sees %d keys, want its own 1", n)
		}
		for _, e := range s.Native(200, "GET", "/v1/audit-events", bKey, "", nil)["data"].([]any) {
			if e.(map[string]any)["tenant_id"] != b {
				t.Fatalf("b sees event %v", e)
			}
		}
		if n := len(s.Native(200, "GET", "/v1/roles", bKey, "", nil)["data"].([]any)); n != 0 {
			t.Fatalf("b sees %d roles", n)
		}
		if n := len(s.Native(200, "GET", "/v1/clients", bKey, "", nil)["data"].([]any)); n != 0 {
			t.Fatalf("b sees %d clients", n)
		}
		// b's verifier learns nothing of a's key; introspection neither.
		if v := s.Native(200, "POST", "/v1/keys/verify", bKey, "", map[string]any{"key": aSecret}); v["code"] != "NOT_FOUND" {
			t.Fatalf("b verifies a's key: %v", v)
		}
		if after := auditCount(t, s.Client); after != before {
			t.Fatalf("store changed: %d events before, %d after", before, after)
		}
		got := s.Native(200, "GET", "/v1/api-keys/"+kid, s.Operator, a, nil)
		if got["name"] != "victim" || got["state"] != "active" {
			t.Fatalf("a's key changed: %v", got)
		}
	})
}

// TestManagementKey shows a tenant key with management scopes managing its
// tenant without the header, and never granting more than it holds.
func TestManagementKey(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid := s.Tenant("acme", nil)
		_, mgr := s.Key(tid, map[string]any{"name": "mgr", "scopes": []string{"read:api_keys", "create:api_keys", "payouts:*"}})
		k := s.Native(201, "POST", "/v1/api-keys", mgr, "", map[string]any{"name": "child", "scopes": []string{"payouts:write"}})
		if k["tenant_id"] != tid || k["creator"].(map[string]any)["type"] != "api_key" {
			t.Fatalf("child: %v", k)
		}
		r := s.Do("POST", "/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"refunds:write"}}, apitest.Auth(mgr, "")...)
		if r.Status != 403 || r.Object(t)["code"] != "insufficient_scope" || r.Object(t)["scope"] != "refunds:write" {
			t.Fatalf("escalation: %d %s", r.Status, r.Body)
		}
		r = s.Do("POST", "/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"delete:api_keys"}}, apitest.Auth(mgr, "")...)
		if r.Status != 403 || r.Object(t)["scope"] != "delete:api_keys" {
			t.Fatalf("management escalation: %d %s", r.Status, r.Body)
		}
		// It holds no delete:api_keys, manage:roles or manage:tenants.
		for _, c := range []struct{ method, path, body, scope string }{
			{"DELETE", "/v1/api-keys/" + k["id"].(string), "", "delete:api_keys"},
			{"POST", "/v1/roles", `{"name":"r"}`, "manage:roles"},
			{"POST", "/v1/tenants", `{"name":"t"}`, "manage:tenants"},
			{"GET", "/v1/audit-events", "", "read:audit"},
		} {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := s.Do(c.method, c.path, body, apitest.Auth(mgr, "")...)
			if r.Status != 403 || r.Object(t)["scope"] != c.scope {
				t.Fatalf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
		// A role whose scopes it could not grant cannot be given to a key.
		rid := s.Role(tid, "admin", "*")
		r = s.Do("POST", "/v1/api-keys", map[string]any{"name": "x", "role_id": rid}, apitest.Auth(mgr, "")...)
		if r.Status != 403 {
			t.Fatalf("role escalation: %d %s", r.Status, r.Body)
		}
		// Deleting a role with members is a 409 naming the count.
		s.Key(tid, map[string]any{"name": "member", "role_id": rid})
		r = s.Do("DELETE", "/v1/roles/"+rid, nil, apitest.Auth(s.Operator, tid)...)
		if r.Status != 409 || r.Object(t)["member_count"] != float64(1) {
			t.Fatalf("delete role in use: %d %s", r.Status, r.Body)
		}
	})
}
