package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/compat/surfaces"
	"github.com/keyhub/keyhub/internal/config"
)

func newServeCmd(e *env) *cobra.Command {
	o := newServerOptions(true)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the keyhub server",
		Long: `Run the keyhub server. With no configuration it listens on 127.0.0.1:8080 and
keeps its data in ./keyhub.db (SQLite). On an empty store it prints a bootstrap
operator key once, on a line of its own on standard output (or writes that line
to --bootstrap-key-file): KEYHUB_API_KEY=<key>. The log, on standard error, never
holds it. Lost it? See "keyhub operator-key create".

` + secretsHelp(o.set.Options()) + "\n" + compatHelp(),
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := o.resolve(cmd.Context(), e); err != nil {
				return err
			}
			return app.Run(cmd.Context(), o.cfg)
		},
	}
	o.set.Register(c.Flags())
	return c
}

// secretsHelp lists the variables that name files holding secrets.
func secretsHelp(opts []config.Option) string {
	var vars []string
	for i := range opts {
		if v := opts[i].FileEnv(); v != "" {
			vars = append(vars, v)
		}
	}
	return "Secrets can also be read from the files named by\n  " + strings.Join(vars, ", ") + "\n" +
		"(a trailing newline is ignored; setting both X and X_FILE is an error).\n"
}

// compatHelp lists the seed-compatible surfaces for serve's help.
func compatHelp() string {
	var b strings.Builder
	b.WriteString("Seed-compatible surfaces, chosen with --compat:\n")
	for _, s := range surfaces.All() {
		fmt.Fprintf(&b, "  %-8s %s\n", s.Name, s.Description)
	}
	return b.String()
}

func newMigrateCmd(e *env) *cobra.Command {
	o := newServerOptions(false)
	c := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's schema migrations and exit",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := o.resolve(cmd.Context(), e); err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), o.cfg.DB)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintln(e.stdout, "migrations applied")
			return nil
		},
	}
	o.set.Register(c.Flags())
	return c
}
