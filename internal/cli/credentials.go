package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keyhub/keyhub/client"
)

// credentialHelp documents where the client commands find their
// credential; it is part of the root command's long help.
const credentialHelp = `Credentials, first match wins:
  1. --api-key, or --client-id and --client-secret (an OAuth client)
  2. KEYHUB_API_KEY
  3. KEYHUB_TOKEN          an access token, sent as is
  4. HUBIFY_API_KEY        (Hubify compatibility)
  5. HUBIFY_TOKEN          (Hubify compatibility)
  6. KEYHUB_CLIENT_ID and KEYHUB_CLIENT_SECRET: an OAuth client; the command
     obtains an access token from the server's /oauth2/token and renews it
     before it expires
  7. the profile saved by "keyhub login" (--profile or KEYHUB_PROFILE, else
     "default"), when the server is the profile's: its URL is the default
     of --url, its tenant the default of --tenant`

// bearerVars are the environment variables holding a bearer credential, in
// order of precedence.
var bearerVars = []string{"KEYHUB_API_KEY", "KEYHUB_TOKEN", "HUBIFY_API_KEY", "HUBIFY_TOKEN"}

// credential is what the client commands authenticate with: a bearer
// credential (an API key or an access token) sent as is, or an OAuth
// client's id and secret. The zero value sends no credential.
type credential struct {
	bearer                 string
	clientID, clientSecret string
	// source names where it came from, for messages: "--api-key",
	// "KEYHUB_API_KEY", "profile default", …
	source string
}

func (c credential) none() bool { return c.bearer == "" && c.clientID == "" }

// resolveCredential picks the credential from the flags and the
// environment in the order credentialHelp gives.
func (e *env) resolveCredential(cmd *cobra.Command) (credential, error) {
	changed := cmd.Flags().Changed
	apiKeyFlag := changed("api-key")
	clientFlag := changed("client-id") || changed("client-secret")
	switch {
	case apiKeyFlag && clientFlag:
		return credential{}, usagef("--api-key and --client-id/--client-secret exclude each other")
	case apiKeyFlag:
		return credential{bearer: e.apiKey, source: "--api-key"}, nil
	case clientFlag:
		return e.clientCredential(cmd)
	}
	for _, name := range bearerVars {
		if v := e.getenv(name); v != "" {
			return credential{bearer: v, source: name}, nil
		}
	}
	return e.clientCredential(cmd)
}

// clientCredential takes the OAuth client's id and secret from the flags,
// else from KEYHUB_CLIENT_ID and KEYHUB_CLIENT_SECRET. Having one without
// the other is a mistake worth saying, not a reason to send no credential.
func (e *env) clientCredential(cmd *cobra.Command) (credential, error) {
	fromEnv(cmd, "client-id", "KEYHUB_CLIENT_ID", &e.clientID, e.getenv)
	fromEnv(cmd, "client-secret", "KEYHUB_CLIENT_SECRET", &e.clientSecret, e.getenv)
	switch {
	case e.clientID != "" && e.clientSecret == "":
		return credential{}, usagef("a client id is given but no client secret: set --client-secret or KEYHUB_CLIENT_SECRET")
	case e.clientID == "" && e.clientSecret != "":
		return credential{}, usagef("a client secret is given but no client id: set --client-id or KEYHUB_CLIENT_ID")
	case e.clientID == "":
		return credential{}, nil
	}
	source := "KEYHUB_CLIENT_ID"
	if cmd.Flags().Changed("client-id") {
		source = "--client-id"
	}
	return credential{clientID: e.clientID, clientSecret: e.clientSecret, source: source}, nil
}

// useProfile completes the server, tenant and credential from the saved
// profile where flags and environment gave none. A profile's credential is
// used only with the profile's own server, so that it is never sent
// elsewhere. A profile named with --profile or KEYHUB_PROFILE must exist;
// the default one need not.
func (e *env) useProfile(cmd *cobra.Command) error {
	urlGiven := e.urlSource != ""
	if !e.cred.none() && urlGiven && e.tenant != "" {
		return nil // nothing to complete: the file is not even read
	}
	path, err := configPath(e.getenv)
	if err != nil {
		if e.profileGiven {
			return err
		}
		return nil
	}
	cfg, err := readConfig(path)
	if err != nil {
		return err
	}
	p, ok := cfg.Profiles[e.profile]
	if !ok {
		if e.profileGiven {
			return fmt.Errorf("no profile %q in %s: run keyhub login --profile %s", e.profile, path, e.profile)
		}
		return nil
	}
	if !urlGiven {
		e.url, e.urlSource = p.URL, "profile "+e.profile
	}
	if !sameServer(e.url, p.URL) {
		e.otherProfile = fmt.Sprintf("profile %q is for %s", e.profile, p.URL)
		return nil
	}
	if e.cred.none() {
		e.cred = p.credential(e.profile)
	}
	if e.tenant == "" {
		e.tenant = p.Tenant
	}
	return nil
}

// noCredential is the one line said when a client command has no
// credential: it sends nothing, since the server could only refuse.
func (e *env) noCredential() error {
	msg := "no credential for " + e.url
	if e.otherProfile != "" {
		msg += " (" + e.otherProfile + ")"
	}
	return fmt.Errorf("%s: run keyhub login, or set KEYHUB_API_KEY (or --api-key, KEYHUB_TOKEN, or KEYHUB_CLIENT_ID and KEYHUB_CLIENT_SECRET)", msg)
}

// needsServer reports whether cmd is a client command of a running server,
// the only kind that needs a credential. Groups only print usage; serve
// and migrate are the server; help, version, completion and login (which
// finds its credential itself) are local, as is every command below one
// marked local.
func needsServer(cmd *cobra.Command) bool {
	if cmd.HasSubCommands() {
		return false
	}
	switch cmd.Name() {
	case "help", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return false
	}
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[localAnnotation] != "" {
			return false
		}
	}
	return true
}

// localAnnotation marks the commands that do not talk to a server.
const localAnnotation = "keyhub:local"

// local marks commands as local.
func local(cmds ...*cobra.Command) {
	for _, c := range cmds {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[localAnnotation] = "true"
	}
}

// client returns the client of the configured server, made once per run so
// that an OAuth client's token is fetched once.
func (e *env) client() *client.Client {
	if e.cl != nil {
		return e.cl
	}
	opts := []client.Option{client.WithUserAgent("keyhub-cli")}
	if e.tenant != "" {
		opts = append(opts, client.WithTenant(e.tenant))
	}
	if e.cred.clientID != "" {
		e.cl = client.NewWithClientCredentials(e.url, e.cred.clientID, e.cred.clientSecret, opts...)
	} else {
		e.cl = client.New(e.url, e.cred.bearer, opts...)
	}
	return e.cl
}
