package cli

import (
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// registerCompletions teaches the shell completion (keyhub completion
// bash|zsh|fish|powershell) the values of the flags that have a fixed set,
// and the saved profiles for --profile. Commands and flags complete by
// themselves.
func registerCompletions(e *env, root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		path, err := configPath(e.getenv)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := readConfig(path)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for n := range cfg.Profiles {
			names = append(names, n)
		}
		slices.Sort(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
			if ev, ok := f.Value.(*enumValue); ok {
				allowed := ev.allowed
				_ = c.RegisterFlagCompletionFunc(f.Name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
					return allowed, cobra.ShellCompDirectiveNoFileComp
				})
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
