package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionOfTheBinary: the binary tells its version from its build
// info. The tests build it as .ci/run does, with -buildvcs=false when
// GOFLAGS says so, and then it says there is no commit to tell.
func TestVersionOfTheBinary(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "version")
	if r.code != 0 || !regexp.MustCompile(`^keyhub \S+ \(commit (unknown: built without VCS information|[0-9a-f]{12}[^)]*)\), go1\.\S+ \w+/\w+\n$`).MatchString(r.stdout) {
		t.Fatalf("keyhub version: %s", r)
	}
	if strings.Contains(os.Getenv("GOFLAGS"), "-buildvcs=false") && !strings.Contains(r.stdout, "commit unknown") {
		t.Errorf("built with -buildvcs=false, yet version names a commit: %s", r.stdout)
	}
	if v := run(t, nil, "--version"); v.stdout != r.stdout {
		t.Errorf("--version %q, version %q", v.stdout, r.stdout)
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{"bash": "__start_keyhub", "zsh": "#compdef keyhub", "fish": "complete -c keyhub"} {
		if r := run(t, nil, "completion", shell); r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: %s", shell, r)
		}
	}
	if r := run(t, nil, "__complete", "keys", "list", "--state", ""); !strings.Contains(r.stdout, "revoked\n") {
		t.Errorf("completing --state: %s", r)
	}
}

// TestLoginAgainstServer logs in to a real server with the bootstrap key
// read from standard input, then uses the profile.
func TestLoginAgainstServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, serveOpts{})
	cfg := filepath.Join(t.TempDir(), "keyhub", "config.json")
	env := []string{"KEYHUB_CONFIG=" + cfg}
	r := runIn(t, env, s.Operator+"\n", "login", "--url", s.URL)
	if r.code != 0 || !strings.Contains(r.stdout, "logged in to "+s.URL) || strings.Contains(r.stdout+r.stderr, s.Operator) {
		t.Fatalf("login: %s", r)
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file %v mode %v", err, fi.Mode())
	}
	if r := run(t, env, "tenants", "create", "from-profile"); r.code != 0 || !strings.Contains(r.stdout, "from-profile") {
		t.Fatalf("tenants create with the saved profile: %s", r)
	}
	if r := runIn(t, env, "kh_op_notakey\n", "login", "--profile", "wrong", "--url", s.URL); r.code != 1 ||
		!strings.Contains(r.stderr, "refused the credential, nothing saved") {
		t.Errorf("login with a wrong key: %s", r)
	}
}
