// Package cli is keyhub's command line: `keyhub serve` and `keyhub migrate`
// run the server, every other command is an HTTP client of a running one
// (DESIGN.md §6). Run is the whole program, so tests drive it in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
	"github.com/keyhub/keyhub/internal/buildinfo"
)

// Exit codes of Run.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// defaultURL is the server the client commands talk to when neither --url
// nor KEYHUB_URL names one; it is where `keyhub serve` listens by default.
const defaultURL = "http://127.0.0.1:8080"

// env is what the program receives from the outside world, plus the values
// of the global flags once they are parsed.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time

	url, apiKey, tenant    string
	clientID, clientSecret string
	json                   bool

	// urlSource is where url came from ("--url", "KEYHUB_URL", "profile
	// NAME"), "" while it is the default.
	urlSource string
	// profile is the profile in use; profileGiven whether --profile or
	// KEYHUB_PROFILE named it.
	profile      string
	profileGiven bool
	// otherProfile says why the profile's credential was not used: it is
	// for another server.
	otherProfile string

	// cred is the credential the flags and environment give; cl the client
	// made with it.
	cred credential
	cl   *client.Client
}

// Run runs the keyhub command line with args (without the program name) and
// returns the exit code: 0 ok, 1 error, 2 usage error.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now}
	return e.run(ctx, args)
}

func (e *env) run(ctx context.Context, args []string) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var quiet *quietError
	if errors.As(err, &quiet) {
		return quiet.code
	}
	// One line, prefixed with the program's name once; messages never name
	// the command again (usage errors get their hint on a second line).
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(e.stderr, "keyhub: %s\n", oneLine(err.Error()))
		fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "keyhub: %s\n", e.explain(err))
	return exitError
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "keyhub",
		Short: "keyhub issues API keys to your customers and checks them on every request",
		Long: `keyhub issues API keys to your customers and checks them on every request.

"keyhub serve" runs the server. The other commands are clients of a running
server, configured by flags or the environment: KEYHUB_URL, a credential and,
for operator credentials acting on a tenant, KEYHUB_TENANT; or by a profile
saved with "keyhub login". "keyhub completion bash|zsh|fish|powershell"
prints a shell completion script.

` + credentialHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          runGroup,
		Version:       versionLine(buildinfo.Read()),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&e.url, "url", defaultURL, "server URL (env KEYHUB_URL; default: the profile's)")
	pf.StringVar(&e.profile, "profile", defaultProfile, "profile saved by keyhub login to use (env KEYHUB_PROFILE)")
	pf.StringVar(&e.apiKey, "api-key", "", "API key to authenticate with (env KEYHUB_API_KEY)")
	pf.StringVar(&e.clientID, "client-id", "", "OAuth client id to authenticate with (env KEYHUB_CLIENT_ID)")
	pf.StringVar(&e.clientSecret, "client-secret", "", "OAuth client secret (env KEYHUB_CLIENT_SECRET)")
	pf.StringVar(&e.tenant, "tenant", "", "tenant to act on, with operator credentials (env KEYHUB_TENANT)")
	pf.BoolVar(&e.json, "json", false, "print the server's JSON instead of tables")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	// Resolve the environment before any command runs; an explicit flag
	// wins over the environment variable.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		switch {
		case cmd.Flags().Changed("url"):
			e.urlSource = "--url"
		case e.getenv("KEYHUB_URL") != "":
			e.url, e.urlSource = e.getenv("KEYHUB_URL"), "KEYHUB_URL"
		}
		fromEnv(cmd, "tenant", "KEYHUB_TENANT", &e.tenant, e.getenv)
		e.profileGiven = cmd.Flags().Changed("profile")
		if !e.profileGiven && e.getenv("KEYHUB_PROFILE") != "" {
			e.profile, e.profileGiven = e.getenv("KEYHUB_PROFILE"), true
		}
		if err := validProfileName(e.profile); err != nil {
			return err
		}
		if !needsServer(cmd) {
			return nil
		}
		var err error
		if e.cred, err = e.resolveCredential(cmd); err != nil {
			return err
		}
		if err := e.useProfile(cmd); err != nil {
			return err
		}
		if e.cred.none() {
			return e.noCredential()
		}
		return nil
	}
	serve, migrate, version := newServeCmd(e), newMigrateCmd(e), newVersionCmd(e)
	login, logout, profiles := newLoginCmd(e), newLogoutCmd(e), newProfilesCmd(e)
	local(serve, migrate, version, login, logout, profiles)
	root.AddCommand(
		newTenantsCmd(e), newScopesCmd(e), newKeysCmd(e), newRolesCmd(e), newClientsCmd(e), newMembersCmd(e),
		newSigningKeysCmd(e), newAuditCmd(e), newVerifyCmd(e), newAuthCmd(e), newScanCmd(e), newWebhooksCmd(e),
		login, logout, profiles, serve, migrate, version, newOperatorKeyCmd(e),
	)
	// Shell completion: keyhub completion bash|zsh|fish|powershell. Made
	// now rather than by cobra at run time, so that it is marked local;
	// cobra takes the writer of the scripts when it makes the commands.
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			local(c)
		}
	}
	registerCompletions(e, root)
	return root
}

// fromEnv sets *dst from the environment variable name unless the flag was
// given on the command line.
func fromEnv(cmd *cobra.Command, flag, name string, dst *string, getenv func(string) string) {
	if f := cmd.Flags().Lookup(flag); f != nil && f.Changed {
		return
	}
	if v := getenv(name); v != "" {
		*dst = v
	}
}

// usageError is a mistake in the command line: exit code 2 and a hint.
type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// quietError ends the program with code after the command has already said
// everything there is to say.
type quietError struct{ code int }

func (q *quietError) Error() string { return fmt.Sprintf("exit status %d", q.code) }

// group returns a command that only holds subcommands.
func group(use, short string, children ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs, RunE: runGroup}
	c.AddCommand(children...)
	return c
}

// runGroup runs when a group command is called without a known subcommand.
// Cobra would print help and succeed; a typo must fail instead.
func runGroup(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usagef("%s", msg)
	}
	fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
	return &quietError{exitUsage}
}

// args returns a validator that wants exactly the named positional
// arguments.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		switch {
		case len(a) < len(names):
			return usagef("missing argument %s", names[len(a)])
		case len(a) > len(names):
			return usagef("unexpected argument %q", a[len(names)])
		}
		return nil
	}
}

// required fails with a usage error when a flag was not given.
func required(cmd *cobra.Command, flags ...string) error {
	for _, f := range flags {
		if !cmd.Flags().Changed(f) {
			return usagef("missing required flag --%s", f)
		}
	}
	return nil
}
