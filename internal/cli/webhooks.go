package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newWebhooksCmd(e *env) *cobra.Command {
	return group("webhooks", "Manage webhooks: endpoints that receive signed events about keys, clients and roles",
		newWebhooksCreateCmd(e), newWebhooksListCmd(e), newWebhooksGetCmd(e), newWebhooksUpdateCmd(e),
		newWebhooksRotateSecretCmd(e), newWebhooksDeleteCmd(e), newWebhooksDeliveriesCmd(e), newWebhooksRetryCmd(e))
}

func newWebhooksCreateCmd(e *env) *cobra.Command {
	var (
		in       client.WebhookCreate
		disabled bool
	)
	c := &cobra.Command{
		Use:   "create --endpoint URL --event TYPE",
		Short: "Add a webhook; its signing secret is shown once",
		Example: `  keyhub webhooks create --endpoint https://example.com/hooks/keyhub --event api_key.revoked,api_key.leaked
  keyhub webhooks create --endpoint https://example.com/hooks --event 'api_key.*'`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "endpoint", "event"); err != nil {
				return err
			}
			if disabled {
				in.Enabled = new(bool)
			}
			w, err := e.client().Webhooks.Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			return e.printWebhookSecret(w)
		},
	}
	// --url is the server's, as on every command.
	c.Flags().StringVar(&in.URL, "endpoint", "", "the http or https URL events are posted to")
	c.Flags().StringSliceVar(&in.Events, "event", nil, "event types to send (api_key.revoked, api_key.*, or *), comma-separated or repeated")
	c.Flags().StringVar(&in.Description, "description", "", "what the endpoint is for")
	c.Flags().BoolVar(&disabled, "disabled", false, "create the webhook disabled")
	return c
}

func newWebhooksListCmd(e *env) *cobra.Command {
	var p pageFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List webhooks",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.Webhook], error) {
				return e.client().Webhooks.List(cmd.Context(), client.ListOptions{Limit: limit, Cursor: cursor})
			})
			if err != nil {
				return err
			}
			return printList(e, items, next, []string{"ID", "URL", "EVENTS", "ENABLED", "CREATED"}, func(w client.Webhook) []string {
				return []string{w.ID, w.URL, list(w.Events), fmt.Sprint(w.Enabled), ts(w.CreatedAt)}
			})
		},
	}
	p.register(c)
	return c
}

func newWebhooksGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a webhook",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			w, err := e.client().Webhooks.Get(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.show(w, func() [][2]string { return webhookFields(w) })
		},
	}
}

func newWebhooksUpdateCmd(e *env) *cobra.Command {
	var (
		url, desc       string
		events          []string
		enable, disable bool
	)
	c := &cobra.Command{
		Use:     "update ID",
		Short:   "Change a webhook",
		Example: `  keyhub webhooks update whk_01J... --event '*' --enable`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var in client.WebhookUpdate
			fl := cmd.Flags()
			if fl.Changed("endpoint") {
				in.URL = &url
			}
			if fl.Changed("description") {
				in.Description = &desc
			}
			if fl.Changed("event") {
				in.Events = append([]string{}, events...)
			}
			switch {
			case enable && disable:
				return usagef("--enable and --disable exclude each other")
			case enable, disable:
				in.Enabled = &enable
			}
			w, err := e.client().Webhooks.Update(cmd.Context(), a[0], in)
			if err != nil {
				return err
			}
			return e.show(w, func() [][2]string { return webhookFields(w) })
		},
	}
	c.Flags().StringVar(&url, "endpoint", "", "new URL events are posted to")
	c.Flags().StringSliceVar(&events, "event", nil, "replace the event types, comma-separated or repeated")
	c.Flags().StringVar(&desc, "description", "", "new description")
	c.Flags().BoolVar(&enable, "enable", false, "enable the webhook")
	c.Flags().BoolVar(&disable, "disable", false, "disable the webhook: no more deliveries until it is enabled")
	return c
}

func newWebhooksRotateSecretCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give a webhook a new signing secret, shown once",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			w, err := e.client().Webhooks.RotateSecret(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.printWebhookSecret(w)
		},
	}
}

func newWebhooksDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a webhook and its deliveries",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := e.client().Webhooks.Delete(cmd.Context(), a[0]); err != nil {
				return err
			}
			return e.done(nil, "deleted webhook %s", a[0])
		},
	}
}

func newWebhooksDeliveriesCmd(e *env) *cobra.Command {
	var p pageFlags
	c := &cobra.Command{
		Use:   "deliveries ID",
		Short: "List a webhook's deliveries, newest first",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			items, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.Delivery], error) {
				return e.client().Webhooks.Deliveries(cmd.Context(), a[0], client.ListOptions{Limit: limit, Cursor: cursor})
			})
			if err != nil {
				return err
			}
			header := []string{"ID", "EVENT", "STATE", "ATTEMPTS", "STATUS", "NEXT", "ERROR"}
			return printList(e, items, next, header, func(d client.Delivery) []string {
				next := "-"
				if d.State == "pending" {
					next = ts(d.NextAttemptAt)
				}
				return []string{d.ID, d.EventType, d.State, fmt.Sprint(d.Attempts), fmt.Sprint(d.LastStatus), next, orDash(d.LastError)}
			})
		},
	}
	p.register(c)
	return c
}

func newWebhooksRetryCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "retry WEBHOOK_ID DELIVERY_ID",
		Short: "Send a delivery again",
		Args:  args("WEBHOOK_ID", "DELIVERY_ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			d, err := e.client().Webhooks.Retry(cmd.Context(), a[0], a[1])
			if err != nil {
				return err
			}
			return e.done(d, "delivery %s will be sent again", d.ID)
		},
	}
}

// printWebhookSecret prints a webhook with the signing secret that create
// and rotate-secret show once.
func (e *env) printWebhookSecret(w *client.Webhook) error {
	if e.json {
		return e.printJSON(w)
	}
	if err := e.fields(webhookFields(w)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "\nsigning secret: %s\n\nStore it now in the receiving service: keyhub will not show it again.\n", w.SigningSecret)
	return err
}

func webhookFields(w *client.Webhook) [][2]string {
	return [][2]string{
		{"id", w.ID},
		{"url", w.URL},
		{"events", list(w.Events)},
		{"description", orDash(w.Description)},
		{"enabled", fmt.Sprint(w.Enabled)},
		{"creator", strings.TrimSpace(w.Creator.Type + " " + w.Creator.ID)},
		{"created", ts(w.CreatedAt)},
		{"updated", ts(w.UpdatedAt)},
	}
}
