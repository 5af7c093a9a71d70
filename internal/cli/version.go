package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/internal/buildinfo"
)

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print keyhub's version and the commit it was built from",
		Long: `Print keyhub's version and the commit it was built from, as the Go toolchain
recorded them (--json for scripts). "keyhub --version" prints the same line.
A binary built without VCS information (go build -buildvcs=false, or from a
tree without its .git) says so instead of a commit.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildinfo.Read()
			if e.json {
				return e.printJSON(info)
			}
			_, err := fmt.Fprintln(e.stdout, versionLine(info))
			return err
		},
	}
}

// versionLine is the one line of `keyhub version` and `keyhub --version`:
// "keyhub v1.2.3 (commit 0123456789ab, 2026-11-20), go1.26.8 linux/amd64".
func versionLine(i buildinfo.Info) string {
	commit := "commit unknown: built without VCS information"
	if i.Commit != "" {
		commit = "commit " + i.ShortCommit()
		if i.CommitTime != nil {
			commit += ", " + i.CommitTime.UTC().Format(time.DateOnly)
		}
		if i.Modified {
			commit += ", modified"
		}
	}
	return fmt.Sprintf("keyhub %s (%s), %s %s", i.Version, commit, i.GoVersion, i.Platform)
}
