package cli

import "github.com/spf13/cobra"

// replaced by the lead

func newServeCmd(e *env) *cobra.Command { return &cobra.Command{Use: "serve"} }

func newMigrateCmd(e *env) *cobra.Command { return &cobra.Command{Use: "migrate"} }
