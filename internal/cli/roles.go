package cli

import (
	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newRolesCmd(e *env) *cobra.Command {
	return group("roles", "Manage roles: named sets of scopes that keys share",
		newRolesCreateCmd(e), newRolesListCmd(e), newRolesGetCmd(e), newRolesUpdateCmd(e), newRolesDeleteCmd(e))
}

func newRolesCreateCmd(e *env) *cobra.Command {
	var (
		in     client.RoleCreate
		scopes []string
	)
	c := &cobra.Command{
		Use:     "create --name NAME",
		Short:   "Create a role",
		Example: `  keyhub roles create --name payouts --scope payouts:read,payouts:write`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "name"); err != nil {
				return err
			}
			in.Scopes = nonNil(scopes)
			r, err := e.client().Roles.Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			return e.show(r, func() [][2]string { return roleFields(r) })
		},
	}
	c.Flags().StringVar(&in.Name, "name", "", "name of the role")
	c.Flags().StringVar(&in.Description, "description", "", "what the role is for")
	c.Flags().StringSliceVar(&scopes, "scope", nil, "scopes, comma-separated or repeated")
	return c
}

func newRolesListCmd(e *env) *cobra.Command {
	var p pageFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List roles",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.Role], error) {
				return e.client().Roles.List(cmd.Context(), client.ListOptions{Limit: limit, Cursor: cursor})
			})
			if err != nil {
				return err
			}
			return printList(e, items, next, []string{"ID", "NAME", "SCOPES", "DESCRIPTION", "CREATED"}, func(r client.Role) []string {
				return []string{r.ID, r.Name, list(r.Scopes), orDash(r.Description), ts(r.CreatedAt)}
			})
		},
	}
	p.register(c)
	return c
}

func newRolesGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a role",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			r, err := e.client().Roles.Get(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.show(r, func() [][2]string { return roleFields(r) })
		},
	}
}

func newRolesUpdateCmd(e *env) *cobra.Command {
	var (
		name, desc string
		scopes     []string
	)
	c := &cobra.Command{
		Use:     "update ID",
		Short:   "Change a role; every member key follows at once",
		Example: `  keyhub roles update role_01J... --scope payouts:read`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.RoleUpdate
			changed := cmd.Flags().Changed
			if changed("name") {
				in.Name = &name
			}
			if changed("description") {
				in.Description = &desc
			}
			if changed("scope") {
				in.Scopes = nonNil(scopes)
			}
			if !anyChanged(cmd, "name", "description", "scope") {
				return usagef("nothing to change: give --name, --description or --scope")
			}
			r, err := e.client().Roles.Update(cmd.Context(), a[0], in)
			if err != nil {
				return err
			}
			return e.show(r, func() [][2]string { return roleFields(r) })
		},
	}
	c.Flags().StringVar(&name, "name", "", "new name")
	c.Flags().StringVar(&desc, "description", "", "new description")
	c.Flags().StringSliceVar(&scopes, "scope", nil, "replace the scopes, comma-separated or repeated (\"\" for none)")
	return c
}

func newRolesDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a role that no key uses",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.client().Roles.Delete(cmd.Context(), a[0]); err != nil {
				return err
			}
			return e.done(nil, "deleted role %s", a[0])
		},
	}
}

func roleFields(r *client.Role) [][2]string {
	return [][2]string{
		{"id", r.ID},
		{"name", r.Name},
		{"description", orDash(r.Description)},
		{"scopes", list(r.Scopes)},
		{"created", ts(r.CreatedAt)},
		{"updated", ts(r.UpdatedAt)},
	}
}
