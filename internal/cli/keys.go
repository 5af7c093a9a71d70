package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newKeysCmd(e *env) *cobra.Command {
	return group("keys", "Manage API keys",
		newKeysCreateCmd(e), newKeysListCmd(e), newKeysGetCmd(e), newKeysUpdateCmd(e), newKeysRevokeCmd(e),
		newKeysRotateCmd(e), newKeysUsageCmd(e))
}

// keyFlags are the flags that create and update share.
type keyFlags struct {
	name    string
	scopes  []string
	ips     []string
	role    string
	expires expiresValue
	meta    metaValue
	rl      rateLimitValue
	credits creditsValue
	refill  refillValue
	low     creditsValue
	add     int64
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
	fl.Var(&f.rl, "ratelimit", "at most LIMIT verifications per WINDOW, such as 100/1m, 10/s or 5000/1d")
	fl.Var(&f.credits, "credits", "number of uses; each valid verification spends its cost (default: unlimited)")
	fl.Var(&f.refill, "refill", "top the credits up to AMOUNT every day or month: AMOUNT/daily or AMOUNT/monthly")
	fl.Var(&f.low, "credits-low", "tell webhooks of api_key.credits_low once when the balance falls to N or below")
	if update {
		fl.Lookup("ratelimit").Usage = "new rate limit LIMIT/WINDOW, such as 100/1m; none removes it"
		fl.Lookup("credits").Usage = "set the remaining credits; none makes uses unlimited"
		fl.Lookup("refill").Usage = "new refill AMOUNT/daily or AMOUNT/monthly; none stops refilling"
		fl.Lookup("credits-low").Usage = "new low-balance threshold N of api_key.credits_low; none removes it"
		fl.Int64Var(&f.add, "add-credits", 0, "add credits to the balance (negative takes away, never below 0)")
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
  keyhub keys create --name office --env test --ip 203.0.113.0/24 --meta '{"team":"ops"}'
  keyhub keys create --name metered --ratelimit 100/1m --credits 1000 --refill 1000/monthly`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "name"); err != nil {
				return err
			}
			in := client.APIKeyCreate{
				Name: f.name, Environment: envName, Scopes: f.scopes, RoleID: f.role,
				IPs: f.ips, ExpiresAt: f.expires.at, Meta: f.meta.raw, RateLimit: f.rl.rl,
			}
			withCredits := anyChanged(cmd, "credits") && !f.credits.none
			if anyChanged(cmd, "refill", "credits-low") && !withCredits {
				return usagef("--refill and --credits-low need --credits, the balance to start with")
			}
			if withCredits {
				in.Credits = &client.Credits{Remaining: f.credits.n, Refill: f.refill.r}
				if anyChanged(cmd, "credits-low") && !f.low.none {
					in.Credits.LowThreshold = &f.low.n
				}
			}
			k, err := e.client().APIKeys.Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			return e.printNewKey(k)
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
  keyhub keys update key_01J... --disable
  keyhub keys update key_01J... --ratelimit none --add-credits 500`,
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
		return in, usagef("--enable and --disable exclude each other")
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
	if changed("ratelimit") {
		in.RateLimit, in.ClearRateLimit = f.rl.rl, f.rl.none
	}
	if err := creditsUpdate(cmd, f, &in); err != nil {
		return in, err
	}
	if !anyChanged(cmd, "name", "scope", "ip", "role", "expires", "meta", "enable", "disable",
		"ratelimit", "credits", "refill", "add-credits", "credits-low") {
		return in, usagef("nothing to change: give at least one of --name, --scope, --ip, --role, --expires, --meta, " +
			"--enable, --disable, --ratelimit, --credits, --refill, --add-credits, --credits-low")
	}
	return in, nil
}

// creditsUpdate adds the credit flags that were given to the patch.
func creditsUpdate(cmd *cobra.Command, f *keyFlags, in *client.APIKeyUpdate) error {
	changed := cmd.Flags().Changed
	if f.credits.none {
		if anyChanged(cmd, "refill", "add-credits", "credits-low") {
			return usagef("--credits none excludes --refill, --add-credits and --credits-low")
		}
		in.ClearCredits = true
		return nil
	}
	if !anyChanged(cmd, "credits", "refill", "add-credits", "credits-low") {
		return nil
	}
	cu := &client.CreditsUpdate{Refill: f.refill.r, ClearRefill: f.refill.none}
	if changed("credits-low") {
		if f.low.none {
			cu.ClearLowThreshold = true
		} else {
			cu.LowThreshold = &f.low.n
		}
	}
	if changed("credits") {
		cu.Remaining = &f.credits.n
	}
	if changed("add-credits") {
		cu.Add = &f.add
	}
	in.Credits = cu
	return nil
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

// printNewKey prints a key just made, by create or rotate, with its secret
// and the warning that it is shown once.
func (e *env) printNewKey(k *client.APIKey) error {
	if e.json {
		return e.printJSON(k)
	}
	if err := e.fields(keyFields(k)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(e.stdout, "\nkey: %s\n\nStore this key now: keyhub keeps only its hash and will not show it again.\n", k.Key)
	return err
}

func newKeysRotateCmd(e *env) *cobra.Command {
	grace := spanValue{allowZero: true}
	c := &cobra.Command{
		Use:   "rotate ID",
		Short: "Replace an API key with a new one; its secret is shown once",
		Long: `Replace an API key with a new one that has the same name, scopes, role,
allowed IPs, meta and limits. The old key keeps verifying for the grace period,
then answers EXPIRED; without --grace it stops at once.`,
		Example: `  keyhub keys rotate key_01J... --grace 24h`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			var gp string
			if cmd.Flags().Changed("grace") {
				gp = grace.wire()
			}
			k, err := e.client().APIKeys.Rotate(cmd.Context(), a[0], gp)
			if err != nil {
				return err
			}
			return e.printNewKey(k)
		},
	}
	c.Flags().Var(&grace, "grace", "how long the old key keeps working, such as 24h or 7d (default: it stops at once)")
	return c
}

func newKeysUsageCmd(e *env) *cobra.Command {
	var from, to sinceValue
	now := func() time.Time { return e.now() }
	from.now, to.now = now, now
	c := &cobra.Command{
		Use:   "usage ID",
		Short: "Show an API key's verifications per hour, by outcome",
		Long: `Show an API key's verifications per hour, one column per outcome code seen.
Hours without verifications are left out. The default window is the last 24
hours; the server may span at most 92 days.`,
		Example: `  keyhub keys usage key_01J... --from 7d
  keyhub keys usage key_01J... --from 2025-06-01T00:00:00Z --to 2025-06-02T00:00:00Z --json`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, a []string) error {
			buckets, err := e.client().APIKeys.Usage(cmd.Context(), a[0], from.at, to.at)
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(buckets)
			}
			codes := usageCodes(buckets)
			rows := make([][]string, len(buckets))
			for i, b := range buckets {
				rows[i] = []string{ts(b.Hour)}
				for _, c := range codes {
					rows[i] = append(rows[i], strconv.FormatInt(b.Counts[c], 10))
				}
			}
			return e.table(append([]string{"HOUR"}, codes...), rows)
		},
	}
	c.Flags().Var(&from, "from", "first hour: an RFC 3339 time, or this long ago (24h, 7d) (default: 24h before --to)")
	c.Flags().Var(&to, "to", "end, exclusive: an RFC 3339 time, or this long ago (default: the end of this hour)")
	return c
}

// codeOrder is the order in which the server checks a key; usage columns
// follow it.
var codeOrder = []string{client.CodeValid, client.CodeMalformed, client.CodeNotFound, client.CodeRevoked,
	client.CodeDisabled, client.CodeExpired, client.CodeForbiddenIP, client.CodeInsufficientScope,
	client.CodeRateLimited, client.CodeUsageExceeded}

// usageCodes returns the codes that occur in buckets: the known ones in
// codeOrder, then any others sorted.
func usageCodes(buckets []client.UsageBucket) []string {
	seen := map[string]bool{}
	for _, b := range buckets {
		for c := range b.Counts {
			seen[c] = true
		}
	}
	var out []string
	for _, c := range codeOrder {
		if seen[c] {
			out = append(out, c)
			delete(seen, c)
		}
	}
	return append(out, slices.Sorted(maps.Keys(seen))...)
}

func keyFields(k *client.APIKey) [][2]string {
	meta := "{}"
	if len(k.Meta) > 0 {
		meta = string(k.Meta)
	}
	f := [][2]string{
		{"id", k.ID},
		{"name", k.Name},
		{"environment", k.Environment},
		{"state", k.State},
		{"start", k.Start},
		{"scopes", list(k.Scopes)},
		{"role", orDash(k.RoleID)},
		{"ips", orDash(strings.Join(k.IPs, ","))},
		{"meta", meta},
		{"ratelimit", rateLimitText(k.RateLimit)},
		{"credits", creditsText(k.Credits)},
		{"expires", tsOr(k.ExpiresAt, "never")},
		{"last used", tsOr(k.LastUsedAt, "never")},
		{"revoked", tsOr(k.RevokedAt, "-")},
	}
	if k.RotatedFrom != "" {
		f = append(f, [2]string{"rotated from", k.RotatedFrom})
	}
	if k.ReplacedBy != "" {
		f = append(f, [2]string{"replaced by", k.ReplacedBy})
	}
	return append(f,
		[2]string{"creator", strings.TrimSpace(k.Creator.Type + " " + k.Creator.ID)},
		[2]string{"created", ts(k.CreatedAt)},
		[2]string{"updated", ts(k.UpdatedAt)},
	)
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
