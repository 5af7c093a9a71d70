package cli

import (
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestOperatorKeyCreateWhileServing mints an operator key with the store of
// running nodes in hand: both nodes take it at once, and it is audited.
func TestOperatorKeyCreateWhileServing(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		n := s.Node(t)
		res := run(t, "", map[string]string{"KEYHUB_DB": dsn}, "", "operator-key", "create", "--name", "ops on call")
		key := apitest.BootstrapKeyIn(res.stdout)
		if res.code != 0 || key == "" || strings.Contains(res.stderr, key) {
			t.Fatalf("operator-key create: code %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
		}
		for _, node := range []*apitest.Server{s, n} {
			node.Native(200, "GET", "/v1/tenants", key, "", nil)
		}
		ev := s.Native(200, "GET", "/v1/audit-events?action=operator_key.created", key, "", nil)["data"].([]any)[0].(map[string]any)
		if a := ev["actor"].(map[string]any); a["type"] != "system" || a["id"] != "operator-key-create" || strings.Contains(string(s.Do("GET", "/v1/audit-events", nil, apitest.Auth(key, "")...).Body), key) {
			t.Errorf("audit event %v", ev)
		}
		if res := run(t, "", map[string]string{"KEYHUB_DB": dsn}, "", "operator-key", "create", "--name", ""); res.code != 1 || !strings.Contains(res.stderr, "name") {
			t.Errorf("an empty name: code %d stderr %s", res.code, res.stderr)
		}
	})
}
