package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/internal/app"
)

// defaultDB is the embedded store `keyhub serve` uses with no configuration.
const defaultDB = "sqlite:keyhub.db"

// serverFlags are the flags shared by serve and migrate.
type serverFlags struct {
	db, addr, logFormat, logLevel string
}

func (f *serverFlags) register(c *cobra.Command, withAddr bool) {
	fl := c.Flags()
	fl.StringVar(&f.db, "db", defaultDB, "store: sqlite:PATH or a postgres:// URL (env KEYHUB_DB)")
	if withAddr {
		fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address (env KEYHUB_ADDR)")
	}
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json (env KEYHUB_LOG_FORMAT)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error (env KEYHUB_LOG_LEVEL)")
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
			return app.Run(cmd.Context(), app.Config{Addr: f.addr, DB: f.db, Log: log, Stderr: e.stderr})
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
