package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// settings is what the test table's rows write.
type settings struct {
	plain, db, token, key, keyPath, json string
	count                                int
}

// table is a small option table with one row of every shape.
func table(s *settings) *Set {
	return New(
		Option{Name: "plain", Env: "T_PLAIN", Default: "dflt", Usage: "a plain option", Set: String(&s.plain)},
		Option{Name: "count", Env: "T_COUNT", Default: "1", Usage: "a number", Set: Parse(&s.count, func(t string) (int, error) {
			var n int
			if _, err := fmt.Sscan(t, &n); err != nil || n < 0 {
				return 0, fmt.Errorf("%q is not a number of 0 or more", t)
			}
			return n, nil
		})},
		Option{Name: "db", Env: "T_DB", Default: "sqlite:x.db", Usage: "database", Secret: true, Show: RedactURL, Set: String(&s.db)},
		Option{Name: "token", Env: "T_TOKEN", Usage: "a token", Secret: true, EnvOnly: true, Set: String(&s.token)},
		Option{Name: "key", Env: "T_KEY", FileFlag: "key-file", Usage: "file holding the key", Secret: true,
			Set: String(&s.key), SetPath: String(&s.keyPath)},
		Option{Name: "json", Env: "T_JSON", FileFlag: "json", Usage: "file of JSON", Secret: true, Set: String(&s.json)},
	)
}

// resolve registers the table on a new flag set, parses args and resolves
// with env; "$DIR" in args and env stands for dir.
func resolve(t *testing.T, dir string, args []string, env map[string]string) (*Set, *settings, error) {
	t.Helper()
	var s settings
	set := table(&s)
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	set.Register(fs)
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "$DIR", dir)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	err := set.Resolve(func(k string) string { return strings.ReplaceAll(env[k], "$DIR", dir) })
	return set, &s, err
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"token": "tok-from-file\n", "crlf": "tok\r\n", "inner": "line1\nline2\n\n", "json": `[{"a":1}]`,
		"db": "postgres://u:pw@h/d\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	type want struct {
		text   string
		source Source
		origin string
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want map[string]want
		get  func(*settings) string
		val  string
	}{
		{"Defaults", nil, nil,
			map[string]want{"plain": {"dflt", FromDefault, ""}, "db": {"sqlite:x.db", FromDefault, ""}, "token": {"", FromDefault, ""}},
			func(s *settings) string { return s.plain + " " + s.db }, "dflt sqlite:x.db"},
		{"FlagWinsOverEnv", []string{"--plain", "f"}, map[string]string{"T_PLAIN": "e"},
			map[string]want{"plain": {"f", FromFlag, "--plain"}}, func(s *settings) string { return s.plain }, "f"},
		{"FlagEqualToDefaultStillWins", []string{"--plain", "dflt"}, map[string]string{"T_PLAIN": "e"},
			map[string]want{"plain": {"dflt", FromFlag, "--plain"}}, func(s *settings) string { return s.plain }, "dflt"},
		{"EnvWithoutFlag", nil, map[string]string{"T_PLAIN": "e"},
			map[string]want{"plain": {"e", FromEnv, "T_PLAIN"}}, func(s *settings) string { return s.plain }, "e"},
		{"EmptyEnvIsUnset", nil, map[string]string{"T_PLAIN": ""},
			map[string]want{"plain": {"dflt", FromDefault, ""}}, func(s *settings) string { return s.plain }, "dflt"},
		{"SecretFlag", []string{"--db", "postgres://a:b@h/d"}, map[string]string{"T_DB_FILE": "$DIR/db"},
			map[string]want{"db": {"postgres://a:b@h/d", FromFlag, "--db"}}, func(s *settings) string { return s.db }, "postgres://a:b@h/d"},
		{"FileEnvTrimsNewline", nil, map[string]string{"T_TOKEN_FILE": "$DIR/token"},
			map[string]want{"token": {"tok-from-file", FromFile, "T_TOKEN_FILE"}}, func(s *settings) string { return s.token }, "tok-from-file"},
		{"FileEnvTrimsCRLF", nil, map[string]string{"T_TOKEN_FILE": "$DIR/crlf"},
			map[string]want{"token": {"tok", FromFile, "T_TOKEN_FILE"}}, func(s *settings) string { return s.token }, "tok"},
		{"FileEnvTrimsOneNewlineOnly", nil, map[string]string{"T_TOKEN_FILE": "$DIR/inner"},
			map[string]want{"token": {"line1\nline2\n", FromFile, "T_TOKEN_FILE"}}, func(s *settings) string { return s.token }, "line1\nline2\n"},
		{"FileFlag", []string{"--json", "$DIR/json"}, map[string]string{"T_JSON": "[]"},
			map[string]want{"json": {`[{"a":1}]`, FromFile, "--json"}}, func(s *settings) string { return s.json }, `[{"a":1}]`},
		{"EnvOfFileFlagOption", nil, map[string]string{"T_JSON": "[]"},
			map[string]want{"json": {"[]", FromEnv, "T_JSON"}}, func(s *settings) string { return s.json }, "[]"},
		{"SetPathGetsPathUnread", []string{"--key-file", "$DIR/missing"}, nil,
			map[string]want{"key": {"", FromFile, "--key-file"}}, func(s *settings) string { return s.key + "|" + s.keyPath }, "|" + dir + "/missing"},
		{"SetPathFromFileEnv", nil, map[string]string{"T_KEY_FILE": "$DIR/k"},
			map[string]want{"key": {"", FromFile, "T_KEY_FILE"}}, func(s *settings) string { return s.keyPath }, dir + "/k"},
		{"SetPathOptionFromEnv", nil, map[string]string{"T_KEY": "k64"},
			map[string]want{"key": {"k64", FromEnv, "T_KEY"}}, func(s *settings) string { return s.key + "|" + s.keyPath }, "k64|"},
		{"TypedParse", nil, map[string]string{"T_COUNT": "7"},
			map[string]want{"count": {"7", FromEnv, "T_COUNT"}}, func(s *settings) string { return fmt.Sprint(s.count) }, "7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, s, err := resolve(t, dir, c.args, c.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.get(s); got != c.val {
				t.Errorf("setting %q, want %q", got, c.val)
			}
			for _, v := range set.Values() {
				w, ok := c.want[v.Option.Name]
				if !ok {
					continue
				}
				if v.Text != w.text || v.Source != w.source || v.Origin != w.origin {
					t.Errorf("%s: text %q source %v origin %q, want %q %v %q", v.Option.Name, v.Text, v.Source, v.Origin, w.text, w.source, w.origin)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		err   string
		usage bool // a *Error, answered as a usage mistake
	}{
		{"ErrBothEnvAndFile", nil, map[string]string{"T_TOKEN": "a", "T_TOKEN_FILE": "$DIR/x"}, "both T_TOKEN and T_TOKEN_FILE are set", true},
		{"ErrBothEvenWithFlag", []string{"--db", "sqlite:y"}, map[string]string{"T_DB": "a", "T_DB_FILE": "$DIR/x"}, "both T_DB and T_DB_FILE are set", true},
		{"ErrFileEnvMissing", nil, map[string]string{"T_TOKEN_FILE": "$DIR/nope"}, "T_TOKEN_FILE: open " + dir + "/nope", false},
		{"ErrFileFlagMissing", []string{"--json", "$DIR/nope"}, nil, "--json: open " + dir + "/nope", false},
		{"ErrParseFlag", []string{"--count", "x"}, nil, `--count: "x" is not a number`, true},
		{"ErrParseEnvNamesFlagAndVariable", nil, map[string]string{"T_COUNT": "-2"}, `--count (T_COUNT): "-2" is not a number`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := resolve(t, dir, c.args, c.env)
			if err == nil || !strings.HasPrefix(err.Error(), c.err) {
				t.Fatalf("error %v, want it to start with %q", err, c.err)
			}
			var ce *Error
			if errors.As(err, &ce) != c.usage {
				t.Errorf("errors.As(*Error) = %v, want %v", !c.usage, c.usage)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var s settings
	set := table(&s)
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	set.Register(fs)
	cases := map[string]string{
		"plain":    "a plain option (env T_PLAIN)",
		"db":       "database (env T_DB, or a file named by T_DB_FILE)",
		"key-file": "file holding the key (env T_KEY_FILE, or the value itself in T_KEY)",
	}
	for flag, want := range cases {
		f := fs.Lookup(flag)
		if f == nil || f.Usage != want {
			t.Errorf("--%s usage %v, want %q", flag, f, want)
		}
	}
	for _, absent := range []string{"token", "key"} {
		if fs.Lookup(absent) != nil {
			t.Errorf("--%s registered, but the option has no flag of that name", absent)
		}
	}
	if f := fs.Lookup("plain"); f.DefValue != "dflt" {
		t.Errorf("--plain default %q", f.DefValue)
	}
	if name, _ := pflag.UnquoteUsage(fs.Lookup("key-file")); name != "FILE" {
		t.Errorf("--key-file shows its argument as %q, want FILE", name)
	}
	o := Option{Name: "issuer", Env: "T_ISSUER", DefaultDoc: "http://ADDR", Usage: "issuer URL"}
	if got := Help(&o); got != "issuer URL (env T_ISSUER; default http://ADDR)" {
		t.Errorf("Help with DefaultDoc: %q", got)
	}
}

func TestMarkdownTable(t *testing.T) {
	var s settings
	got := MarkdownTable(table(&s).Options())
	for _, row := range []string{
		"| `--plain` | `T_PLAIN` | `dflt` | a plain option |",
		"| `--db` | `T_DB`, `T_DB_FILE` | `sqlite:x.db` | database |",
		"|  | `T_TOKEN`, `T_TOKEN_FILE` |  | a token |",
		"| `--key-file FILE` | `T_KEY`, `T_KEY_FILE` |  | file holding the key |",
	} {
		if !strings.Contains(got, row+"\n") {
			t.Errorf("table lacks row %q:\n%s", row, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 2+6 {
		t.Errorf("%d lines, want a header, a rule and 6 rows:\n%s", n, got)
	}
}

func TestNewRejectsBadTables(t *testing.T) {
	set := func(string) error { return nil }
	cases := map[string][]Option{
		"ErrSameName":         {{Name: "a", Env: "A", Set: set}, {Name: "a", Env: "B", Set: set}},
		"ErrSameEnv":          {{Name: "a", Env: "A", Set: set}, {Name: "b", Env: "A", Set: set}},
		"ErrFileEnvTaken":     {{Name: "a", Env: "A", Secret: true, Set: set}, {Name: "b", Env: "A_FILE", Set: set}},
		"ErrFlagTaken":        {{Name: "a", Env: "A", FileFlag: "b", Secret: true, Set: set}, {Name: "b", Env: "B", Set: set}},
		"ErrNoSet":            {{Name: "a", Env: "A"}},
		"ErrNoEnv":            {{Name: "a", Set: set}},
		"ErrFileFlagNoSecret": {{Name: "a", Env: "A", FileFlag: "a-file", Set: set}},
		"ErrShowNoSecret":     {{Name: "a", Env: "A", Show: RedactURL, Set: set}},
		"ErrCodeInDefaultDoc": {{Name: "a", Env: "A", DefaultDoc: "`x`", Set: set}},
		"ErrPipeInUsage":      {{Name: "a", Env: "A", Usage: "a|b", Set: set}},
		"ErrNameIsLogKey":     {{Name: "msg", Env: "A", Set: set}},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New accepted the table")
				}
			}()
			New(opts...)
		})
	}
}
