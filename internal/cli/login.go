package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/keyhub/keyhub/client"
)

func newLoginCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "login",
		Short: "Save a server and a credential as a profile",
		Long: `Save a server URL and a credential under a profile name ("default" unless
--profile names another), after checking that the server accepts it. Later
commands use the profile when no flag or variable gives a credential, and
only with the profile's own server.

The credential is an API key or access token from --api-key, KEYHUB_API_KEY
or KEYHUB_TOKEN, an OAuth client from --client-id and --client-secret (or
KEYHUB_CLIENT_ID and KEYHUB_CLIENT_SECRET), or else read from standard input:
typed without echo at a terminal, or piped in. --tenant saves the tenant an
operator credential acts on.

The profiles are kept in $KEYHUB_CONFIG, else $XDG_CONFIG_HOME/keyhub/config.json,
else ~/.config/keyhub/config.json, with mode 0600.`,
		Example: `  keyhub login --url https://keys.example.com          # paste the key when asked
  keyhub login --profile staging --url https://keys.staging.example.com < key.txt
  keyhub login --profile ci --client-id cli_01J... --client-secret "$SECRET"
  keyhub --profile staging keys list`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error { return e.login(cmd) },
	}
}

func (e *env) login(cmd *cobra.Command) error {
	path, err := configPath(e.getenv)
	if err != nil {
		return err
	}
	cfg, err := readConfig(path)
	if err != nil {
		return err
	}
	if old, ok := cfg.Profiles[e.profile]; ok && e.urlSource == "" {
		// Logging in again to a profile keeps its server.
		e.url = old.URL
	}
	cred, err := e.resolveCredential(cmd)
	if err != nil {
		return err
	}
	if cred.none() {
		if cred, err = e.readCredential(); err != nil {
			return err
		}
	}
	e.cred = cred
	// The server must accept the credential: any authenticated call does,
	// and listing the scope catalogue needs no scope.
	if _, err := e.client().Scopes.List(cmd.Context()); err != nil {
		var ce *client.Error
		if errors.As(err, &ce) && (ce.Status == 401 || ce.Status == 403) {
			return fmt.Errorf("%s refused the credential, nothing saved: %s", e.url, e.explain(err))
		}
		return err
	}
	p := &profile{URL: strings.TrimRight(e.url, "/"), APIKey: cred.bearer, ClientID: cred.clientID, ClientSecret: cred.clientSecret, Tenant: e.tenant}
	cfg.Profiles[e.profile] = p
	if err := writeConfig(path, cfg); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(profileView(e.profile, p, true))
	}
	_, err = fmt.Fprintf(e.stdout, "logged in to %s as %s; saved as profile %q in %s\n", p.URL, describe(p), e.profile, path)
	return err
}

// readCredential reads an API key or token from standard input: without
// echo from a terminal, else the first line of what is piped in.
func (e *env) readCredential() (credential, error) {
	var line string
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "API key or access token for %s (not shown): ", e.url)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return credential{}, fmt.Errorf("reading the credential: %w", err)
		}
		line = string(b)
	} else {
		var err error
		line, err = bufio.NewReader(io.LimitReader(e.stdin, 64<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return credential{}, fmt.Errorf("reading the credential from standard input: %w", err)
		}
	}
	if line = strings.TrimSpace(line); line == "" {
		return credential{}, usagef("no credential: give --api-key, --client-id and --client-secret, or the key on standard input")
	}
	return credential{bearer: line, source: "standard input"}, nil
}

func newLogoutCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget a saved profile",
		Long: `Remove a profile ("default" unless --profile names another) from the config
file. The credential itself stays valid on the server: revoke it there
(keyhub keys revoke) if it should stop working.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := configPath(e.getenv)
			if err != nil {
				return err
			}
			cfg, err := readConfig(path)
			if err != nil {
				return err
			}
			if _, ok := cfg.Profiles[e.profile]; !ok {
				return fmt.Errorf("no profile %q in %s", e.profile, path)
			}
			delete(cfg.Profiles, e.profile)
			if err := writeConfig(path, cfg); err != nil {
				return err
			}
			return e.done(nil, "removed profile %q from %s", e.profile, path)
		},
	}
}

func newProfilesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "profiles",
		Short: "List the saved profiles, never their secrets",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := configPath(e.getenv)
			if err != nil {
				return err
			}
			cfg, err := readConfig(path)
			if err != nil {
				return err
			}
			names := make([]string, 0, len(cfg.Profiles))
			for n := range cfg.Profiles {
				names = append(names, n)
			}
			slices.Sort(names)
			views := make([]map[string]any, 0, len(names))
			for _, n := range names {
				views = append(views, profileView(n, cfg.Profiles[n], n == e.profile))
			}
			return printList(e, views, "", []string{"", "PROFILE", "URL", "CREDENTIAL", "TENANT"}, func(v map[string]any) []string {
				mark := ""
				if v["active"] == true {
					mark = "*"
				}
				return []string{mark, v["name"].(string), v["url"].(string), v["credential"].(string), orDash(v["tenant"].(string))}
			})
		},
	}
}

// profileView shows a profile without its secrets.
func profileView(name string, p *profile, active bool) map[string]any {
	return map[string]any{"name": name, "url": p.URL, "credential": describe(p), "tenant": p.Tenant, "active": active}
}

// describe names a profile's credential by its kind and start.
func describe(p *profile) string {
	if p.ClientID != "" {
		return "OAuth client " + p.ClientID
	}
	return "credential " + hint(p.APIKey)
}
