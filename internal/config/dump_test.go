package config

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dump logs set's dump as JSON and returns the line and its decoded form.
func dump(t *testing.T, set *Set) (string, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).LogAttrs(context.Background(), slog.LevelInfo, "configuration", set.Attrs()...)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("dump is not one JSON line: %v\n%s", err, buf.String())
	}
	if strings.Count(strings.TrimSpace(buf.String()), "\n") != 0 {
		t.Fatalf("dump is more than one line:\n%s", buf.String())
	}
	return buf.String(), m
}

func TestDumpNeverShowsSecrets(t *testing.T) {
	dir := t.TempDir()
	const token = "tok_9f8e7d6c5b4a39281706" // a realistic secret value
	const dbPassword = "s3cr3t-Pa55w0rd"
	jsonSecret := `[{"client_secret":"cs_00112233445566778899"}]`
	if err := os.WriteFile(filepath.Join(dir, "json"), []byte(jsonSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		// shown is the dump's value per option.
		shown map[string]string
	}{
		{"Env",
			[]string{"--db", "postgres://keyhub:" + dbPassword + "@db.internal:5432/keyhub?sslmode=verify-full"},
			map[string]string{"T_TOKEN": token, "T_KEY": token, "T_JSON": jsonSecret},
			map[string]string{"db": "postgres://keyhub:redacted@db.internal:5432/keyhub?sslmode=verify-full",
				"token": IsSet, "key": IsSet, "json": IsSet, "plain": "dflt"}},
		{"Files", []string{"--json", "$DIR/json", "--key-file", "$DIR/key"},
			map[string]string{"T_DB": "postgres://db.internal/keyhub?password=" + dbPassword, "T_TOKEN_FILE": "$DIR/json"},
			map[string]string{"db": "postgres://db.internal/keyhub?password=redacted", "token": IsSet, "key": IsSet, "json": IsSet}},
		{"Unset", nil, nil, map[string]string{"token": IsUnset, "key": IsUnset, "json": IsUnset, "db": "sqlite:x.db"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, _, err := resolve(t, dir, c.args, c.env)
			if err != nil {
				t.Fatal(err)
			}
			line, m := dump(t, set)
			for _, secret := range []string{token, dbPassword, "cs_00112233445566778899"} {
				if strings.Contains(line, secret) {
					t.Errorf("dump shows secret %q:\n%s", secret, line)
				}
			}
			for name, want := range c.shown {
				g, _ := m[name].(map[string]any)
				if g["value"] != want {
					t.Errorf("%s shown as %v, want %q", name, g["value"], want)
				}
			}
		})
	}
}

// TestDumpListsEveryOption checks each row appears once, in table order,
// with its source and, for files, the path.
func TestDumpListsEveryOption(t *testing.T) {
	dir := t.TempDir()
	set, _, err := resolve(t, dir, []string{"--plain", "p", "--key-file", "$DIR/k"}, map[string]string{"T_COUNT": "3"})
	if err != nil {
		t.Fatal(err)
	}
	line, m := dump(t, set)
	want := map[string]string{"plain": "flag", "count": "env", "db": "default", "token": "default", "key": "file", "json": "default"}
	last := -1
	for _, o := range set.Options() {
		g, ok := m[o.Name].(map[string]any)
		if !ok {
			t.Fatalf("dump lacks %s:\n%s", o.Name, line)
		}
		if g["source"] != want[o.Name] {
			t.Errorf("%s: source %v, want %s", o.Name, g["source"], want[o.Name])
		}
		i := strings.Index(line, `"`+o.Name+`":`)
		if i < last {
			t.Errorf("%s out of table order:\n%s", o.Name, line)
		}
		last = i
	}
	if g := m["key"].(map[string]any); g["file"] != filepath.Join(dir, "k") {
		t.Errorf("key: file %v, want the path", g["file"])
	}
	if g := m["plain"].(map[string]any); g["value"] != "p" || g["file"] != nil {
		t.Errorf("plain: %v", g)
	}
	if len(m) != len(set.Options())+3 { // time, level, msg
		t.Errorf("dump has %d keys, want the %d options and time, level, msg:\n%s", len(m), len(set.Options()), line)
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"postgres://keyhub:pw@db:5432/keyhub?sslmode=disable": "postgres://keyhub:redacted@db:5432/keyhub?sslmode=disable",
		"postgresql://keyhub@db/keyhub":                       "postgresql://keyhub@db/keyhub",
		"postgres://db/k?password=pw&sslmode=disable":         "postgres://db/k?password=redacted&sslmode=disable",
		"postgres://db/k?sslpassword=pw":                      "postgres://db/k?sslpassword=redacted",
		"postgres://u:p%40ss@db/k":                            "postgres://u:redacted@db/k",
		"postgres://u:p@ss@db/k":                              "postgres://u:redacted@db/k",
		"postgres://u:pw@db:port/k":                           Redacted, // does not parse: all of it goes
		"sqlite:keyhub.db":                                    "sqlite:keyhub.db",
		"/var/lib/keyhub/keyhub.db":                           "/var/lib/keyhub/keyhub.db",
		"host=db user=k password=pw":                          Redacted,
	}
	for in, want := range cases {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
