package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
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
