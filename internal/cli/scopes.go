package cli

import (
	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newScopesCmd(e *env) *cobra.Command {
	return group("scopes", "Manage the scope catalogue (operator credentials)",
		newScopesCreateCmd(e), newScopesListCmd(e), newScopesDeleteCmd(e))
}

func newScopesCreateCmd(e *env) *cobra.Command {
	var desc string
	c := &cobra.Command{
		Use:     "create NAME",
		Short:   "Add a scope to the catalogue",
		Example: `  keyhub scopes create payouts:write --description "Create payouts"`,
		Args:    args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			s, err := e.client().Scopes.Create(cmd.Context(), client.ScopeCreate{Name: a[0], Description: desc})
			if err != nil {
				return err
			}
			return e.done(s, "created scope %s", s.Name)
		},
	}
	c.Flags().StringVar(&desc, "description", "", "what the scope allows")
	return c
}

func newScopesListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the scope catalogue",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, err := e.client().Scopes.List(cmd.Context())
			if err != nil {
				return err
			}
			if items == nil {
				items = []client.ScopeEntry{}
			}
			return printList(e, items, "", []string{"NAME", "DESCRIPTION", "CREATED"}, func(s client.ScopeEntry) []string {
				return []string{s.Name, orDash(s.Description), ts(s.CreatedAt)}
			})
		},
	}
}

func newScopesDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove a scope from the catalogue",
		Args:  args("NAME"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.client().Scopes.Delete(cmd.Context(), a[0]); err != nil {
				return err
			}
			return e.done(nil, "deleted scope %s", a[0])
		},
	}
}
