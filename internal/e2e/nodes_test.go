package e2e

import (
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// TestTwoNodes runs two keyhub nodes on one PostgreSQL database. Node B has
// a key cached; changes made through node A reach B's cache through
// LISTEN/NOTIFY long before the cache TTL (a minute) would.
func TestTwoNodes(t *testing.T) {
	if os.Getenv("KEYHUB_TEST_POSTGRES") == "" {
		t.Skip("KEYHUB_TEST_POSTGRES not set: the multi-node test needs PostgreSQL")
	}
	dsn := pgtest.URL(t)
	a := start(t, dsn)
	b := start(t, dsn)
	b.Key = a.Key // one operator key for the whole service
	tid := a.tenant("acme")
	role := a.must(201, "POST", "/v1/roles", a.Key, tid, map[string]any{"name": "r", "scopes": []string{"labs:read"}})["id"].(string)
	k, key := a.key(tid, map[string]any{"name": "k", "role_id": role})
	id := k["id"].(string)
	eventually := func(what, want string, scopes ...string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			v := b.verify(key, scopes, "")
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
	a.must(200, "PATCH", "/v1/roles/"+role, a.Key, tid, map[string]any{"scopes": []string{"labs:write"}})
	eventually("role change on A", "INSUFFICIENT_SCOPE", "labs:read")
	a.must(200, "PATCH", "/v1/api-keys/"+id, a.Key, tid, map[string]any{"enabled": false})
	eventually("disable on A", "DISABLED")
	a.must(200, "PATCH", "/v1/api-keys/"+id, a.Key, tid, map[string]any{"enabled": true})
	eventually("enable on A", "VALID")
	a.must(200, "DELETE", "/v1/api-keys/"+id, a.Key, tid, nil)
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
	dsn := pgtest.URL(t)
	// Nodes of one service share one issuer, as a deployment configures.
	issuer := func(c *app.Config) { c.Issuer = "https://keyhub.example" }
	a := start(t, dsn, issuer)
	b := start(t, dsn, issuer)
	b.Key = a.Key
	tid := a.tenant("acme")
	cid, sec := a.client(tid, map[string]any{"name": "c", "scopes": []string{"read:audit", "read:api_keys"}, "audiences": []string{"hub:api", "other"}})
	mint := func() string {
		r := a.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {cid}, "client_secret": {sec}}, "", "")
		if r.Status != 200 {
			t.Fatalf("token: %d %s", r.Status, r.Body)
		}
		return r.json(t)["access_token"].(string)
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
	b.must(200, "GET", "/v1/audit-events", tok, "", nil) // B caches the client
	a.must(200, "PATCH", "/v1/clients/"+cid, a.Key, tid, map[string]any{"scopes": []string{"read:api_keys"}})
	within("scope narrowed", func() bool { return b.call("GET", "/v1/audit-events", tok, "", nil).Status == 403 })
	if m := b.introspect(tok); m["active"] != true || m["scope"] != "read:api_keys" {
		t.Fatalf("introspection on B after narrowing: %v", m)
	}
	b.must(200, "GET", "/v1/api-keys", tok, "", nil)
	a.must(200, "PATCH", "/v1/clients/"+cid, a.Key, tid, map[string]any{"enabled": false})
	within("client disabled", func() bool { return b.call("GET", "/v1/api-keys", tok, "", nil).Status == 401 })
	if m := b.introspect(tok); m["active"] != false {
		t.Fatalf("introspection on B after disabling: %v", m)
	}
	a.must(200, "PATCH", "/v1/clients/"+cid, a.Key, tid, map[string]any{"enabled": true})
	within("client enabled", func() bool { return b.call("GET", "/v1/api-keys", tok, "", nil).Status == 200 })
	a.must(200, "PATCH", "/v1/clients/"+cid, a.Key, tid, map[string]any{"audiences": []string{"other"}})
	within("audience removed", func() bool { return b.call("GET", "/v1/api-keys", tok, "", nil).Status == 401 })
}
