package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

func newVerifyCmd(e *env) *cobra.Command {
	var (
		in   client.VerifyRequest
		cost int64
	)
	c := &cobra.Command{
		Use:   "verify KEY",
		Short: "Check a key, as a verifying service would",
		Long: `Check a key, as a verifying service would. The exit code is 0 when the key
is valid for the scopes and IP given, and 1 when it is not. KEY "-" reads the
key from standard input, which keeps it out of the shell history.`,
		Example: `  keyhub verify kh_live_... --scope payouts:write --ip 203.0.113.7
  keyhub verify kh_live_... --cost 5
  printf %s "$KEY" | keyhub verify -`,
		Args: args("KEY"),
		RunE: func(cmd *cobra.Command, a []string) error {
			if cmd.Flags().Changed("cost") {
				if cost < 0 {
					return usagef("--cost must be 0 or more")
				}
				in.Cost = &cost
			}
			key, err := e.keyArg(a[0])
			if err != nil {
				return err
			}
			in.Key = key
			res, err := e.client().Verify(cmd.Context(), in)
			if err != nil {
				return err
			}
			if err := e.show(res, func() [][2]string { return verifyFields(res) }); err != nil {
				return err
			}
			if !res.Valid {
				return &quietError{exitError}
			}
			return nil
		},
	}
	c.Flags().StringSliceVar(&in.Scopes, "scope", nil, "scopes the key must hold, comma-separated or repeated")
	c.Flags().StringVar(&in.IP, "ip", "", "IP address the key is presented from")
	c.Flags().Int64Var(&cost, "cost", 1, "credits a valid use spends, for keys with credits; 0 checks without spending")
	return c
}

// keyArg returns a key given as an argument; "-" reads it from the first
// line of standard input, which keeps it out of the shell history.
func (e *env) keyArg(arg string) (string, error) {
	if arg != "-" {
		return arg, nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if line = strings.TrimSpace(line); line == "" {
		return "", fmt.Errorf("reading the key from standard input: %v", orEmpty(err))
	}
	return line, nil
}

func verifyFields(r *client.VerifyResult) [][2]string {
	f := [][2]string{{"valid", fmt.Sprint(r.Valid)}, {"code", r.Code}}
	if r.MissingScope != "" {
		f = append(f, [2]string{"missing scope", r.MissingScope})
	}
	if rl := r.RateLimit; rl != nil {
		f = append(f, [2]string{"ratelimit", fmt.Sprintf("%d of %d left until %s", rl.Remaining, rl.Limit, ts(rl.ResetTime()))})
	}
	if c := r.Credits; c != nil {
		f = append(f, [2]string{"credits", fmt.Sprintf("%d left", c.Remaining)})
	}
	if k := r.Key; k != nil {
		role := "-"
		if k.Role != nil {
			role = k.Role.ID + " (" + k.Role.Name + ")"
		}
		meta := "{}"
		if len(k.Meta) > 0 {
			meta = string(k.Meta)
		}
		f = append(f,
			[2]string{"id", k.ID},
			[2]string{"tenant", orDash(k.TenantID)},
			[2]string{"name", k.Name},
			[2]string{"environment", k.Environment},
			[2]string{"scopes", list(k.Scopes)},
			[2]string{"role", role},
			[2]string{"meta", meta},
			[2]string{"expires", tsOr(k.ExpiresAt, "never")},
		)
	}
	return f
}

// orEmpty describes a read error, or the lack of one.
func orEmpty(err error) string {
	if err == nil {
		return "empty input"
	}
	return err.Error()
}
