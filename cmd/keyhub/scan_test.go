package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runInDir runs the binary in dir with stdin, like run.
func runInDir(t *testing.T, dir, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env, cmd.Dir, cmd.Stdin = cleanEnv(env...), dir, strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScan plants real keys and look-alikes with bad checksums in a folder
// and a git history: scan reports the keys — file, line, hint, never the key
// — and nothing else; --check tells live keys from revoked ones by their
// digests; --revoke revokes them.
func TestScan(t *testing.T) {
	t.Parallel()
	s := startServer(t, serveOpts{})
	op := s.cliEnv(s.Operator, "")
	tenant := field(t, mustRun(t, op, "tenants", "create", "acme").stdout, "id")
	env := s.cliEnv(s.Operator, tenant)
	newKey := func(name string) (id, key string) {
		r := mustRun(t, env, "keys", "create", "--name", name)
		return field(t, r.stdout, "id"), field(t, r.stdout, "key")
	}
	liveID, live := newKey("leaked")
	deadID, dead := newKey("old")
	mustRun(t, env, "keys", "revoke", deadID)
	// Same shape, wrong checksum; and a key of a prefix no tenant uses.
	lookAlike := live[:len(live)-2] + map[bool]string{true: "zz", false: "yy"}[!strings.HasSuffix(live, "zz")]

	dir := t.TempDir()
	write(t, filepath.Join(dir, "config", "prod.env"), "DB=postgres://x\nKEYHUB_KEY="+live+"\n")
	write(t, filepath.Join(dir, "src", "old.go"), "package x\n\n// "+lookAlike+"\nconst k = \""+dead+"\"\n")
	write(t, filepath.Join(dir, "bin", "blob"), "\x00\x01"+live) // binary: skipped
	write(t, filepath.Join(dir, "README.md"), "nothing here: kh_live_short, kh_live_"+strings.Repeat("A", 38)+"\n")

	r := runInDir(t, dir, "", nil, "scan")
	if r.code != 1 {
		t.Fatalf("scan with keys planted: exit %d\n%s", r.code, r)
	}
	for _, want := range []string{"config/prod.env:2:12: " + live[:len("kh_live_")+4] + "…", "src/old.go:4:12: " + dead[:len("kh_live_")+4] + "…"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("scan output lacks %q:\n%s", want, r)
		}
	}
	if strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("want exactly the two keys, got:\n%s", r)
	}
	for _, k := range []string{live, dead, lookAlike} {
		if strings.Contains(r.stdout+r.stderr, k) {
			t.Fatalf("scan printed a whole key:\n%s", r)
		}
	}

	r = runInDir(t, dir, "", env, "scan", "--check", "--json", ".")
	if r.code != 1 {
		t.Fatalf("scan --check with a live key: exit %d\n%s", r.code, r)
	}
	var found []struct {
		File, Hint, State string
		Line              int
		Live              *bool
		KeyID             string `json:"key_id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &found); err != nil || len(found) != 2 {
		t.Fatalf("scan --json: %v\n%s", err, r)
	}
	for _, f := range found {
		switch f.KeyID {
		case liveID:
			if f.Live == nil || !*f.Live || f.State != "active" || f.File != "config/prod.env" || f.Line != 2 {
				t.Errorf("live key: %+v", f)
			}
		case deadID:
			if f.Live == nil || *f.Live || f.State != "revoked" {
				t.Errorf("revoked key: %+v", f)
			}
		default:
			t.Errorf("unexpected finding %+v", f)
		}
	}
	// Another tenant's credential learns nothing of these keys.
	other := field(t, mustRun(t, op, "tenants", "create", "other").stdout, "id")
	otherKey := field(t, mustRun(t, s.cliEnv(s.Operator, other), "keys", "create", "--name", "scanner",
		"--scope", "read:api_keys").stdout, "key")
	r = runInDir(t, dir, "", s.cliEnv(otherKey, ""), "scan", "--check")
	if r.code != 0 || strings.Count(r.stdout, "unknown key") != 2 {
		t.Errorf("another tenant's check: exit %d\n%s", r.code, r)
	}

	r = runInDir(t, dir, "", env, "scan", "--revoke", "config")
	if r.code != 1 || !strings.Contains(r.stdout, "now revoked ("+liveID+")") {
		t.Fatalf("scan --revoke: %s", r)
	}
	if v := run(t, env, "verify", live); field(t, v.stdout, "code") != "REVOKED" {
		t.Fatalf("after --revoke: %s", v)
	}
	if r := runInDir(t, dir, "", env, "scan", "--check", "config"); r.code != 0 {
		t.Errorf("nothing live any more: exit %d\n%s", r.code, r)
	}

	// Standard input, and nothing found.
	if r := runInDir(t, dir, "x="+dead+"\n", nil, "scan", "-"); r.code != 1 || !strings.Contains(r.stdout, "-:1:3:") {
		t.Errorf("scan -: %s", r)
	}
	if r := runInDir(t, dir, "", nil, "scan", "README.md"); r.code != 0 || !strings.Contains(r.stderr, "no keys found") {
		t.Errorf("scan of a clean file: %s", r)
	}

	// A key committed and removed again is still in the history.
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed for scan --git")
	}
	repo := t.TempDir()
	gitEnv := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "HOME=" + repo}
	gitRun := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), gitEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitRun("init", "-q")
	write(t, filepath.Join(repo, "app.py"), "import os\n\nKEY = '"+live+"'\n")
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "add key")
	write(t, filepath.Join(repo, "app.py"), "import os\n\nKEY = os.environ['KEY']\n")
	gitRun("commit", "-q", "-am", "remove key")
	if r := runInDir(t, repo, "", nil, "scan", "."); r.code != 0 {
		t.Errorf("the working tree is clean: %s", r)
	}
	r = runInDir(t, repo, "", nil, "scan", "--git")
	if r.code != 1 || !strings.Contains(r.stdout, ":app.py:3:8: "+live[:len("kh_live_")+4]+"…") {
		t.Errorf("scan --git: %s", r)
	}
}
