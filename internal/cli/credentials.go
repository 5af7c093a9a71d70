package cli

import (
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
     before it expires`

// bearerVars are the environment variables holding a bearer credential, in
// order of precedence.
var bearerVars = []string{"KEYHUB_API_KEY", "KEYHUB_TOKEN", "HUBIFY_API_KEY", "HUBIFY_TOKEN"}

// credential is what the client commands authenticate with: a bearer
// credential (an API key or an access token) sent as is, or an OAuth
// client's id and secret. The zero value sends no credential.
type credential struct {
	bearer                 string
	clientID, clientSecret string
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
		return credential{bearer: e.apiKey}, nil
	case clientFlag:
		return e.clientCredential(cmd)
	}
	for _, name := range bearerVars {
		if v := e.getenv(name); v != "" {
			return credential{bearer: v}, nil
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
	}
	return credential{clientID: e.clientID, clientSecret: e.clientSecret}, nil
}

// needsServer reports whether cmd is a client command of a running server,
// the only kind that needs a credential. Groups only print usage; serve
// and migrate are the server.
func needsServer(cmd *cobra.Command) bool {
	return !cmd.HasSubCommands() && cmd.Annotations[localAnnotation] == ""
}

// localAnnotation marks the commands that do not talk to a server.
const localAnnotation = "keyhub:local"

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
