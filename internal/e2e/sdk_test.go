package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestSDKExample runs client/example_test.go's ExampleMiddleware against a
// real keyhub. The SDK is a module of its own that cannot import the
// server, so this test starts the server and runs the example with the go
// command in the SDK's folder, handing it the server's URL and keys.
func TestSDKExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the SDK's test binary")
	}
	s := apitest.Start(t, apitest.SQLite(t))
	tenant := s.Tenant("acme", nil)
	_, verifier := s.Key(tenant, map[string]any{"name": "gateway", "scopes": []string{"verify:api_keys"}})
	_, key := s.Key(tenant, map[string]any{"name": "backend", "scopes": []string{"payouts:write"}})

	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "test", "-count=1", "-run", "^ExampleMiddleware$", ".")
	cmd.Dir = filepath.Join("..", "..", "client")
	cmd.Env = append(os.Environ(), "KEYHUB_URL="+s.URL, "KEYHUB_VERIFIER_KEY="+verifier, "KEYHUB_EXAMPLE_KEY="+key)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test -run ExampleMiddleware in client/: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
