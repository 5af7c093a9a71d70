package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/buildinfo"
)

// The conventions of gh and stripe that issue 12 asks for: version,
// completion, login with profiles, errors in the CLI's own terms.

func TestVersion(t *testing.T) {
	res := run(t, "", nil, "", "version")
	line := regexp.MustCompile(`^keyhub \S+ \((commit unknown: built without VCS information|commit [0-9a-f]{1,12}(, \d{4}-\d\d-\d\d)?(, modified)?)\), go\S+ \w+/\w+\n$`)
	if res.code != 0 || !line.MatchString(res.stdout) {
		t.Fatalf("version: code %d stdout %q", res.code, res.stdout)
	}
	if flag := run(t, "", nil, "", "--version"); flag.code != 0 || flag.stdout != res.stdout {
		t.Errorf("--version printed %q, version %q", flag.stdout, res.stdout)
	}
	var info map[string]any
	js := run(t, "", nil, "", "version", "--json")
	if err := json.Unmarshal([]byte(js.stdout), &info); err != nil || info["version"] == "" || info["go_version"] == "" {
		t.Errorf("version --json: %s (%v)", js.stdout, err)
	}
	// No server, no credential needed.
	if res := run(t, "http://127.0.0.1:1", map[string]string{"KEYHUB_API_KEY": ""}, "", "version"); res.code != 0 {
		t.Errorf("version without a credential: %d %s", res.code, res.stderr)
	}
}

func TestVersionLine(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		info buildinfo.Info
		want string
	}{
		{buildinfo.Info{Version: "v1.2.3", Commit: "0123456789abcdef", CommitTime: &at, GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"keyhub v1.2.3 (commit 0123456789ab, 2026-11-20), go1.26.8 linux/amd64"},
		{buildinfo.Info{Version: "v0.0.0-20261120093000-0123456789ab+dirty", Commit: "0123456789abcdef", Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"},
			"keyhub v0.0.0-20261120093000-0123456789ab+dirty (commit 0123456789ab, modified), go1.26.8 linux/arm64"},
		{buildinfo.Info{Version: "(devel)", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"keyhub (devel) (commit unknown: built without VCS information), go1.26.8 linux/amd64"},
	} {
		if got := versionLine(c.info); got != c.want {
			t.Errorf("versionLine = %q, want %q", got, c.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	none := map[string]string{"KEYHUB_API_KEY": ""}
	for shell, want := range map[string]string{"bash": "__start_keyhub", "zsh": "#compdef keyhub", "fish": "complete -c keyhub", "powershell": "Register-ArgumentCompleter"} {
		res := run(t, "", none, "", "completion", shell)
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Errorf("completion %s: code %d, stdout lacks %q; stderr %s", shell, res.code, want, res.stderr)
		}
	}
	// What the shells ask at a TAB, without a credential or a server.
	res := run(t, "http://127.0.0.1:1", none, "", "__complete", "keys", "list", "--state", "")
	for _, s := range []string{"active", "disabled", "revoked", "expired"} {
		if res.code != 0 || !strings.Contains(res.stdout, s+"\n") {
			t.Errorf("completing --state: code %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
		}
	}
	res = run(t, "", none, "", "__complete", "ke")
	if !strings.Contains(res.stdout, "keys\t") {
		t.Errorf("completing a command: %q", res.stdout)
	}
}

// keyServer is a keyhub that accepts the bearer credential key alone.
func keyServer(t *testing.T, key string) *fakeServer {
	return newFake(t, 0, "", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(401)
			w.Write([]byte(`{"status":401,"code":"invalid_token","detail":"the credential is invalid, revoked, disabled or expired"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":[]}`))
	})
}

func TestLoginAndProfiles(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "keyhub", "config.json")
	prod, staging := keyServer(t, "kh_live_prodkey0123456789"), keyServer(t, "kh_live_stagingkey012345")
	vars := func(kv ...string) map[string]string {
		m := map[string]string{"KEYHUB_API_KEY": "", "KEYHUB_URL": "", "KEYHUB_CONFIG": cfgPath}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	// Login reads the key from standard input, checks it, saves it 0600.
	res := run(t, "", vars(), "kh_live_prodkey0123456789\n", "login", "--url", prod.URL, "--tenant", "ten_01J8Z3Q4W5E6R7T8Y9V0K1M2P3")
	if res.code != 0 || !strings.Contains(res.stdout, `saved as profile "default" in `+cfgPath) {
		t.Fatalf("login: code %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stdout+res.stderr, "prodkey0123456789") {
		t.Errorf("login printed the key: %s %s", res.stdout, res.stderr)
	}
	fi, err := os.Stat(cfgPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if d, _ := os.Stat(filepath.Dir(cfgPath)); d.Mode().Perm() != 0o700 {
		t.Errorf("config directory mode %v, want 0700", d.Mode().Perm())
	}

	// A named profile for another server.
	res = run(t, "", vars(), "kh_live_stagingkey012345", "login", "--profile", "staging", "--url", staging.URL)
	if res.code != 0 {
		t.Fatalf("login --profile staging: %d %s", res.code, res.stderr)
	}

	// Commands use the default profile's server, credential and tenant.
	if res := run(t, "", vars(), "", "roles", "list"); res.code != 0 {
		t.Fatalf("roles list with the default profile: %d %s", res.code, res.stderr)
	}
	last := prod.reqs[len(prod.reqs)-1]
	if last.Path != "/v1/roles" || last.Header.Get("Keyhub-Tenant") != "ten_01J8Z3Q4W5E6R7T8Y9V0K1M2P3" {
		t.Errorf("default profile sent %s with tenant %q", last.Path, last.Header.Get("Keyhub-Tenant"))
	}
	// --profile and KEYHUB_PROFILE choose another.
	before := len(staging.reqs)
	if res := run(t, "", vars(), "", "--profile", "staging", "roles", "list"); res.code != 0 {
		t.Fatalf("--profile staging: %d %s", res.code, res.stderr)
	}
	if res := run(t, "", vars("KEYHUB_PROFILE", "staging"), "", "roles", "list"); res.code != 0 {
		t.Fatalf("KEYHUB_PROFILE=staging: %d %s", res.code, res.stderr)
	}
	if len(staging.reqs) != before+2 {
		t.Errorf("staging got %d requests, want 2", len(staging.reqs)-before)
	}
	// A credential from the environment wins over the profile's.
	if res := run(t, "", vars("KEYHUB_API_KEY", "kh_live_other"), "", "roles", "list"); res.code != 1 ||
		!strings.Contains(res.stderr, "(the credential from KEYHUB_API_KEY)") {
		t.Errorf("KEYHUB_API_KEY over a profile: %d %s", res.code, res.stderr)
	}

	// A profile's credential never goes to another server.
	other := newFake(t, 200, `{"data":[]}`, nil)
	res = run(t, "", vars(), "", "--url", other.URL, "roles", "list")
	if res.code != 1 || len(other.reqs) != 0 || strings.Count(res.stderr, "\n") != 1 ||
		!strings.Contains(res.stderr, `profile "default" is for `+prod.URL) {
		t.Errorf("profile for another server: code %d, %d requests, stderr %q", res.code, len(other.reqs), res.stderr)
	}
	if res := run(t, "", vars(), "", "--profile", "nope", "roles", "list"); res.code != 1 ||
		!strings.Contains(res.stderr, `no profile "nope" in `+cfgPath) {
		t.Errorf("unknown profile: %d %q", res.code, res.stderr)
	}

	// Profiles list without secrets.
	res = run(t, "", vars("KEYHUB_PROFILE", "staging"), "", "profiles")
	if res.code != 0 || !strings.Contains(res.stdout, "default") || !strings.Contains(res.stdout, "*  staging") ||
		strings.Contains(res.stdout, "stagingkey012345") || !strings.Contains(res.stdout, "kh_live_stag…") {
		t.Errorf("profiles: %d %q", res.code, res.stdout)
	}

	// A refused credential is not saved.
	res = run(t, "", vars(), "kh_live_wrong\n", "login", "--profile", "bad", "--url", prod.URL)
	if res.code != 1 || !strings.Contains(res.stderr, "refused the credential, nothing saved") {
		t.Errorf("login with a refused key: %d %q", res.code, res.stderr)
	}
	if res := run(t, "", vars(), "", "profiles"); strings.Contains(res.stdout, "bad") {
		t.Errorf("a refused login was saved: %s", res.stdout)
	}

	// Logout forgets one profile.
	if res := run(t, "", vars(), "", "logout", "--profile", "staging"); res.code != 0 {
		t.Fatalf("logout: %d %s", res.code, res.stderr)
	}
	if res := run(t, "", vars(), "", "--profile", "staging", "roles", "list"); res.code != 1 {
		t.Errorf("a logged-out profile still works: %s", res.stdout)
	}

	// A config file others may read is refused.
	if err := os.Chmod(cfgPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := run(t, "", vars(), "", "roles", "list"); res.code != 1 || !strings.Contains(res.stderr, "run chmod 600 "+cfgPath) {
		t.Errorf("readable config file: %d %q", res.code, res.stderr)
	}
}

func TestLoginClientCredentials(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	f := newOAuthFake(t)
	vars := map[string]string{"KEYHUB_API_KEY": "", "KEYHUB_CONFIG": cfgPath}
	res := run(t, f.URL, vars, "", "login", "--client-id", "cli_01", "--client-secret", "sec_x")
	if res.code != 0 || !strings.Contains(res.stdout, "as OAuth client cli_01") {
		t.Fatalf("login with a client: %d %q %q", res.code, res.stdout, res.stderr)
	}
	if res := run(t, f.URL, vars, "", "roles", "list"); res.code != 0 {
		t.Fatalf("roles list with a client profile: %d %s", res.code, res.stderr)
	}
	api := f.api()
	if got := api[len(api)-1].Header.Get("Authorization"); got != "Bearer at_cli_01" {
		t.Errorf("Authorization %q, want the client's token", got)
	}
}

func TestErrorsNameFlagsNotHeaders(t *testing.T) {
	f := newFake(t, 400, `{"status":400,"code":"tenant_required","detail":"operator credentials must name the tenant to act on (the Keyhub-Tenant header)"}`, nil)
	res := run(t, f.URL, nil, "", "keys", "list")
	if res.code != 1 || strings.Contains(res.stderr, "Keyhub-Tenant") || strings.Count(res.stderr, "\n") != 1 ||
		!strings.Contains(res.stderr, "give --tenant or set KEYHUB_TENANT") {
		t.Errorf("tenant_required: %d %q", res.code, res.stderr)
	}
	f = newFake(t, 400, `{"status":400,"code":"invalid_tenant","detail":"Keyhub-Tenant header is not a tenant id","errors":[{"field":"Keyhub-Tenant","message":"must be a tenant id (ten_…)"}]}`, nil)
	res = run(t, f.URL, nil, "", "keys", "list", "--tenant", "acme")
	if res.code != 1 || strings.Contains(res.stderr, "Keyhub-Tenant") || !strings.Contains(res.stderr, `--tenant (KEYHUB_TENANT) "acme" is not a tenant id`) {
		t.Errorf("invalid_tenant: %d %q", res.code, res.stderr)
	}
}

func TestServerDown(t *testing.T) {
	f := newFake(t, 200, "{}", nil)
	url := f.URL
	f.Close()
	res := run(t, url, nil, "", "keys", "list")
	want := "keyhub: cannot reach " + url + ": connection refused; is `keyhub serve` running at " + url + "? (--url, KEYHUB_URL)\n"
	if res.code != 1 || res.stderr != want {
		t.Errorf("code %d stderr %q, want %q", res.code, res.stderr, want)
	}
}

// TestNoRepeatedCommandName: an error says "keyhub:" once and never names
// the command again on its line.
func TestNoRepeatedCommandName(t *testing.T) {
	for _, args := range [][]string{
		{"keys", "get"}, {"keys", "get", "a", "b"}, {"keys", "create"}, {"keys", "update", "key_1"},
		{"keys", "create", "--name", "a", "--refill", "10/daily"}, {"keys", "update", "key_1", "--enable", "--disable"},
		{"roles", "update", "role_1"}, {"tenants", "update", "ten_1"}, {"clients", "update", "cli_1"},
		{"verify", "kh_live_x", "--cost", "-1"}, {"auth", "api-key", "create"},
	} {
		res := run(t, "http://127.0.0.1:1", nil, "", args...)
		first, _, _ := strings.Cut(res.stderr, "\n")
		if res.code != 2 || !strings.HasPrefix(first, "keyhub: ") || strings.Contains(first, "keyhub "+args[0]) {
			t.Errorf("keyhub %s: code %d, first line %q", strings.Join(args, " "), res.code, first)
		}
	}
}
