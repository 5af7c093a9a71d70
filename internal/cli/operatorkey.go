package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/internal/app"
)

// newOperatorKeyCmd is `keyhub operator-key create`: an operator who lost
// every operator key mints a new one straight in the store, with no server
// and no credential (DESIGN.md §6). Access to the database is the
// authority; the audit log records the key as made by the system actor
// operator-key-create.
func newOperatorKeyCmd(e *env) *cobra.Command {
	o := newServerOptions(false)
	var name, keyFile string
	create := &cobra.Command{
		Use:   "create",
		Short: "Mint a new operator key directly in the store (offline, for a lost key)",
		Long: `Mint a new operator key directly in the store named by --db, without a running
server or a credential, for an operator who lost theirs. It prints the key once,
as a KEYHUB_API_KEY=<key> line on standard output, or writes that line to
--key-file (created with mode 0600, never overwritten). The key is audited as
operator_key.created by the actor system/operator-key-create. Running servers
accept it at once (on PostgreSQL, every node).`,
		Args:        args(),
		Annotations: map[string]string{localAnnotation: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := o.resolve(cmd.Context(), e); err != nil {
				return err
			}
			// Minting into a database that was never set up would make a
			// key no server uses: a path is expected to name an existing
			// file.
			if path, ok := app.SQLitePath(o.cfg.DB); ok {
				if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
					return usagef("no database at %s: name the server's database with --db or KEYHUB_DB", path)
				}
			}
			var out *app.KeyFile
			if keyFile != "" {
				var err error
				if out, err = app.PrepareKeyFile(keyFile); err != nil {
					return err
				}
				defer out.Discard()
			}
			st, err := app.OpenStore(cmd.Context(), o.cfg.DB)
			if err != nil {
				return err
			}
			defer st.Close()
			core := app.NewCore(st, app.CoreConfig{Log: o.cfg.Log})
			defer core.Close()
			k, key, err := core.Manage.CreateOperatorKey(cmd.Context(), name)
			if err != nil {
				return err
			}
			line := "KEYHUB_API_KEY=" + key + "\n"
			if out != nil {
				if err := out.Commit(line); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "created operator key %s (%s); it is in %s\n", k.ID, k.Name, keyFile)
				return nil
			}
			if _, err := fmt.Fprint(e.stdout, line); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "created operator key %s (%s); it is shown once, store it now\n", k.ID, k.Name)
			return nil
		},
	}
	o.set.Register(create.Flags())
	create.Flags().StringVar(&name, "name", "recovery operator key", "name of the new key")
	create.Flags().StringVar(&keyFile, "key-file", "", "write the key line to this file (mode 0600, must not exist) instead of standard output")
	return group("operator-key", "Operator keys made without a server, for an operator who lost theirs", create)
}
