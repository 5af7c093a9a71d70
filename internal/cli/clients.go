package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newClientsCmd(e *env) *cobra.Command {
	return group("clients", "Manage OAuth clients, which obtain access tokens with their secret",
		newClientsCreateCmd(e), newClientsListCmd(e), newClientsGetCmd(e), newClientsUpdateCmd(e),
		newClientsRotateSecretCmd(e), newClientsDeleteCmd(e))
}

// clientFlags are the flags that create and update share.
type clientFlags struct {
	name      string
	scopes    []string
	audiences []string
	ttl       spanValue
}

func (f *clientFlags) register(c *cobra.Command, update bool) {
	fl := c.Flags()
	fl.StringVar(&f.name, "name", "", "name of the client")
	fl.StringSliceVar(&f.scopes, "scope", nil, "scopes its tokens may carry, comma-separated or repeated")
	fl.StringSliceVar(&f.audiences, "audience", nil, "audiences its tokens may name, such as hub:api; comma-separated or repeated")
	fl.Var(&f.ttl, "ttl", "lifetime of its access tokens, such as 1h or 24h (default: the server's, 24h)")
	if update {
		fl.Lookup("scope").Usage = "replace the scopes, comma-separated or repeated (\"\" for none)"
		fl.Lookup("audience").Usage = "replace the audiences, comma-separated or repeated (\"\" for none)"
		fl.Lookup("ttl").Usage = "new lifetime of its access tokens, such as 1h"
	}
}

func newClientsCreateCmd(e *env) *cobra.Command {
	var (
		f        clientFlags
		disabled bool
	)
	c := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an OAuth client; its secret is shown once",
		Example: `  keyhub clients create --name billing --scope read:api_keys,create:api_keys --audience hub:api --ttl 1h
  keyhub --client-id cli_01J... --client-secret "$SECRET" keys list`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "name"); err != nil {
				return err
			}
			in := client.ClientCreate{Name: f.name, Scopes: f.scopes, Audiences: f.audiences}
			if cmd.Flags().Changed("ttl") {
				in.TokenTTL = f.ttl.wire()
			}
			if disabled {
				in.Enabled = new(bool)
			}
			cl, err := e.client().Clients.Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			return e.printClientSecret(cl)
		},
	}
	f.register(c, false)
	c.Flags().BoolVar(&disabled, "disabled", false, "create the client disabled")
	return c
}

func newClientsListCmd(e *env) *cobra.Command {
	var p pageFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List OAuth clients",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.OAuthClient], error) {
				return e.client().Clients.List(cmd.Context(), client.ListOptions{Limit: limit, Cursor: cursor})
			})
			if err != nil {
				return err
			}
			header := []string{"CLIENT ID", "NAME", "ENABLED", "SCOPES", "AUDIENCES", "TOKEN TTL", "CREATED"}
			return printList(e, items, next, header, func(c client.OAuthClient) []string {
				return []string{c.ClientID, c.Name, fmt.Sprint(c.Enabled), list(c.Scopes), list(c.Audiences),
					spanText(c.TokenTTL), ts(c.CreatedAt)}
			})
		},
	}
	p.register(c)
	return c
}

func newClientsGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show an OAuth client",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			cl, err := e.client().Clients.Get(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.show(cl, func() [][2]string { return clientFields(cl) })
		},
	}
}

func newClientsUpdateCmd(e *env) *cobra.Command {
	var (
		f               clientFlags
		enable, disable bool
	)
	c := &cobra.Command{
		Use:     "update ID",
		Short:   "Change an OAuth client",
		Example: `  keyhub clients update cli_01J... --scope read:api_keys --ttl 30m --disable`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.ClientUpdate
			changed := cmd.Flags().Changed
			if enable && disable {
				return usagef("--enable and --disable exclude each other")
			}
			if changed("name") {
				in.Name = &f.name
			}
			if changed("scope") {
				in.Scopes = nonNil(f.scopes)
			}
			if changed("audience") {
				in.Audiences = nonNil(f.audiences)
			}
			if changed("ttl") {
				ttl := f.ttl.wire()
				in.TokenTTL = &ttl
			}
			if enable || disable {
				in.Enabled = &enable
			}
			if !anyChanged(cmd, "name", "scope", "audience", "ttl", "enable", "disable") {
				return usagef("nothing to change: give at least one of --name, --scope, --audience, --ttl, --enable, --disable")
			}
			cl, err := e.client().Clients.Update(cmd.Context(), a[0], in)
			if err != nil {
				return err
			}
			return e.show(cl, func() [][2]string { return clientFields(cl) })
		},
	}
	f.register(c, true)
	c.Flags().BoolVar(&enable, "enable", false, "enable the client")
	c.Flags().BoolVar(&disable, "disable", false, "disable the client: it gets no new tokens")
	return c
}

func newClientsRotateSecretCmd(e *env) *cobra.Command {
	grace := spanValue{allowZero: true}
	c := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give an OAuth client a new secret; it is shown once",
		Long: `Give an OAuth client a new secret. The old secret keeps working for the
grace period; without --grace it stops at once.`,
		Example: `  keyhub clients rotate-secret cli_01J... --grace 1h`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var gp string
			if cmd.Flags().Changed("grace") {
				gp = grace.wire()
			}
			cl, err := e.client().Clients.RotateSecret(cmd.Context(), a[0], gp)
			if err != nil {
				return err
			}
			return e.printClientSecret(cl)
		},
	}
	c.Flags().Var(&grace, "grace", "how long the old secret keeps working, such as 1h (default: it stops at once)")
	return c
}

func newClientsDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an OAuth client",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.client().Clients.Delete(cmd.Context(), a[0]); err != nil {
				return err
			}
			return e.done(nil, "deleted client %s", a[0])
		},
	}
}

// printClientSecret prints a client with the secret that create and
// rotate-secret show once.
func (e *env) printClientSecret(cl *client.OAuthClient) error {
	if e.json {
		return e.printJSON(cl)
	}
	if err := e.fields(clientFields(cl)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "\nclient secret: %s\n\nStore this secret now: keyhub keeps only its hash and will not show it again.\n",
		cl.ClientSecret)
	return err
}

func clientFields(c *client.OAuthClient) [][2]string {
	return [][2]string{
		{"client id", c.ClientID},
		{"name", c.Name},
		{"tenant", orDash(c.TenantID)},
		{"enabled", fmt.Sprint(c.Enabled)},
		{"scopes", list(c.Scopes)},
		{"audiences", list(c.Audiences)},
		{"token ttl", spanText(c.TokenTTL)},
		{"old secret until", tsOr(c.PreviousSecretExpiresAt, "-")},
		{"creator", strings.TrimSpace(c.Creator.Type + " " + c.Creator.ID)},
		{"created", ts(c.CreatedAt)},
		{"updated", ts(c.UpdatedAt)},
	}
}
