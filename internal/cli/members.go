package cli

import (
	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newMembersCmd(e *env) *cobra.Command {
	return group("members", "Manage members: the people of a tenant who sign in to the portal",
		newMembersCreateCmd(e), newMembersListCmd(e), newMembersGetCmd(e), newMembersUpdateCmd(e), newMembersRemoveCmd(e))
}

func newMembersCreateCmd(e *env) *cobra.Command {
	var (
		in     client.MemberCreate
		scopes []string
	)
	c := &cobra.Command{
		Use:     "create --email EMAIL",
		Short:   "Invite a member",
		Example: `  keyhub members create --email ada@acme.com --name "Ada Lovelace" --scope read:api_keys,create:api_keys`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "email"); err != nil {
				return err
			}
			in.Scopes = nonNil(scopes)
			m, err := e.client().Members.Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			return e.show(m, func() [][2]string { return memberFields(m) })
		},
	}
	c.Flags().StringVar(&in.Email, "email", "", "the member's email: sign-in links go there")
	c.Flags().StringVar(&in.Name, "name", "", "the member's name (the email by default)")
	c.Flags().StringSliceVar(&scopes, "scope", nil, "scopes, comma-separated or repeated")
	return c
}

func newMembersListCmd(e *env) *cobra.Command {
	var (
		p      pageFlags
		search string
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List members",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.Member], error) {
				return e.client().Members.List(cmd.Context(), client.MemberListOptions{Search: search,
					ListOptions: client.ListOptions{Limit: limit, Cursor: cursor}})
			})
			if err != nil {
				return err
			}
			return printList(e, items, next, []string{"ID", "EMAIL", "NAME", "SCOPES", "CREATED"}, func(m client.Member) []string {
				return []string{m.ID, m.Email, m.Name, list(m.Scopes), ts(m.CreatedAt)}
			})
		},
	}
	c.Flags().StringVar(&search, "search", "", "only members whose email or name holds this text")
	p.register(c)
	return c
}

func newMembersGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a member",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, err := e.client().Members.Get(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.show(m, func() [][2]string { return memberFields(m) })
		},
	}
}

func newMembersUpdateCmd(e *env) *cobra.Command {
	var (
		email, name string
		scopes      []string
	)
	c := &cobra.Command{
		Use:     "update ID",
		Short:   "Change a member; their portal sessions follow at once",
		Example: `  keyhub members update mem_01J... --scope read:api_keys`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.MemberUpdate
			changed := cmd.Flags().Changed
			if changed("email") {
				in.Email = &email
			}
			if changed("name") {
				in.Name = &name
			}
			if changed("scope") {
				in.Scopes = nonNil(scopes)
			}
			if !anyChanged(cmd, "email", "name", "scope") {
				return usagef("%s: nothing to change: give --email, --name or --scope", cmd.CommandPath())
			}
			m, err := e.client().Members.Update(cmd.Context(), a[0], in)
			if err != nil {
				return err
			}
			return e.show(m, func() [][2]string { return memberFields(m) })
		},
	}
	c.Flags().StringVar(&email, "email", "", "new email")
	c.Flags().StringVar(&name, "name", "", "new name")
	c.Flags().StringSliceVar(&scopes, "scope", nil, "replace the scopes, comma-separated or repeated (\"\" for none)")
	return c
}

func newMembersRemoveCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a member; their portal sessions end at once",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.client().Members.Remove(cmd.Context(), a[0]); err != nil {
				return err
			}
			return e.done(nil, "removed member %s", a[0])
		},
	}
}

func memberFields(m *client.Member) [][2]string {
	return [][2]string{
		{"id", m.ID},
		{"email", m.Email},
		{"name", m.Name},
		{"scopes", list(m.Scopes)},
		{"external id", orDash(m.ExternalID)},
		{"created", ts(m.CreatedAt)},
		{"updated", ts(m.UpdatedAt)},
	}
}
