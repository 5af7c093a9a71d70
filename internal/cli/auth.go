package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

// The auth commands are Hubify's (seeds/002): the same command lines and
// the same output, so that scripts written for Hubify run against keyhub.
// They take credentials like every client command, HUBIFY_API_KEY and
// HUBIFY_TOKEN included.

func newAuthCmd(e *env) *cobra.Command {
	return group("auth", "Hubify-compatible API key commands",
		group("api-key", "Create and revoke API keys, as Hubify's CLI does",
			newAuthAPIKeyCreateCmd(e), newAuthAPIKeyRevokeCmd(e)))
}

func newAuthAPIKeyCreateCmd(e *env) *cobra.Command {
	var (
		name, envName string
		scopes        []string
		expires       = expiresValue{now: func() time.Time { return e.now() }}
	)
	c := &cobra.Command{
		Use:   "create --name NAME --scope SCOPES",
		Short: "Create an API key and print it as Hubify does",
		Long: `Create an API key and print exactly the JSON object Hubify prints:
{"key", "name", "scopes", "created_at", "expires_at"}. The key is shown only
this once; store it securely.`,
		Example: `  keyhub auth api-key create --name "my-integration" --scope "labs:read,experiments:*"
  HUBIFY_API_KEY=... keyhub auth api-key create --name ci --scope "*" --expires 90d`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "name"); err != nil {
				return err
			}
			if expires.never {
				expires.at = nil
			}
			k, err := e.client().APIKeys.Create(cmd.Context(), client.APIKeyCreate{
				Name: name, Environment: envName, Scopes: scopes, ExpiresAt: expires.at,
			})
			if err != nil {
				return err
			}
			out, err := hubifyKeyJSON(k)
			if err != nil {
				return err
			}
			if _, err := e.stdout.Write(out); err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stderr, "Warning: API keys are shown only once at creation. Store them securely. If lost, revoke and create a new one.")
			return err
		},
	}
	c.Flags().StringVar(&name, "name", "", "name of the key")
	c.Flags().StringSliceVar(&scopes, "scope", nil, `scopes, comma-separated or repeated, such as "labs:read,experiments:*"`)
	c.Flags().Var(&expires, "expires", "expiry: a duration from now (90d, 36h) or an RFC 3339 time (default: never)")
	c.Flags().StringVar(&envName, "env", "", "environment (default: the tenant's live environment)")
	return c
}

func newAuthAPIKeyRevokeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke KEY",
		Short: "Revoke an API key given by the key itself",
		Long: `Revoke an API key given by the key itself, for when the secret is all you
have: a leaked or compromised key. KEY "-" reads the key from standard input,
which keeps it out of the shell history.`,
		Example: `  keyhub auth api-key revoke hfy_key_abc123def456ghi789`,
		Args:    args("KEY"),
		RunE: func(cmd *cobra.Command, a []string) error {
			key, err := e.keyArg(a[0])
			if err != nil {
				return err
			}
			k, err := e.client().APIKeys.RevokeBySecret(cmd.Context(), key)
			if err != nil {
				return err
			}
			return e.done(k, "revoked key %s (%s)", k.ID, k.Name)
		},
	}
}

// hubifyKeyJSON renders a new key as Hubify's document shows it: these five
// fields in this order, two-space indent, the scopes on one line, times in
// RFC 3339 UTC to the second.
func hubifyKeyJSON(k *client.APIKey) ([]byte, error) {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	var expires any
	if k.ExpiresAt != nil {
		expires = hubifyTime(*k.ExpiresAt)
	}
	fields := []struct {
		name  string
		value any
	}{
		{"key", k.Key},
		{"name", k.Name},
		{"scopes", scopes},
		{"created_at", hubifyTime(k.CreatedAt)},
		{"expires_at", expires},
	}
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, f := range fields {
		v, err := compactJSON(f.value)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "  %q: %s", f.name, v)
		if i < len(fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// compactJSON encodes v on one line without HTML escaping, with a space
// after each comma of a list as in ["labs:read", "experiments:*"].
func compactJSON(v any) ([]byte, error) {
	if list, ok := v.([]string); ok {
		var b bytes.Buffer
		b.WriteByte('[')
		for i, s := range list {
			if i > 0 {
				b.WriteString(", ")
			}
			enc, err := compactJSON(s)
			if err != nil {
				return nil, err
			}
			b.Write(enc)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func hubifyTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }
