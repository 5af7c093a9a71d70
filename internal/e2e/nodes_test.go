package e2e

import (
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// TestTwoNodes runs two keyhub nodes on one PostgreSQL database. Node B has
// a key cached; changes made through node A reach B's cache through
// LISTEN/NOTIFY long before the cache TTL (a minute) would.
func TestTwoNodes(t *testing.T) {
	if os.Getenv("KEYHUB_TEST_POSTGRES") == "" {
		t.Skip("KEYHUB_TEST_POSTGRES not set: the multi-node test needs PostgreSQL")
	}
	a := apitest.Start(t, apitest.Postgres(t))
	b := a.Node(t) // with a's operator key: one for the whole service
	tid := a.Tenant("acme", nil)
	role := a.Role(tid, "r", "labs:read")
	k, key := a.Key(tid, map[string]any{"name": "k", "role_id": role})
	id := k["id"].(string)
	eventually := func(what, want string, scopes ...string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			v := b.Verify(key, scopes, "")
			if v["code"] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: node B still answers %v", what, v["code"])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	eventually("warm", "VALID", "labs:read")
	a.Native(200, "PATCH", "/v1/roles/"+role, a.Operator, tid, map[string]any{"scopes": []string{"labs:write"}})
	eventually("role change on A", "INSUFFICIENT_SCOPE", "labs:read")
	a.Native(200, "PATCH", "/v1/api-keys/"+id, a.Operator, tid, map[string]any{"enabled": false})
	eventually("disable on A", "DISABLED")
	a.Native(200, "PATCH", "/v1/api-keys/"+id, a.Operator, tid, map[string]any{"enabled": true})
	eventually("enable on A", "VALID")
	a.Native(200, "DELETE", "/v1/api-keys/"+id, a.Operator, tid, nil)
	eventually("revoke on A", "REVOKED")
}

// TestClientChangesReachOtherNodes: a token used on node B follows its
// client as node A changes it — narrowed scopes, a removed audience, a
// disabled client — within a second, through the same notification as key
// changes (the client cache's TTL alone would take seconds).
func TestClientChangesReachOtherNodes(t *testing.T) {
	if os.Getenv("KEYHUB_TEST_POSTGRES") == "" {
		t.Skip("KEYHUB_TEST_POSTGRES not set: the multi-node test needs PostgreSQL")
	}
	dsn := apitest.Postgres(t)
	// Nodes of one service share one issuer, as a deployment configures.
	issuer := func(c *app.Config) { c.Issuer = "https://keyhub.example" }
	a := apitest.Start(t, dsn, issuer)
	b := a.Node(t, issuer)
	tid := a.Tenant("acme", nil)
	cid, sec := a.OAuthClient(tid, map[string]any{"name": "c", "scopes": []string{"read:audit", "read:api_keys"}, "audiences": []string{"hub:api", "other"}})
	mint := func() string {
		r := a.Form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {cid}, "client_secret": {sec}}, "", "")
		if r.Status != 200 {
			t.Fatalf("token: %d %s", r.Status, r.Body)
		}
		return r.Object(t)["access_token"].(string)
	}
	tok := mint()
	within := func(what string, ok func() bool) {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > time.Second {
				t.Fatalf("%s: node B did not follow within 1s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s: seen on node B after %v", what, time.Since(start).Round(time.Millisecond))
	}
	b.Native(200, "GET", "/v1/audit-events", tok, "", nil) // B caches the client
	a.Native(200, "PATCH", "/v1/clients/"+cid, a.Operator, tid, map[string]any{"scopes": []string{"read:api_keys"}})
	within("scope narrowed", func() bool { return b.Do("GET", "/v1/audit-events", nil, apitest.Auth(tok, "")...).Status == 403 })
	if m := introspect(t, b.Client, tok); m["active"] != true || m["scope"] != "read:api_keys" {
		t.Fatalf("introspection on B after narrowing: %v", m)
	}
	b.Native(200, "GET", "/v1/api-keys", tok, "", nil)
	a.Native(200, "PATCH", "/v1/clients/"+cid, a.Operator, tid, map[string]any{"enabled": false})
	within("client disabled", func() bool { return b.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok, "")...).Status == 401 })
	if m := introspect(t, b.Client, tok); m["active"] != false {
		t.Fatalf("introspection on B after disabling: %v", m)
	}
	a.Native(200, "PATCH", "/v1/clients/"+cid, a.Operator, tid, map[string]any{"enabled": true})
	within("client enabled", func() bool { return b.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok, "")...).Status == 200 })
	a.Native(200, "PATCH", "/v1/clients/"+cid, a.Operator, tid, map[string]any{"audiences": []string{"other"}})
	within("audience removed", func() bool { return b.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok, "")...).Status == 401 })
}
