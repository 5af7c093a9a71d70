package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the real keyhub binary, built once by TestMain, the way
// users do: `keyhub serve` as a process, and the client commands against
// it through KEYHUB_URL, KEYHUB_API_KEY and KEYHUB_TENANT.

func TestServeDefaults(t *testing.T) {
	t.Parallel()
	t.Run("EmptyDirCreatesKeyhubDBAndPrintsKey", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s := startServer(t, serveOpts{dir: dir})
		if s.Operator == "" {
			t.Fatalf("first start printed no KEYHUB_API_KEY=<key> line of its own on stdout:\n%s\n--- stderr:\n%s", s.stdout, s.stderr)
		}
		if !strings.HasPrefix(s.Operator, "kh_") {
			t.Errorf("bootstrap key %q does not look like a keyhub key", s.Operator)
		}
		if _, err := os.Stat(filepath.Join(dir, "keyhub.db")); err != nil {
			t.Fatalf("serve with no --db did not create ./keyhub.db: %v", err)
		}
		s.stop(syscall.SIGTERM, 20*time.Second)

		again := startServer(t, serveOpts{dir: dir})
		if strings.Contains(again.stdout.String(), "KEYHUB_API_KEY") {
			t.Fatalf("second start on the same store printed a key again:\n%s", again.stdout)
		}
		// The key printed the first time still works.
		if r := run(t, again.cliEnv(s.Operator, ""), "tenants", "list"); r.code != 0 {
			t.Fatalf("tenants list with the first start's key: %s", r)
		}
	})
	t.Run("EnvironmentInsteadOfFlags", func(t *testing.T) {
		t.Parallel()
		dir, dbDir := t.TempDir(), t.TempDir()
		db := filepath.Join(dbDir, "env.db")
		s := startServer(t, serveOpts{dir: dir, addrFromEnv: true, env: []string{"KEYHUB_DB=sqlite:" + db}})
		if s.Operator == "" {
			t.Fatalf("no key line:\n%s", s.stdout)
		}
		if _, err := os.Stat(db); err != nil {
			t.Fatalf("KEYHUB_DB was not honoured: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "keyhub.db")); err == nil {
			t.Fatalf("./keyhub.db was created although KEYHUB_DB named another file")
		}
		// startServer only found the server because KEYHUB_ADDR was used.
	})
	t.Run("SecretsFromFilesAndARedactedDump", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		masterKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
		mk, dsn := filepath.Join(dir, "mk"), filepath.Join(dir, "dsn")
		db := filepath.Join(dir, "from-file.db")
		for p, content := range map[string]string{mk: masterKey + "\n", dsn: "sqlite:" + db + "\n"} {
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s := startServer(t, serveOpts{dir: dir, env: []string{"KEYHUB_MASTER_KEY_FILE=" + mk, "KEYHUB_DB_FILE=" + dsn}})
		if _, err := os.Stat(db); err != nil {
			t.Fatalf("KEYHUB_DB_FILE was not honoured: %v", err)
		}
		out := s.stderr.String()
		for _, want := range []string{`msg=configuration`, `master-key.value=[set] master-key.source=file master-key.file=` + mk,
			`db.source=file`, `addr.source=flag`, `compat.value=all compat.source=default`} {
			if !strings.Contains(out, want) {
				t.Errorf("start-up log lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, masterKey) || strings.Contains(out, strings.TrimRight(masterKey, "=")) {
			t.Errorf("the master key is in the log:\n%s", out)
		}
		if b, _ := os.ReadFile(mk); string(b) != masterKey+"\n" {
			t.Errorf("the master key file changed: %q", b)
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "m.db")
	r := run(t, nil, "migrate", "--db", "sqlite:"+db)
	if r.code != 0 {
		t.Fatalf("migrate: %s", r)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("migrate did not create the database: %v", err)
	}
	// Migrating an up-to-date store is a no-op that succeeds.
	if r := run(t, nil, "migrate", "--db", "sqlite:"+db); r.code != 0 {
		t.Fatalf("second migrate: %s", r)
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	s := startServer(t, serveOpts{})
	good := s.cliEnv(s.Operator, "")
	closed := freePort(t) // nothing listens there any more
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		// stderr must start with "keyhub:" and its first line match this.
		first string
	}{
		{"UnknownCommand", good, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"UnknownSubcommand", good, []string{"keys", "lst"}, 2, `unknown command "lst"`},
		{"UnknownFlag", good, []string{"keys", "list", "--bogus"}, 2, `unknown flag: --bogus`},
		{"KeysCreateWithoutName", good, []string{"keys", "create", "--scope", "a:b"}, 2, `missing required flag --name`},
		{"ExpiresNonsense", good, []string{"keys", "create", "--name", "x", "--expires", "nonsense"}, 2, `"nonsense".*--expires`},
		{"WrongAPIKey", s.cliEnv("kh_op_wrongwrongwrong", ""), []string{"tenants", "list"}, 1, `401`},
		{"ServerNotRunning", []string{"KEYHUB_URL=http://" + closed, "KEYHUB_API_KEY=" + s.Operator}, []string{"tenants", "list"}, 1,
			regexp.QuoteMeta("connection refused; is `keyhub serve` running at http://" + closed + "?")},
		{"NoCredential", []string{"KEYHUB_URL=" + s.URL}, []string{"tenants", "list"}, 1, `no credential for .*run keyhub login`},
		{"TenantRequired", good, []string{"keys", "list"}, 1, `give --tenant or set KEYHUB_TENANT`},
		{"TenantNotAnID", good, []string{"keys", "list", "--tenant", "acme"}, 1, `--tenant \(KEYHUB_TENANT\) "acme" is not a tenant id`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, c.env, c.args...)
			if r.code != c.code {
				t.Fatalf("exit code %d, want %d\n%s", r.code, c.code, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty on failure:\n%s", r)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if !strings.HasPrefix(lines[0], "keyhub: ") || !regexp.MustCompile(c.first).MatchString(lines[0]) {
				t.Errorf("first stderr line %q, want it to start with \"keyhub: \" and match %q", lines[0], c.first)
			}
			switch c.code {
			case 1: // a runtime error is one line
				if len(lines) != 1 {
					t.Errorf("want exactly one line on stderr:\n%s", r)
				}
			case 2: // a usage error adds a hint
				if len(lines) != 2 || !strings.Contains(lines[1], "--help") {
					t.Errorf("want the error and a --help hint on stderr:\n%s", r)
				}
			}
		})
	}
}

func TestCLIAgainstServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, serveOpts{})
	op := s.cliEnv(s.Operator, "")

	// tenants create prints the new tenant's fields, among them its id.
	r := mustRun(t, op, "tenants", "create", "acme")
	tenant := field(t, r.stdout, "id")
	if !strings.HasPrefix(tenant, "ten_") || field(t, r.stdout, "name") != "acme" {
		t.Fatalf("tenants create acme:\n%s", r)
	}
	r = mustRun(t, op, "tenants", "list", "--json")
	var tenants []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(r.stdout), &tenants); err != nil {
		t.Fatalf("tenants list --json is not a JSON array of tenants: %v\n%s", err, r)
	}
	if len(tenants) != 1 || tenants[0].ID != tenant || tenants[0].Name != "acme" {
		t.Fatalf("tenants list --json = %+v, want just acme %s", tenants, tenant)
	}

	env := s.cliEnv(s.Operator, tenant)
	r = mustRun(t, env, "keys", "create", "--name", "backend", "--scope", "payouts:write,payouts:read",
		"--env", "live", "--expires", "90d", "--ip", "10.0.0.0/8")
	secrets := regexp.MustCompile(`kh_live_[A-Za-z0-9]+`).FindAllString(r.stdout, -1)
	secret := field(t, r.stdout, "key")
	if !strings.HasPrefix(secret, "kh_live_") || len(secret) < 30 {
		t.Fatalf("keys create printed no kh_live_ secret:\n%s", r)
	}
	// The secret is shown once; the only other kh_live_ string is its
	// short public start.
	for _, m := range secrets {
		if m != secret && !strings.HasPrefix(secret, m) {
			t.Errorf("unexpected key-like string %q in:\n%s", m, r)
		}
	}
	if strings.Count(r.stdout, secret) != 1 {
		t.Errorf("secret printed %d times, want once:\n%s", strings.Count(r.stdout, secret), r)
	}
	id := field(t, r.stdout, "id")
	for name, want := range map[string]string{"name": "backend", "environment": "live", "state": "active",
		"scopes": "payouts:write,payouts:read", "ips": "10.0.0.0/8"} {
		if got := field(t, r.stdout, name); got != want {
			t.Errorf("keys create: %s = %q, want %q", name, got, want)
		}
	}
	wantExpiry := time.Now().UTC().Add(90 * 24 * time.Hour)
	if exp, err := time.Parse(time.RFC3339, field(t, r.stdout, "expires")); err != nil || exp.Sub(wantExpiry).Abs() > time.Hour {
		t.Errorf("keys create --expires 90d: expires %q, want about %s", field(t, r.stdout, "expires"), wantExpiry.Format(time.RFC3339))
	}

	r = mustRun(t, env, "keys", "list")
	header, rows := table(t, r.stdout)
	if len(rows) != 1 {
		t.Fatalf("keys list: want one row:\n%s", r)
	}
	if rows[0]["ID"] != id || rows[0]["STATE"] != "active" || rows[0]["NAME"] != "backend" {
		t.Errorf("keys list row %v, want id %s, name backend, state active", rows[0], id)
	}
	if header[0] != "ID" {
		t.Errorf("keys list header %v does not start with ID", header)
	}
	if strings.Contains(r.stdout, secret) {
		t.Errorf("keys list shows the secret:\n%s", r)
	}

	r = mustRun(t, env, "keys", "get", id, "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("keys get --json: %v\n%s", err, r)
	}
	if got["id"] != id {
		t.Errorf("keys get --json id = %v, want %s", got["id"], id)
	}
	if _, ok := got["key"]; ok || strings.Contains(r.stdout, secret) {
		t.Errorf("keys get --json shows the secret:\n%s", r)
	}

	r = mustRun(t, env, "keys", "update", id, "--name", "renamed", "--disable")
	if field(t, r.stdout, "name") != "renamed" || field(t, r.stdout, "state") != "disabled" {
		t.Errorf("keys update --name renamed --disable:\n%s", r)
	}
	verify := func(want string, code int) {
		t.Helper()
		r := run(t, env, "verify", secret, "--scope", "payouts:write", "--ip", "10.1.2.3")
		if r.code != code || field(t, r.stdout, "code") != want {
			t.Fatalf("verify: want code %s and exit %d, got\n%s", want, code, r)
		}
	}
	verify("DISABLED", 1)
	mustRun(t, env, "keys", "update", id, "--enable")
	verify("VALID", 0)
	// The IP allow-list is enforced by the same command.
	if r := run(t, env, "verify", secret, "--ip", "192.0.2.1"); r.code != 1 || field(t, r.stdout, "valid") != "false" {
		t.Errorf("verify from outside 10.0.0.0/8:\n%s", r)
	}

	r = mustRun(t, env, "roles", "create", "--name", "readers", "--scope", "payouts:read")
	role := field(t, r.stdout, "id")
	if !strings.HasPrefix(role, "role_") {
		t.Fatalf("roles create:\n%s", r)
	}
	r = mustRun(t, env, "keys", "create", "--name", "member", "--role", role)
	if field(t, r.stdout, "role") != role {
		t.Errorf("keys create --role: role = %q, want %s", field(t, r.stdout, "role"), role)
	}
	r = run(t, env, "roles", "delete", role)
	if r.code != 1 {
		t.Fatalf("roles delete of a role in use: want exit 1\n%s", r)
	}
	if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "keyhub: ") || !regexp.MustCompile(`\b1 member`).MatchString(lines[0]) {
		t.Errorf("roles delete: want one stderr line naming the 1 member key:\n%s", r)
	}

	r = mustRun(t, env, "keys", "revoke", id)
	if !strings.Contains(r.stdout, id) {
		t.Errorf("keys revoke does not name the key:\n%s", r)
	}
	verify("REVOKED", 1)

	r = mustRun(t, env, "audit", "list")
	_, events := table(t, r.stdout)
	seen := map[string]int{}
	for _, ev := range events {
		if ev["TARGET"] == id {
			seen[ev["ACTION"]]++
		}
	}
	for action, n := range map[string]int{"api_key.created": 1, "api_key.updated": 2, "api_key.revoked": 1} {
		if seen[action] != n {
			t.Errorf("audit list: %d %s events for %s, want %d\n%s", seen[action], action, id, n, r)
		}
	}
	if strings.Contains(r.stdout, secret) || strings.Contains(s.stderr.String(), secret) {
		t.Errorf("the key's secret leaked into the audit list or the server's logs")
	}
}

// mustRun runs the binary and fails the test unless it exits 0.
func mustRun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("keyhub %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// field returns the value of "name: value" in the human output of a
// command showing one object, "" when there is no such line.
func field(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:[ \t]+(.*?)[ \t]*$`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

// table parses the aligned table a list command prints: a header row, then
// one row per item, every cell starting in its header's column. It fails
// the test when a row is not aligned with the header.
func table(t *testing.T, out string) (header []string, rows []map[string]string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	cell := regexp.MustCompile(`\S+`)
	hpos := cell.FindAllStringIndex(lines[0], -1)
	for _, p := range hpos {
		header = append(header, lines[0][p[0]:p[1]])
		if h := header[len(header)-1]; h != strings.ToUpper(h) {
			t.Fatalf("first line is not a header row:\n%s", out)
		}
	}
	for _, line := range lines[1:] {
		pos := cell.FindAllStringIndex(line, -1)
		if len(pos) != len(hpos) {
			t.Fatalf("row has %d cells, header %d:\n%s", len(pos), len(hpos), out)
		}
		row := map[string]string{}
		for i, p := range pos {
			if p[0] != hpos[i][0] {
				t.Fatalf("column %s is not aligned (cell at %d, header at %d):\n%s", header[i], p[0], hpos[i][0], out)
			}
			row[header[i]] = line[p[0]:p[1]]
		}
		rows = append(rows, row)
	}
	return header, rows
}
