package e2e

import (
	"testing"
)

// TestTenantIsolation runs every tenant-scoped endpoint with another
// tenant's ids, through that other tenant's own management key, and
// expects 404 and no change.
func TestTenantIsolation(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		s := start(t, dsn)
		a, b := s.tenant("a"), s.tenant("b")
		all := []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys", "verify:api_keys", "read:roles", "manage:roles", "read:audit", "read:clients", "manage:clients"}
		_, bKey := s.key(b, map[string]any{"name": "b-admin", "scopes": all})
		rid := s.must(201, "POST", "/v1/roles", s.Key, a, map[string]any{"name": "r"})["id"].(string)
		ak, aSecret := s.key(a, map[string]any{"name": "victim", "role_id": rid})
		kid := ak["id"].(string)
		cid, _ := s.client(a, map[string]any{"name": "victim-client", "scopes": []string{"read:api_keys"}})
		before := s.auditCount()

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
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var body any
				if c.body != "" {
					body = c.body
				}
				r := s.call(c.method, c.path, bKey, c.tenant, body)
				want := 404
				if c.name == "CreateKeyWithTheirRole" {
					want = 422 // the role is unknown to b: named as a bad field
				}
				if r.Status != want {
					t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
				}
			})
		}
		// b's lists show none of a's objects.
		if n := len(s.must(200, "GET", "/v1/api-keys", bKey, "", nil)["data"].([]any)); n != 1 {
			t.Fatalf("b sees %d keys, want its own 1", n)
		}
		for _, e := range s.must(200, "GET", "/v1/audit-events", bKey, "", nil)["data"].([]any) {
			if e.(map[string]any)["tenant_id"] != b {
				t.Fatalf("b sees event %v", e)
			}
		}
		if n := len(s.must(200, "GET", "/v1/roles", bKey, "", nil)["data"].([]any)); n != 0 {
			t.Fatalf("b sees %d roles", n)
		}
		if n := len(s.must(200, "GET", "/v1/clients", bKey, "", nil)["data"].([]any)); n != 0 {
			t.Fatalf("b sees %d clients", n)
		}
		// b's verifier learns nothing of a's key; introspection neither.
		if v := s.must(200, "POST", "/v1/keys/verify", bKey, "", map[string]any{"key": aSecret}); v["code"] != "NOT_FOUND" {
			t.Fatalf("b verifies a's key: %v", v)
		}
		if after := s.auditCount(); after != before {
			t.Fatalf("store changed: %d events before, %d after", before, after)
		}
		got := s.must(200, "GET", "/v1/api-keys/"+kid, s.Key, a, nil)
		if got["name"] != "victim" || got["state"] != "active" {
			t.Fatalf("a's key changed: %v", got)
		}
	})
}

// TestManagementKey shows a tenant key with management scopes managing its
// tenant without the header, and never granting more than it holds.
func TestManagementKey(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		s := start(t, dsn)
		tid := s.tenant("acme")
		_, mgr := s.key(tid, map[string]any{"name": "mgr", "scopes": []string{"read:api_keys", "create:api_keys", "payouts:*"}})
		k := s.must(201, "POST", "/v1/api-keys", mgr, "", map[string]any{"name": "child", "scopes": []string{"payouts:write"}})
		if k["tenant_id"] != tid || k["creator"].(map[string]any)["type"] != "api_key" {
			t.Fatalf("child: %v", k)
		}
		r := s.call("POST", "/v1/api-keys", mgr, "", map[string]any{"name": "x", "scopes": []string{"refunds:write"}})
		if r.Status != 403 || r.json(t)["code"] != "insufficient_scope" || r.json(t)["scope"] != "refunds:write" {
			t.Fatalf("escalation: %d %s", r.Status, r.Body)
		}
		r = s.call("POST", "/v1/api-keys", mgr, "", map[string]any{"name": "x", "scopes": []string{"delete:api_keys"}})
		if r.Status != 403 || r.json(t)["scope"] != "delete:api_keys" {
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
			r := s.call(c.method, c.path, mgr, "", body)
			if r.Status != 403 || r.json(t)["scope"] != c.scope {
				t.Fatalf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
		// A role whose scopes it could not grant cannot be given to a key.
		rid := s.must(201, "POST", "/v1/roles", s.Key, tid, map[string]any{"name": "admin", "scopes": []string{"*"}})["id"].(string)
		r = s.call("POST", "/v1/api-keys", mgr, "", map[string]any{"name": "x", "role_id": rid})
		if r.Status != 403 {
			t.Fatalf("role escalation: %d %s", r.Status, r.Body)
		}
		// Deleting a role with members is a 409 naming the count.
		s.key(tid, map[string]any{"name": "member", "role_id": rid})
		r = s.call("DELETE", "/v1/roles/"+rid, s.Key, tid, nil)
		if r.Status != 409 || r.json(t)["member_count"] != float64(1) {
			t.Fatalf("delete role in use: %d %s", r.Status, r.Body)
		}
	})
}
