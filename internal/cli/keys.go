package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newKeysCmd(e *env) *cobra.Command {
	return group("keys", "Manage API keys",
		newKeysCreateCmd(e), newKeysListCmd(e), newKeysGetCmd(e), newKeysUpdateCmd(e), newKeysRevokeCmd(e))
}

// keyFlags are the flags that create and update share.
type keyFlags struct {
	name    string
	scopes  []string
	ips     []string
	role    string
	expires expiresValue
	meta    metaValue
}

func (f *keyFlags) register(e *env, c *cobra.Command, update bool) {
	f.expires.now = func() time.Time { return e.now() }
	fl := c.Flags()
	fl.StringVar(&f.name, "name", "", "name of the key")
	fl.StringSliceVar(&f.scopes, "scope", nil, "scopes, comma-separated or repeated")
	fl.StringSliceVar(&f.ips, "ip", nil, "allowed IP address or CIDR, comma-separated or repeated (default: any)")
	fl.StringVar(&f.role, "role", "", "role id whose scopes the key also holds")
	fl.Var(&f.expires, "expires", "expiry: a duration from now (90d, 36h, 30m) or an RFC 3339 time")
	fl.Var(&f.meta, "meta", "JSON object returned on verification, e.g. '{\"team\":\"payments\"}'")
	if update {
		fl.Lookup("scope").Usage = "replace the scopes, comma-separated or repeated (\"\" for none)"
		fl.Lookup("ip").Usage = "replace the allowed IPs or CIDRs (\"\" for any)"
		fl.Lookup("role").Usage = "role id; \"\" removes the role"
		fl.Lookup("expires").Usage = "new expiry: a duration from now (90d, 36h), an RFC 3339 time, or never"
		fl.Lookup("meta").Usage = "replace the meta JSON object"
	}
}

func newKeysCreateCmd(e *env) *cobra.Command {
	var (
		f       keyFlags
		envName string
	)
	c := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an API key; its secret is shown once",
		Example: `  keyhub keys create --name ci --scope payouts:write,payouts:read --expires 90d
  keyhub keys create --name office --env test --ip 203.0.113.0/24 --meta '{"team":"ops"}'`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "name"); err != nil {
				return err
			}
			in := client.APIKeyCreate{
				Name: f.name, Environment: envName, Scopes: f.scopes, RoleID: f.role,
				IPs: f.ips, ExpiresAt: f.expires.at, Meta: f.meta.raw,
			}
			k, err := e.client().APIKeys.Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(k)
			}
			if err := e.fields(keyFields(k)); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "\nkey: %s\n\nStore this key now: keyhub keeps only its hash and will not show it again.\n", k.Key)
			return err
		},
	}
	f.register(e, c, false)
	c.Flags().StringVar(&envName, "env", "", "environment (default: the tenant's live environment)")
	return c
}

func newKeysListCmd(e *env) *cobra.Command {
	var (
		p     pageFlags
		opt   client.APIKeyListOptions
		state = enumValue{allowed: []string{"active", "disabled", "revoked", "expired"}}
	)
	c := &cobra.Command{
		Use:     "list",
		Short:   "List API keys, newest first",
		Example: `  keyhub keys list --env live --state active --all`,
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt.State = state.value
			keys, next, err := collect(&p, func(limit int, cursor string) (*client.Page[client.APIKey], error) {
				opt.Limit, opt.Cursor = limit, cursor
				return e.client().APIKeys.List(cmd.Context(), opt)
			})
			if err != nil {
				return err
			}
			header := []string{"ID", "NAME", "ENV", "STATE", "START", "SCOPES", "EXPIRES", "CREATED"}
			return printList(e, keys, next, header, func(k client.APIKey) []string {
				return []string{k.ID, k.Name, k.Environment, k.State, k.Start, list(k.Scopes),
					tsOr(k.ExpiresAt, "never"), ts(k.CreatedAt)}
			})
		},
	}
	c.Flags().StringVar(&opt.Environment, "env", "", "only keys of this environment")
	c.Flags().Var(&state, "state", "only keys in this state: active, disabled, revoked or expired")
	c.Flags().StringVar(&opt.RoleID, "role", "", "only keys with this role id")
	c.Flags().StringVar(&opt.Name, "name", "", "only keys whose name starts with this")
	p.register(c)
	return c
}

func newKeysGetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show an API key",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			k, err := e.client().APIKeys.Get(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.show(k, func() [][2]string { return keyFields(k) })
		},
	}
}

func newKeysUpdateCmd(e *env) *cobra.Command {
	var (
		f               keyFlags
		enable, disable bool
	)
	c := &cobra.Command{
		Use:   "update ID",
		Short: "Change an API key",
		Example: `  keyhub keys update key_01J... --scope payouts:read --expires never
  keyhub keys update key_01J... --disable`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			in, err := keyUpdate(cmd, &f, enable, disable)
			if err != nil {
				return err
			}
			k, err := e.client().APIKeys.Update(cmd.Context(), a[0], in)
			if err != nil {
				return err
			}
			return e.show(k, func() [][2]string { return keyFields(k) })
		},
	}
	f.register(e, c, true)
	c.Flags().BoolVar(&enable, "enable", false, "enable the key")
	c.Flags().BoolVar(&disable, "disable", false, "disable the key until it is enabled again")
	return c
}

// keyUpdate builds the patch from the flags that were given.
func keyUpdate(cmd *cobra.Command, f *keyFlags, enable, disable bool) (client.APIKeyUpdate, error) {
	var in client.APIKeyUpdate
	changed := cmd.Flags().Changed
	if enable && disable {
		return in, usagef("%s: --enable and --disable exclude each other", cmd.CommandPath())
	}
	if changed("name") {
		in.Name = &f.name
	}
	if changed("scope") {
		in.Scopes = nonNil(f.scopes)
	}
	if changed("ip") {
		in.IPs = nonNil(f.ips)
	}
	if changed("role") {
		if f.role == "" {
			in.ClearRole = true
		} else {
			in.RoleID = &f.role
		}
	}
	if changed("expires") {
		in.ExpiresAt, in.ClearExpiry = f.expires.at, f.expires.never
	}
	if changed("meta") {
		in.Meta = f.meta.raw
	}
	if enable || disable {
		in.Enabled = &enable
	}
	if !anyChanged(cmd, "name", "scope", "ip", "role", "expires", "meta", "enable", "disable") {
		return in, usagef("%s: nothing to change: give at least one of --name, --scope, --ip, --role, --expires, --meta, --enable, --disable", cmd.CommandPath())
	}
	return in, nil
}

func newKeysRevokeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key for good",
		Args:  args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			k, err := e.client().APIKeys.Revoke(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return e.done(k, "revoked key %s (%s) at %s", k.ID, k.Name, tsOr(k.RevokedAt, "-"))
		},
	}
}

func keyFields(k *client.APIKey) [][2]string {
	meta := "{}"
	if len(k.Meta) > 0 {
		meta = string(k.Meta)
	}
	return [][2]string{
		{"id", k.ID},
		{"name", k.Name},
		{"environment", k.Environment},
		{"state", k.State},
		{"start", k.Start},
		{"scopes", list(k.Scopes)},
		{"role", orDash(k.RoleID)},
		{"ips", orDash(strings.Join(k.IPs, ","))},
		{"meta", meta},
		{"expires", tsOr(k.ExpiresAt, "never")},
		{"last used", tsOr(k.LastUsedAt, "never")},
		{"revoked", tsOr(k.RevokedAt, "-")},
		{"creator", strings.TrimSpace(k.Creator.Type + " " + k.Creator.ID)},
		{"created", ts(k.CreatedAt)},
		{"updated", ts(k.UpdatedAt)},
	}
}

// anyChanged reports whether any of the flags was given.
func anyChanged(cmd *cobra.Command, flags ...string) bool {
	for _, f := range flags {
		if cmd.Flags().Changed(f) {
			return true
		}
	}
	return false
}

// nonNil turns a nil list into an empty one, which a patch sends as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
