package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/compat/surfaces"
)

// defaultDB is the embedded store `keyhub serve` uses with no configuration.
const defaultDB = "sqlite:keyhub.db"

// serverFlags are the flags shared by serve and migrate.
type serverFlags struct {
	db, addr, logFormat, logLevel string

	masterKeyFile, issuer, jwtAlg, audience, compat, providersFile string
	signingKeyMaxAge                                               string
}

func (f *serverFlags) register(c *cobra.Command, withAddr bool) {
	fl := c.Flags()
	fl.StringVar(&f.db, "db", defaultDB, "store: sqlite:PATH or a postgres:// URL (env KEYHUB_DB)")
	if withAddr {
		fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address (env KEYHUB_ADDR)")
	}
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json (env KEYHUB_LOG_FORMAT)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error (env KEYHUB_LOG_LEVEL)")
	if !withAddr {
		return
	}
	fl.StringVar(&f.masterKeyFile, "master-key-file", "", "file holding the base64 master key (env KEYHUB_MASTER_KEY_FILE; or the key itself in KEYHUB_MASTER_KEY); default keyhub.master.key beside the SQLite file")
	fl.StringVar(&f.issuer, "issuer", "", "issuer URL of keyhub's tokens (env KEYHUB_ISSUER); default http://ADDR")
	fl.StringVar(&f.jwtAlg, "jwt-alg", "ES256", "signing algorithm of access tokens: ES256, EdDSA or RS256 (env KEYHUB_JWT_ALG)")
	fl.StringVar(&f.signingKeyMaxAge, "signing-key-max-age", "30d", "rotate the signing key automatically at this age (env KEYHUB_SIGNING_KEY_MAX_AGE)")
	fl.StringVar(&f.audience, "management-audience", "hub:api", "audience keyhub's tokens need to reach the management API (env KEYHUB_MANAGEMENT_AUDIENCE)")
	fl.StringVar(&f.providersFile, "trusted-issuers", "", "JSON file of trusted external identity providers (env KEYHUB_TRUSTED_ISSUERS_FILE, or the JSON itself in KEYHUB_TRUSTED_ISSUERS)")
	fl.StringVar(&f.compat, "compat", "all", "seed-compatible surfaces to serve: all, none, or a list of "+strings.Join(surfaces.Names(), ",")+" (env KEYHUB_COMPAT)")
}

// config builds the server configuration from the flags and environment.
func (f *serverFlags) config(cmd *cobra.Command, e *env) (app.Config, error) {
	for flag, name := range map[string]string{
		"master-key-file": "KEYHUB_MASTER_KEY_FILE", "issuer": "KEYHUB_ISSUER", "jwt-alg": "KEYHUB_JWT_ALG",
		"signing-key-max-age": "KEYHUB_SIGNING_KEY_MAX_AGE", "management-audience": "KEYHUB_MANAGEMENT_AUDIENCE",
		"trusted-issuers": "KEYHUB_TRUSTED_ISSUERS_FILE", "compat": "KEYHUB_COMPAT",
	} {
		fromEnv(cmd, flag, name, f.stringFlag(flag), e.getenv)
	}
	cfg := app.Config{Addr: f.addr, DB: f.db, Stderr: e.stderr, MasterKey: e.getenv("KEYHUB_MASTER_KEY"),
		MasterKeyFile: f.masterKeyFile, Issuer: f.issuer, JWTAlgorithm: strings.ToUpper(f.jwtAlg), ManagementAudience: f.audience}
	if cfg.JWTAlgorithm == "EDDSA" {
		cfg.JWTAlgorithm = "EdDSA"
	}
	switch cfg.JWTAlgorithm {
	case "ES256", "EdDSA", "RS256":
	default:
		return cfg, usagef("--jwt-alg: %q is not ES256, EdDSA or RS256", f.jwtAlg)
	}
	age, err := keyhub.ParseDuration(f.signingKeyMaxAge)
	if err != nil || age < time.Hour {
		return cfg, usagef("--signing-key-max-age: %q is not a duration of at least 1h, such as 30d", f.signingKeyMaxAge)
	}
	cfg.SigningKeyMaxAge = age
	if cfg.Compat, err = surfaces.Parse(f.compat); err != nil {
		return cfg, usagef("--compat: %v", err)
	}
	raw := []byte(e.getenv("KEYHUB_TRUSTED_ISSUERS"))
	if f.providersFile != "" {
		if raw, err = os.ReadFile(f.providersFile); err != nil {
			return cfg, fmt.Errorf("--trusted-issuers: %w", err)
		}
	}
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg.Providers); err != nil {
			return cfg, fmt.Errorf("trusted issuers: not a JSON array of {issuer, jwks_url, audience, tenant_claim, tenant_map, scope_claim, algorithms}: %v", err)
		}
	}
	return cfg, nil
}

func (f *serverFlags) stringFlag(name string) *string {
	return map[string]*string{
		"master-key-file": &f.masterKeyFile, "issuer": &f.issuer, "jwt-alg": &f.jwtAlg,
		"signing-key-max-age": &f.signingKeyMaxAge, "management-audience": &f.audience,
		"trusted-issuers": &f.providersFile, "compat": &f.compat,
	}[name]
}

// resolve applies the environment and builds the logger.
func (f *serverFlags) resolve(cmd *cobra.Command, e *env) (*slog.Logger, error) {
	fromEnv(cmd, "db", "KEYHUB_DB", &f.db, e.getenv)
	fromEnv(cmd, "addr", "KEYHUB_ADDR", &f.addr, e.getenv)
	fromEnv(cmd, "log-format", "KEYHUB_LOG_FORMAT", &f.logFormat, e.getenv)
	fromEnv(cmd, "log-level", "KEYHUB_LOG_LEVEL", &f.logLevel, e.getenv)
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(f.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, usagef("--log-format: %q is not text or json", f.logFormat)
}

func newServeCmd(e *env) *cobra.Command {
	var f serverFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the keyhub server",
		Long: `Run the keyhub server. With no configuration it listens on 127.0.0.1:8080 and
keeps its data in ./keyhub.db (SQLite). On an empty store it prints a bootstrap
operator key once, on a line of its own: KEYHUB_API_KEY=<key>.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := f.resolve(cmd, e)
			if err != nil {
				return err
			}
			cfg, err := f.config(cmd, e)
			if err != nil {
				return err
			}
			cfg.Log = log
			return app.Run(cmd.Context(), cfg)
		},
	}
	f.register(c, true)
	return c
}

func newMigrateCmd(e *env) *cobra.Command {
	var f serverFlags
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's schema migrations and exit",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := f.resolve(cmd, e); err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), f.db)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintln(e.stdout, "migrations applied")
			return nil
		},
	}
	f.register(c, false)
	return c
}
