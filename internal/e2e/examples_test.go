package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// tool finds a program the examples run with. CI installs them (.ci/run);
// elsewhere a missing one skips the example.
func tool(t *testing.T, name string, check ...string) string {
	t.Helper()
	// The first on PATH may lack what the check needs (a pyenv Python
	// without httpx) where the system's has it.
	var err error
	for _, cand := range []string{name, "/usr/bin/" + name} {
		var path string
		if path, err = exec.LookPath(cand); err == nil {
			if err = exec.Command(path, check...).Run(); err == nil {
				return path
			}
		}
	}
	{
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed for this example (.ci/run installs it): %v", name, err)
		}
		t.Skipf("%s is not available: %v", name, err)
	}
	return ""
}

// run runs a program in dir with extra environment and returns its output.
func run(t *testing.T, dir string, env []string, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// readmeBlock returns the README's fenced code block of lang that holds
// marker: the example exactly as a reader copies it.
func readmeBlock(t *testing.T, lang, marker string) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```"+lang+"\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
		if strings.Contains(m[1], marker) {
			return m[1]
		}
	}
	t.Fatalf("README has no %s block holding %q", lang, marker)
	return ""
}

// TestYAXITokenExamples runs the YAXI document's Python and Node token
// requests unchanged but for the URL, and uses the token they get.
func TestYAXITokenExamples(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tenant := s.Tenant("acme", nil)
	id, secret := s.OAuthClient(tenant, map[string]any{"name": "yaxi", "scopes": strings.Fields(yaxiScopes), "audiences": []string{"hub:api"}})
	fill := func(src string) string {
		return strings.NewReplacer("https://kinde.yaxi.tech/oauth2/token", s.URL+"/oauth2/token",
			"YOUR_CLIENT_ID", id, "YOUR_CLIENT_SECRET", secret).Replace(src)
	}
	dir := t.TempDir()
	examples := map[string]struct {
		file, src, print string
		prog             []string
	}{
		"Python": {"yaxi_token.py", pythonTokenExample, "\nprint(token)\n", []string{"python3", "-c", "import httpx"}},
		"Node":   {"yaxi_token.mjs", nodeTokenExample, "\nconsole.log(token)\n", []string{"node", "--version"}},
	}
	for name, ex := range examples {
		t.Run(name, func(t *testing.T) {
			prog := tool(t, ex.prog[0], ex.prog[1:]...)
			if err := os.WriteFile(filepath.Join(dir, ex.file), []byte(fill(ex.src)+ex.print), 0o600); err != nil {
				t.Fatal(err)
			}
			token := run(t, dir, nil, prog, ex.file)
			if !strings.HasPrefix(token, "eyJ") {
				t.Fatalf("%s example printed %q, not a token", name, token)
			}
			s.Must(200, "GET", "/api/tenant/api-keys", nil, "Authorization: Bearer "+token)
		})
	}
}

// The YAXI document's token requests, byte for byte.
const pythonTokenExample = `import httpx
response = httpx.post(
"https://kinde.yaxi.tech/oauth2/token",
data={
"grant_type": "client_credentials",
"client_id": "YOUR_CLIENT_ID",
"client_secret": "YOUR_CLIENT_SECRET",
"audience": "hub:api",
"scope": "read:api_keys create:api_keys delete:api_keys",
},
)
token = response.json()["access_token"]`

const nodeTokenExample = `const params = new URLSearchParams({
grant_type: "client_credentials",
client_id: "YOUR_CLIENT_ID",
client_secret: "YOUR_CLIENT_SECRET",
audience: "hub:api",
scope: "read:api_keys create:api_keys delete:api_keys",
})
const response = await fetch("https://kinde.yaxi.tech/oauth2/token", {
method: "POST",
headers: { "Content-Type": "application/x-www-form-urlencoded" },
body: params,
})
const { access_token: token } = await response.json()`

// TestREADMETicketFlow runs the README's YAXI ticket flow as a reader
// would: create a key on the YAXI surface, mint a ticket with the README's
// Python and Node code as it is, verify it with the README's request.
func TestREADMETicketFlow(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tenant := s.Tenant("acme", nil)
	_, hub := s.Key(tenant, map[string]any{"name": "hub", "scopes": strings.Fields(yaxiScopes)})
	k := s.Must(201, "POST", "/api/api-keys", `{"name":"my api key","environment":"Production","hostSoftware":"Generic","redirectScraping":false}`,
		"Authorization: Bearer "+hub).Object(t)
	env := []string{"KEY_ID=" + k["id"].(string), "SECRET=" + k["secret"].(string)}
	dir := t.TempDir()
	for name, ex := range map[string]struct{ file, lang, marker, prog string }{
		"Python": {"ticket.py", "python", "def ticket(", "python3"},
		"Node":   {"ticket.js", "js", "function ticket(", "node"},
	} {
		t.Run(name, func(t *testing.T) {
			prog := tool(t, ex.prog, "--version")
			if err := os.WriteFile(filepath.Join(dir, ex.file), []byte(readmeBlock(t, ex.lang, ex.marker)), 0o600); err != nil {
				t.Fatal(err)
			}
			ticket := run(t, dir, env, prog, ex.file)
			a := s.Native(200, "POST", "/v1/tickets/verify", s.Operator, "", map[string]any{"ticket": ticket})
			claims, _ := a["claims"].(map[string]any)
			if a["code"] != "VALID" || claims["data"].(map[string]any)["account"] != "acme" {
				t.Fatalf("the README's %s ticket: %v", name, a)
			}
		})
	}
}
