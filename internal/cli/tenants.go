package cli

import (
	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newTenantsCmd(e *env) *cobra.Command {
	return group("tenants", "Manage tenants (operator credentials)",
		newTenantsCreateCmd(e), newTenantsListCmd(e), newTenantsGetCmd(e), newTenantsUpdateCmd(e))
}

func newTenantsCreateCmd(e *env) *cobra.Command {
	var pre map[string]string
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant",
		Example: `  keyhub tenants create acme
  keyhub tenants create yativo --prefix live=yat_live --prefix test=yat_test`,
		Args: args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			t, err := e.client().Tenants.Create(cmd.Context(), client.TenantCreate{Name: a[0], KeyPrefixes: pre})
			if err != nil {
				return err
			}
			return e.show(t, func() [][2]string { return tenantFields(t) })
		},
	}
	c.Flags().StringToStringVar(&pre, "prefix", nil, "key prefix of an environment, as env=prefix; repeatable (default live=kh_live,test=kh_test)")
	return c
}

func newTenantsListCmd(e *env) *cobra.Command {
	var p pageFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.Tenant], error) {
				return e.client().Tenants.List(cmd.Context(), client.ListOptions{Limit: limit, Cursor: cursor})
			})
			if err != nil {
				return err
			}
			return printList(e, items, next, []string{"ID", "NAME", "PREFIXES", "CREATED"}, func(t client.Tenant) []string {
				return []string{t.ID, t.Name, prefixes(t.KeyPrefixes), ts(t.CreatedAt)}
			})
		},
	}
	p.register(c)
	return c
}

func newTenantsGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a tenant",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			t, err := e.client().Tenants.Get(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.show(t, func() [][2]string { return tenantFields(t) })
		},
	}
}

func newTenantsUpdateCmd(e *env) *cobra.Command {
	var (
		name string
		pre  map[string]string
	)
	c := &cobra.Command{
		Use:     "update ID",
		Short:   "Rename a tenant or change its key prefixes",
		Example: `  keyhub tenants update ten_01J... --name "Acme Inc" --prefix live=acme_live`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.TenantUpdate
			if cmd.Flags().Changed("name") {
				in.Name = &name
			}
			if cmd.Flags().Changed("prefix") {
				in.KeyPrefixes = pre
			}
			if in.Name == nil && in.KeyPrefixes == nil {
				return usagef("nothing to change: give --name or --prefix")
			}
			t, err := e.client().Tenants.Update(cmd.Context(), a[0], in)
			if err != nil {
				return err
			}
			return e.show(t, func() [][2]string { return tenantFields(t) })
		},
	}
	c.Flags().StringVar(&name, "name", "", "new name")
	c.Flags().StringToStringVar(&pre, "prefix", nil, "key prefix of an environment, as env=prefix; repeatable; replaces the whole set")
	return c
}

func tenantFields(t *client.Tenant) [][2]string {
	return [][2]string{
		{"id", t.ID},
		{"name", t.Name},
		{"prefixes", prefixes(t.KeyPrefixes)},
		{"created", ts(t.CreatedAt)},
		{"updated", ts(t.UpdatedAt)},
	}
}
