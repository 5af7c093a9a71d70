package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
)

// The files and secrets of a node: what serve creates is readable by its
// owner only, and the bootstrap operator key reaches the operator on
// standard output or in a file of its own, never in the log stream.

func TestServeFilesArePrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, serveOpts{dir: dir})
	// A write, so that SQLite has made its -wal and -shm files.
	s.Tenant("acme", nil)
	for _, name := range []string{"keyhub.db", "keyhub.db-wal", "keyhub.db-shm", "keyhub.master.key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", name, mode)
		}
	}
}

func TestBootstrapKeyNeverInTheLog(t *testing.T) {
	t.Parallel()
	s := startServer(t, serveOpts{args: []string{"--log-format", "json"}})
	if s.Operator == "" {
		t.Fatalf("no KEYHUB_API_KEY=<key> line on stdout:\n%s", s.stdout)
	}
	if got := s.stdout.String(); !strings.Contains(got, "\nKEYHUB_API_KEY="+s.Operator+"\n") {
		t.Errorf("stdout %q lacks the key on a line of its own", got)
	}
	s.stop(syscall.SIGTERM, 20*time.Second)
	log := s.stderr.String()
	if strings.Contains(log, s.Operator) || strings.Contains(log, "KEYHUB_API_KEY=") {
		t.Errorf("the bootstrap key is in the log:\n%s", log)
	}
	// Every line of a JSON log is a JSON object: nothing else is written
	// into the stream.
	for _, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a line of the JSON log is not JSON: %q", line)
		}
	}
	if !strings.Contains(log, "created the bootstrap operator key") {
		t.Errorf("the log does not say a key was made:\n%s", log)
	}
}

func TestBootstrapKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "operator.key")
	s := startServer(t, serveOpts{dir: dir, env: []string{"KEYHUB_BOOTSTRAP_KEY_FILE=" + file}})
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the bootstrap key file was not written: %v", err)
	}
	key := apitest.BootstrapKeyIn(string(b))
	if !strings.HasPrefix(key, "kh_op_") || string(b) != "KEYHUB_API_KEY="+key+"\n" {
		t.Fatalf("bootstrap key file holds %q, want one KEYHUB_API_KEY=<key> line", b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("bootstrap key file has mode %o, want 600", fi.Mode().Perm())
	}
	if s.Operator != "" || strings.Contains(s.stdout.String(), key) || strings.Contains(s.stderr.String(), key) {
		t.Errorf("the key went to stdout or the log too:\n%s\n--- stderr:\n%s", s.stdout, s.stderr)
	}
	if r := run(t, s.cliEnv(key, ""), "tenants", "list"); r.code != 0 {
		t.Fatalf("the key of the file does not work: %s", r)
	}
	s.stop(syscall.SIGTERM, 20*time.Second)

	// A restart on the same store and file makes no key and leaves the
	// file as it was.
	startServer(t, serveOpts{dir: dir, args: []string{"--bootstrap-key-file", file}})
	if after, _ := os.ReadFile(file); string(after) != string(b) {
		t.Errorf("the restart changed the key file: %q", after)
	}

	// A file that exists on an empty store is never overwritten: the start
	// fails, naming the file and the way out.
	r := run(t, nil, "serve", "--addr", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(t.TempDir(), "new.db"),
		"--bootstrap-key-file", file)
	if r.code != 1 || !strings.Contains(r.stderr, file) || !strings.Contains(r.stderr, "operator-key create") {
		t.Errorf("serve with an existing key file on an empty store: %s", r)
	}
	if after, _ := os.ReadFile(file); string(after) != string(b) {
		t.Errorf("the key file was overwritten: %q", after)
	}
	if strings.Contains(r.stdout+r.stderr, "kh_op_") {
		t.Errorf("the new key was printed after all: %s", r)
	}
}

// TestOperatorKeyCreate mints an operator key offline for an operator who
// lost theirs: it works on the server, is audited, and goes to stdout or a
// key file only.
func TestOperatorKeyCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "keyhub.db")
	s := startServer(t, serveOpts{dir: dir})
	lost := s.Operator
	s.stop(syscall.SIGTERM, 20*time.Second)

	r := run(t, nil, "operator-key", "create", "--db", db)
	if r.code != 0 {
		t.Fatalf("operator-key create: %s", r)
	}
	key := apitest.BootstrapKeyIn(r.stdout)
	if !strings.HasPrefix(key, "kh_op_") || r.stdout != "KEYHUB_API_KEY="+key+"\n" {
		t.Fatalf("stdout %q, want one KEYHUB_API_KEY=<key> line", r.stdout)
	}
	if strings.Contains(r.stderr, key) || !strings.Contains(r.stderr, "created operator key key_") {
		t.Errorf("stderr: %q", r.stderr)
	}

	// Into a file, which is never overwritten; a running server accepts
	// the key at once.
	s = startServer(t, serveOpts{dir: dir})
	file := filepath.Join(t.TempDir(), "recovery.key")
	r = run(t, nil, "operator-key", "create", "--db", db, "--name", "second", "--key-file", file)
	b, _ := os.ReadFile(file)
	fileKey := apitest.BootstrapKeyIn(string(b))
	if r.code != 0 || fileKey == "" || strings.Contains(r.stdout+r.stderr, fileKey) {
		t.Fatalf("operator-key create --key-file: %s\nfile: %q", r, b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file has mode %o, want 600", fi.Mode().Perm())
	}
	if r := run(t, nil, "operator-key", "create", "--db", db, "--key-file", file); r.code != 1 || !strings.Contains(r.stderr, file) {
		t.Errorf("operator-key create onto an existing key file: %s", r)
	}
	if after, _ := os.ReadFile(file); string(after) != string(b) {
		t.Errorf("the key file was overwritten: %q", after)
	}

	for _, k := range []string{key, fileKey, lost} {
		if r := run(t, s.cliEnv(k, ""), "tenants", "list"); r.code != 0 {
			t.Errorf("tenants list with an operator key: %s", r)
		}
	}
	events := s.Native(200, "GET", "/v1/audit-events?action=operator_key.created", key, "", nil)["data"].([]any)
	var offline int
	for _, e := range events {
		actor := e.(map[string]any)["actor"].(map[string]any)
		if actor["type"] == "system" && actor["id"] == "operator-key-create" {
			offline++
		}
	}
	if offline != 2 {
		t.Errorf("%d operator_key.created events by system/operator-key-create, want 2: %v", offline, events)
	}

	// A database that does not exist is a usage error, not a new store.
	missing := filepath.Join(t.TempDir(), "nowhere.db")
	if r := run(t, nil, "operator-key", "create", "--db", missing); r.code != 2 || !strings.Contains(r.stderr, missing) {
		t.Errorf("operator-key create on a missing database: %s", r)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("operator-key create made a database at %s", missing)
	}
}
