package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newAuditCmd(e *env) *cobra.Command {
	return group("audit", "Read the audit log", newAuditListCmd(e))
}

func newAuditListCmd(e *env) *cobra.Command {
	var (
		p        pageFlags
		opt      client.AuditListOptions
		from, to sinceValue
	)
	now := func() time.Time { return e.now() }
	from.now, to.now = now, now
	c := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first",
		Example: `  keyhub audit list --target key_01J... 
  keyhub audit list --action api_key.revoked --from 7d`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt.From, opt.To = from.at, to.at
			items, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.AuditEvent], error) {
				opt.Limit, opt.Cursor = limit, cursor
				return e.client().Audit.List(cmd.Context(), opt)
			})
			if err != nil {
				return err
			}
			header := []string{"ID", "TIME", "ACTOR", "ACTION", "TARGET", "IP"}
			return printList(e, items, next, header, func(ev client.AuditEvent) []string {
				return []string{ev.ID, ts(ev.CreatedAt), ev.Actor.Type + ":" + ev.Actor.ID, ev.Action,
					orDash(ev.TargetID), orDash(ev.IP)}
			})
		},
	}
	c.Flags().StringVar(&opt.TargetID, "target", "", "only events about this object id")
	c.Flags().StringVar(&opt.Action, "action", "", "only events with this action, e.g. api_key.created")
	c.Flags().Var(&from, "from", "only events at or after this RFC 3339 time, or this long ago (24h, 7d)")
	c.Flags().Var(&to, "to", "only events before this RFC 3339 time, or this long ago")
	p.register(c)
	return c
}
