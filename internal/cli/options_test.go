package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/keyhub/keyhub/internal/compat/surfaces"
	"github.com/keyhub/keyhub/internal/redislimit"
)

// resolveServe parses args as serve's flags and resolves its options with
// vars as the environment, logging to the returned buffer.
func resolveServe(t *testing.T, args []string, vars map[string]string) (*serverOptions, *bytes.Buffer, error) {
	t.Helper()
	var stderr bytes.Buffer
	e := &env{stdout: io.Discard, stderr: &stderr, getenv: func(k string) string { return vars[k] }}
	o := newServerOptions(true)
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	o.set.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	_, err := o.resolve(context.Background(), e)
	return o, &stderr, err
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeOptions(t *testing.T) {
	dir := t.TempDir()
	dbFile := writeFile(t, dir, "db", "postgres://keyhub:pw@db/keyhub\n")
	idps := `[{"issuer":"https://idp.example","jwks_url":"https://idp.example/jwks","audience":"keyhub"}]`
	idpFile := writeFile(t, dir, "idps.json", idps+"\n")
	cases := []struct {
		name  string
		args  []string
		vars  map[string]string
		check func(t *testing.T, o *serverOptions)
	}{
		{"Defaults", nil, nil, func(t *testing.T, o *serverOptions) {
			c := o.cfg
			if c.DB != "sqlite:keyhub.db" || c.Addr != "127.0.0.1:8080" || c.JWTAlgorithm != "ES256" || c.SigningKeyMaxAge != 30*24*time.Hour ||
				c.ManagementAudience != "hub:api" || c.Compat != nil || c.Issuer != "" || c.MasterKey != "" || c.MasterKeyFile != "" || c.Providers != nil {
				t.Errorf("defaults: %+v", c)
			}
			if c.Cache.Bytes != 640<<20 {
				t.Errorf("cache size default: %d bytes", c.Cache.Bytes)
			}
			if c.Cache.TTL != 10*time.Minute {
				t.Errorf("cache TTL default: %s", c.Cache.TTL)
			}
			if o.logLevel != slog.LevelInfo || o.logFormat != "text" {
				t.Errorf("log defaults: %v %v", o.logLevel, o.logFormat)
			}
		}},
		{"FlagWinsOverEnv", []string{"--addr", "127.0.0.1:9", "--jwt-alg", "rs256", "--compat", "cycle"},
			map[string]string{"KEYHUB_ADDR": "0.0.0.0:1", "KEYHUB_JWT_ALG": "EdDSA", "KEYHUB_COMPAT": "none", "KEYHUB_ISSUER": "https://keys.example"},
			func(t *testing.T, o *serverOptions) {
				c := o.cfg
				if c.Addr != "127.0.0.1:9" || c.JWTAlgorithm != "RS256" || !reflect.DeepEqual(c.Compat, []string{"cycle"}) || c.Issuer != "https://keys.example" {
					t.Errorf("%+v", c)
				}
			}},
		{"EnvWithoutFlag", nil,
			map[string]string{"KEYHUB_JWT_ALG": "eddsa", "KEYHUB_SIGNING_KEY_MAX_AGE": "36h", "KEYHUB_COMPAT": "none", "KEYHUB_LOG_LEVEL": "debug", "KEYHUB_LOG_FORMAT": "JSON"},
			func(t *testing.T, o *serverOptions) {
				c := o.cfg
				if c.JWTAlgorithm != "EdDSA" || c.SigningKeyMaxAge != 36*time.Hour || c.Compat == nil || len(c.Compat) != 0 {
					t.Errorf("%+v", c)
				}
				if o.logLevel != slog.LevelDebug || o.logFormat != "json" {
					t.Errorf("log: %v %v", o.logLevel, o.logFormat)
				}
			}},
		{"DBFile", nil, map[string]string{"KEYHUB_DB_FILE": dbFile}, func(t *testing.T, o *serverOptions) {
			if o.cfg.DB != "postgres://keyhub:pw@db/keyhub" {
				t.Errorf("DB %q", o.cfg.DB)
			}
		}},
		{"Redis", []string{"--redis-fallback", "fail-closed"}, map[string]string{"KEYHUB_REDIS": "redis://:pw@cache:6379/2", "KEYHUB_REDIS_TIMEOUT": "20ms"},
			func(t *testing.T, o *serverOptions) {
				c := o.cfg
				if c.Redis != "redis://:pw@cache:6379/2" || c.RedisTimeout != 20*time.Millisecond || c.RedisFallback != redislimit.FailClosed {
					t.Errorf("%q %v %q", c.Redis, c.RedisTimeout, c.RedisFallback)
				}
			}},
		{"RedisDefaults", nil, nil, func(t *testing.T, o *serverOptions) {
			c := o.cfg
			if c.Redis != "" || c.RedisTimeout != 50*time.Millisecond || c.RedisFallback != redislimit.PerNode {
				t.Errorf("%q %v %q", c.Redis, c.RedisTimeout, c.RedisFallback)
			}
		}},
		{"DBFlagWinsOverDBFile", []string{"--db", "sqlite:x.db"}, map[string]string{"KEYHUB_DB_FILE": dbFile}, func(t *testing.T, o *serverOptions) {
			if o.cfg.DB != "sqlite:x.db" {
				t.Errorf("DB %q", o.cfg.DB)
			}
		}},
		{"MasterKeyEnv", nil, map[string]string{"KEYHUB_MASTER_KEY": "a2V5"}, func(t *testing.T, o *serverOptions) {
			if o.cfg.MasterKey != "a2V5" || o.cfg.MasterKeyFile != "" {
				t.Errorf("%q %q", o.cfg.MasterKey, o.cfg.MasterKeyFile)
			}
		}},
		// The key file is handed to the app, which creates it when missing.
		{"MasterKeyFileEnvIsPath", nil, map[string]string{"KEYHUB_MASTER_KEY_FILE": filepath.Join(dir, "new.key")}, func(t *testing.T, o *serverOptions) {
			if o.cfg.MasterKey != "" || o.cfg.MasterKeyFile != filepath.Join(dir, "new.key") {
				t.Errorf("%q %q", o.cfg.MasterKey, o.cfg.MasterKeyFile)
			}
		}},
		{"MasterKeyFileFlagWinsOverEnv", []string{"--master-key-file", "/k"}, map[string]string{"KEYHUB_MASTER_KEY": "a2V5"}, func(t *testing.T, o *serverOptions) {
			if o.cfg.MasterKey != "" || o.cfg.MasterKeyFile != "/k" {
				t.Errorf("%q %q", o.cfg.MasterKey, o.cfg.MasterKeyFile)
			}
		}},
		{"TrustedIssuersFlag", []string{"--trusted-issuers", idpFile}, nil, func(t *testing.T, o *serverOptions) {
			if len(o.cfg.Providers) != 1 || o.cfg.Providers[0].Issuer != "https://idp.example" {
				t.Errorf("%+v", o.cfg.Providers)
			}
		}},
		{"TrustedIssuersFileEnv", nil, map[string]string{"KEYHUB_TRUSTED_ISSUERS_FILE": idpFile}, func(t *testing.T, o *serverOptions) {
			if len(o.cfg.Providers) != 1 || o.cfg.Providers[0].Audience != "keyhub" {
				t.Errorf("%+v", o.cfg.Providers)
			}
		}},
		{"CacheTTLEnv", nil, map[string]string{"KEYHUB_CACHE_TTL": "1h"}, func(t *testing.T, o *serverOptions) {
			if o.cfg.Cache.TTL != time.Hour {
				t.Errorf("cache TTL %s", o.cfg.Cache.TTL)
			}
		}},
		{"TrustedIssuersEnv", nil, map[string]string{"KEYHUB_TRUSTED_ISSUERS": idps}, func(t *testing.T, o *serverOptions) {
			if len(o.cfg.Providers) != 1 || o.cfg.Providers[0].JWKSURL != "https://idp.example/jwks" {
				t.Errorf("%+v", o.cfg.Providers)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, _, err := resolveServe(t, c.args, c.vars)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, o)
		})
	}
}

// TestServeOptionErrors runs the real command line: option errors end it
// before the server starts, with code 2 for usage and 1 for a file that
// cannot be read.
func TestServeOptionErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name  string
		args  []string
		vars  map[string]string
		code  int
		first string
	}{
		{"ErrJWTAlg", []string{"serve", "--jwt-alg", "HS999"}, nil, 2, `keyhub: --jwt-alg: "HS999" is not ES256, EdDSA or RS256`},
		{"ErrJWTAlgEnv", []string{"serve"}, map[string]string{"KEYHUB_JWT_ALG": "none"}, 2, `keyhub: --jwt-alg (KEYHUB_JWT_ALG): "none" is not ES256, EdDSA or RS256`},
		{"ErrCacheSize", []string{"serve", "--cache-size", "0"}, nil, 2, `keyhub: --cache-size: "0" is not a size in MB from 1 to 1048576, such as 256`},
		{"ErrCacheSizeEnv", []string{"serve"}, map[string]string{"KEYHUB_CACHE_SIZE": "1g"}, 2, `keyhub: --cache-size (KEYHUB_CACHE_SIZE): "1g" is not a size in MB from 1 to 1048576, such as 256`},
		{"ErrCacheTTL", []string{"serve", "--cache-ttl", "500ms"}, nil, 2, `keyhub: --cache-ttl: "500ms" is not a duration from 1s to 24h, such as 10m`},
		{"ErrSigningKeyMaxAge", []string{"serve", "--signing-key-max-age", "30m"}, nil, 2, `keyhub: --signing-key-max-age: "30m" is not a duration of at least 1h, such as 30d`},
		{"ErrLogLevel", []string{"serve", "--log-level", "loud"}, nil, 2, `keyhub: --log-level: "loud" is not one of debug, info, warn, error`},
		{"ErrLogFormat", []string{"migrate", "--log-format", "xml"}, nil, 2, `keyhub: --log-format: "xml" is not text or json`},
		{"ErrCompat", []string{"serve", "--compat", "yaxi,hubify"}, nil, 2,
			`keyhub: --compat: unknown compat surface "hubify": use ` + strings.Join(surfaces.Names(), ", ") + `, all or none`},
		{"ErrTrustedIssuersJSON", []string{"serve"}, map[string]string{"KEYHUB_TRUSTED_ISSUERS": `{"issuer":1}`}, 2,
			`keyhub: --trusted-issuers (KEYHUB_TRUSTED_ISSUERS): not a JSON array`},
		{"ErrBothDBAndDBFile", []string{"migrate"}, map[string]string{"KEYHUB_DB": "sqlite:" + filepath.Join(dir, "a.db"), "KEYHUB_DB_FILE": filepath.Join(dir, "db")}, 2,
			`keyhub: both KEYHUB_DB and KEYHUB_DB_FILE are set: set only one`},
		{"ErrBothMasterKeys", []string{"serve"}, map[string]string{"KEYHUB_MASTER_KEY": "a2V5", "KEYHUB_MASTER_KEY_FILE": "/k"}, 2,
			`keyhub: both KEYHUB_MASTER_KEY and KEYHUB_MASTER_KEY_FILE are set`},
		{"ErrRedisURL", []string{"serve"}, map[string]string{"KEYHUB_REDIS": "http://:Secret-pw@cache"}, 2,
			`keyhub: --redis (KEYHUB_REDIS): not a redis:// or rediss:// URL, such as redis://host:6379/0`},
		{"ErrRedisTimeout", []string{"serve", "--redis-timeout", "0s"}, nil, 2,
			`keyhub: --redis-timeout: "0s" is not a duration from 1ms to 10s, such as 50ms`},
		{"ErrRedisFallback", []string{"serve", "--redis-fallback", "open"}, nil, 2,
			`keyhub: --redis-fallback: "open" is not per-node, fail-closed or fail-open`},
		{"ErrDBFileMissing", []string{"migrate"}, map[string]string{"KEYHUB_DB_FILE": filepath.Join(dir, "nope")}, 1,
			`keyhub: KEYHUB_DB_FILE: open ` + filepath.Join(dir, "nope")},
		{"ErrTrustedIssuersFileMissing", []string{"serve", "--trusted-issuers", filepath.Join(dir, "nope")}, nil, 1,
			`keyhub: --trusted-issuers: open ` + filepath.Join(dir, "nope")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each run gets its own directory so that a run that wrongly
			// started would not share a database.
			vars := map[string]string{"KEYHUB_ADDR": "127.0.0.1:1"}
			if c.vars["KEYHUB_DB"] == "" && c.vars["KEYHUB_DB_FILE"] == "" {
				vars["KEYHUB_DB"] = "sqlite:" + filepath.Join(t.TempDir(), "k.db")
			}
			for k, v := range c.vars {
				vars[k] = v
			}
			r := run(t, "", vars, "", c.args...)
			first, _, _ := strings.Cut(r.stderr, "\n")
			if r.code != c.code || !strings.HasPrefix(first, c.first) {
				t.Fatalf("code %d, stderr %q; want %d and a first line starting %q", r.code, r.stderr, c.code, c.first)
			}
			if want := c.code == 2; strings.Contains(r.stderr, "--help' for usage") != want {
				t.Errorf("usage hint present = %v, want %v:\n%s", !want, want, r.stderr)
			}
		})
	}
}

// TestMigrateReadsDBFile proves migrate reads its options from the table
// too: the database named in KEYHUB_DB_FILE is the one migrated.
func TestMigrateReadsDBFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "from-file.db")
	r := run(t, "", map[string]string{"KEYHUB_DB_FILE": writeFile(t, dir, "dsn", "sqlite:"+db+"\n")}, "", "migrate")
	if r.code != 0 || !strings.Contains(r.stdout, "migrations applied") {
		t.Fatalf("migrate: %+v", r)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the database named by KEYHUB_DB_FILE was not created: %v", err)
	}
	if !strings.Contains(r.stderr, `msg=configuration db.value=sqlite:`+db+` db.source=file`) {
		t.Errorf("migrate did not log its configuration:\n%s", r.stderr)
	}
}

// TestConfigDump checks the start-up line: every option of the table, once,
// with its source, and no secret however it was given.
func TestConfigDump(t *testing.T) {
	dir := t.TempDir()
	masterKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	const dbPassword = "Pg-pa55word-7f3a"
	idps := `[{"issuer":"https://idp.example","jwks_url":"https://idp.example/jwks","audience":"keyhub","tenant_map":{"org_SECRETISH":"ten_1"}}]`
	cases := []struct {
		name   string
		args   []string
		vars   map[string]string
		shown  map[string]string // option → shown value
		source map[string]string // option → source
	}{
		{"Env", []string{"--log-format", "json", "--db", "postgres://keyhub:" + dbPassword + "@db.internal:5432/keyhub?sslmode=verify-full"},
			map[string]string{"KEYHUB_MASTER_KEY": masterKey, "KEYHUB_TRUSTED_ISSUERS": idps, "KEYHUB_ISSUER": "https://keys.example",
				"KEYHUB_REDIS": "redis://:" + dbPassword + "@cache.internal:6379/0"},
			map[string]string{"db": "postgres://keyhub:redacted@db.internal:5432/keyhub?sslmode=verify-full", "master-key": "[set]",
				"redis":           "redis://:redacted@cache.internal:6379/0",
				"trusted-issuers": "[set]", "issuer": "https://keys.example", "jwt-alg": "ES256", "log-format": "json"},
			map[string]string{"db": "flag", "master-key": "env", "trusted-issuers": "env", "issuer": "env", "jwt-alg": "default", "log-format": "flag"}},
		{"Files", []string{"--log-format", "json", "--trusted-issuers", writeFile(t, dir, "idps", idps)},
			map[string]string{"KEYHUB_MASTER_KEY_FILE": writeFile(t, dir, "mk", masterKey+"\n"),
				"KEYHUB_DB_FILE": writeFile(t, dir, "db", "postgres://db.internal/keyhub?user=keyhub&password="+dbPassword+"\n")},
			map[string]string{"db": "postgres://db.internal/keyhub?password=redacted&user=keyhub", "master-key": "[set]", "trusted-issuers": "[set]"},
			map[string]string{"db": "file", "master-key": "file", "trusted-issuers": "file"}},
		{"Unset", []string{"--log-format", "json"}, nil,
			map[string]string{"master-key": "[unset]", "trusted-issuers": "[unset]", "db": "sqlite:keyhub.db", "compat": "all"},
			map[string]string{"master-key": "default", "trusted-issuers": "default", "db": "default"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, out, err := resolveServe(t, c.args, c.vars)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{masterKey, dbPassword, "org_SECRETISH", strings.TrimRight(masterKey, "=")} {
				if strings.Contains(out.String(), secret) {
					t.Fatalf("the dump shows %q:\n%s", secret, out)
				}
			}
			var line map[string]any
			if err := json.Unmarshal(out.Bytes(), &line); err != nil || line["msg"] != "configuration" || line["level"] != "INFO" {
				t.Fatalf("want one JSON line at info with msg configuration: %v\n%s", err, out)
			}
			for _, opt := range o.set.Options() {
				g, ok := line[opt.Name].(map[string]any)
				if !ok {
					t.Errorf("dump lacks %s:\n%s", opt.Name, out)
					continue
				}
				if want, ok := c.shown[opt.Name]; ok && g["value"] != want {
					t.Errorf("%s shown as %v, want %q", opt.Name, g["value"], want)
				}
				if want, ok := c.source[opt.Name]; ok && g["source"] != want {
					t.Errorf("%s source %v, want %q", opt.Name, g["source"], want)
				}
			}
			if len(line) != len(o.set.Options())+3 {
				t.Errorf("dump has %d keys, want %d options and time, level, msg:\n%s", len(line), len(o.set.Options()), out)
			}
		})
	}
}

// TestServeHelpFromRegistry checks serve's help names every registered
// compat surface, with its description, and every secret's _FILE variable.
func TestServeHelpFromRegistry(t *testing.T) {
	r := run(t, "", nil, "", "serve", "--help")
	if r.code != 0 {
		t.Fatalf("serve --help: %+v", r)
	}
	help := r.stdout + r.stderr
	if want := "all, none, or a comma list of " + strings.Join(surfaces.Names(), ", ") + " (env KEYHUB_COMPAT)"; !strings.Contains(help, want) {
		t.Errorf("--compat help lacks %q:\n%s", want, help)
	}
	for _, s := range surfaces.All() {
		if !strings.Contains(help, "  "+s.Name+strings.Repeat(" ", 9-len(s.Name))+s.Description+"\n") {
			t.Errorf("help does not describe surface %s:\n%s", s.Name, help)
		}
	}
	for _, v := range []string{"KEYHUB_DB_FILE", "KEYHUB_MASTER_KEY_FILE", "KEYHUB_TRUSTED_ISSUERS_FILE"} {
		if !strings.Contains(help, v) {
			t.Errorf("help does not mention %s", v)
		}
	}
}
