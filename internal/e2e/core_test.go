package e2e

import (
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/secret"
)

func TestBootstrapKeyPrintedOnce(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		if s.BootstrapKey == "" {
			t.Fatalf("first start printed no KEYHUB_API_KEY line:\n%s", s.Log)
		}
		s.Native(200, "GET", "/v1/tenants", s.BootstrapKey, "", nil)
		// A second server on the same store prints no key, and the first
		// key keeps working there.
		s2 := apitest.Start(t, dsn)
		if s2.BootstrapKey != "" || strings.Contains(s2.Log.String(), "KEYHUB_API_KEY=") {
			t.Fatalf("second start printed a key:\n%s", s2.Log)
		}
		s2.Native(200, "GET", "/v1/tenants", s.BootstrapKey, "", nil)
	})
}

func TestHealth(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	s.Run(t, []apitest.Scenario{
		{Name: "Healthz", Method: "GET", URL: "/healthz", Status: 200},
		{Name: "Readyz", Method: "GET", URL: "/readyz", Status: 200},
	})
}

func TestWalkthrough(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		ten := s.Native(201, "POST", "/v1/tenants", s.Operator, "", map[string]any{"name": "acme"})
		tid := ten["id"].(string)
		if !strings.HasPrefix(tid, "ten_") || ten["key_prefixes"].(map[string]any)["live"] != "kh_live" {
			t.Fatalf("tenant: %v", ten)
		}
		s.Native(200, "GET", "/v1/tenants/"+tid, s.Operator, "", nil)
		s.Native(200, "PATCH", "/v1/tenants/"+tid, s.Operator, "", map[string]any{"key_prefixes": map[string]string{"sandbox": "acme_sbx"}})

		k, secret := s.Key(tid, map[string]any{"name": "backend", "environment": "sandbox", "scopes": []string{"payouts:write"}, "meta": map[string]any{"plan": "pro"}})
		if !strings.HasPrefix(secret, "acme_sbx_") || k["state"] != "active" || k["start"] != secret[:len("acme_sbx_")+4] {
			t.Fatalf("key: %v", k)
		}
		id := k["id"].(string)
		got := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, tid, nil)
		if _, ok := got["key"]; ok {
			t.Fatal("GET returned the secret")
		}

		v := s.Verify(secret, []string{"payouts:write"}, "")
		if v["valid"] != true || v["code"] != "VALID" || v["key"].(map[string]any)["meta"].(map[string]any)["plan"] != "pro" {
			t.Fatalf("verify: %v", v)
		}
		if v := s.Verify(secret, []string{"payouts:read"}, ""); v["code"] != "INSUFFICIENT_SCOPE" {
			t.Fatalf("verify other scope: %v", v)
		}
		s.Native(200, "PATCH", "/v1/api-keys/"+id, s.Operator, tid, map[string]any{"ips": []string{"10.0.0.0/8"}})
		if v := s.Verify(secret, nil, "192.0.2.1"); v["code"] != "FORBIDDEN_IP" {
			t.Fatalf("verify bad ip: %v", v)
		}
		if v := s.Verify(secret, nil, "10.1.2.3"); v["code"] != "VALID" {
			t.Fatalf("verify good ip: %v", v)
		}
		s.Native(200, "PATCH", "/v1/api-keys/"+id, s.Operator, tid, map[string]any{"enabled": false})
		if v := s.Verify(secret, nil, "10.1.2.3"); v["code"] != "DISABLED" {
			t.Fatalf("verify disabled: %v", v)
		}
		r := s.Native(200, "DELETE", "/v1/api-keys/"+id, s.Operator, tid, nil)
		if r["state"] != "revoked" {
			t.Fatalf("revoke: %v", r)
		}
		s.Native(200, "DELETE", "/v1/api-keys/"+id, s.Operator, tid, nil) // idempotent
		if v := s.Verify(secret, nil, "10.1.2.3"); v["code"] != "REVOKED" {
			t.Fatalf("verify revoked: %v", v)
		}
		// One character changed breaks the checksum (not "x" if it already is).
		broken := secret[:len(secret)-1] + map[bool]string{true: "y", false: "x"}[strings.HasSuffix(secret, "x")]
		if v := s.Verify(broken, nil, ""); v["code"] != "MALFORMED" {
			t.Fatalf("verify malformed: %v", v)
		}

		ev := s.Native(200, "GET", "/v1/audit-events?target_id="+id, s.Operator, tid, nil)["data"].([]any)
		var actions []string
		for _, e := range ev {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		if strings.Join(actions, ",") != "api_key.revoked,api_key.updated,api_key.updated,api_key.created" {
			t.Fatalf("audit actions: %v", actions)
		}
	})
}

func TestVerifyOrder(t *testing.T) {
	// One key breaks every check; repairing them one at a time shows which
	// check runs first. Expiry is covered with a fake clock in the service
	// tests.
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid := s.Tenant("acme", nil)
		if v := s.Verify("kh_live_short", nil, ""); v["code"] != "MALFORMED" {
			t.Fatalf("malformed: %v", v)
		}
		if v := s.Verify(secret.NewKey("kh_live"), nil, ""); v["code"] != "NOT_FOUND" || v["key"] != nil {
			t.Fatalf("unknown: %v", v)
		}
		k, key := s.Key(tid, map[string]any{"name": "ladder", "scopes": []string{"a:read"}, "ips": []string{"10.0.0.1"}})
		id := k["id"].(string)
		ask := func() string { return s.Verify(key, []string{"b:write"}, "192.0.2.1")["code"].(string) }
		if c := ask(); c != "FORBIDDEN_IP" {
			t.Fatalf("ip before scope: %s", c)
		}
		s.Native(200, "PATCH", "/v1/api-keys/"+id, s.Operator, tid, map[string]any{"ips": []string{}})
		if c := ask(); c != "INSUFFICIENT_SCOPE" {
			t.Fatalf("scope: %s", c)
		}
		s.Native(200, "PATCH", "/v1/api-keys/"+id, s.Operator, tid, map[string]any{"enabled": false, "ips": []string{"10.0.0.1"}})
		if c := ask(); c != "DISABLED" {
			t.Fatalf("disabled before ip: %s", c)
		}
		s.Native(200, "DELETE", "/v1/api-keys/"+id, s.Operator, tid, nil)
		if c := ask(); c != "REVOKED" {
			t.Fatalf("revoked before disabled: %s", c)
		}
		// Another tenant's key is NOT_FOUND to a verifier bound to a tenant.
		other := s.Tenant("other", nil)
		_, theirs := s.Key(other, map[string]any{"name": "theirs"})
		v := s.Native(200, "POST", "/v1/keys/verify", s.Operator, tid, map[string]any{"key": theirs})
		if v["code"] != "NOT_FOUND" || v["key"] != nil {
			t.Fatalf("other tenant's key: %v", v)
		}
		// The operator key is a credential for keyhub, not a tenant key.
		if v := s.Verify(s.Operator, nil, ""); v["code"] != "NOT_FOUND" {
			t.Fatalf("operator key: %v", v)
		}
	})
}
