package cli

import (
	"github.com/spf13/cobra"
)

func newSigningKeysCmd(e *env) *cobra.Command {
	return group("signing-keys", "Manage the keys that sign access tokens (operator credentials)",
		newSigningKeysRotateCmd(e))
}

func newSigningKeysRotateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Make a new signing key current",
		Long: `Make a new signing key current. Tokens signed by the previous key keep
verifying until they expire: the JWKS lists both keys for that long.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := e.client().SigningKeys.Rotate(cmd.Context())
			if err != nil {
				return err
			}
			return e.show(k, func() [][2]string {
				return [][2]string{{"kid", k.KID}, {"alg", k.Alg}, {"created", ts(k.CreatedAt)}}
			})
		},
	}
}
