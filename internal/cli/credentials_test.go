package cli

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestCredentialPrecedence(t *testing.T) {
	all := map[string]string{
		"KEYHUB_API_KEY": "kh_env", "KEYHUB_TOKEN": "tok_env", "HUBIFY_API_KEY": "hfy_key_env", "HUBIFY_TOKEN": "hfy_tok_env",
		"KEYHUB_CLIENT_ID": "cli_env", "KEYHUB_CLIENT_SECRET": "sec_env",
	}
	// without returns all but the named variables.
	without := func(names ...string) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			m[k] = v
		}
		for _, n := range names {
			m[n] = ""
		}
		return m
	}
	tests := []struct {
		name  string
		vars  map[string]string
		flags []string
		want  string
	}{
		{"APIKeyFlag", all, []string{"--api-key", "kh_flag"}, "Bearer kh_flag"},
		{"KeyhubAPIKey", all, nil, "Bearer kh_env"},
		{"KeyhubToken", without("KEYHUB_API_KEY"), nil, "Bearer tok_env"},
		{"HubifyAPIKey", without("KEYHUB_API_KEY", "KEYHUB_TOKEN"), nil, "Bearer hfy_key_env"},
		{"HubifyToken", without("KEYHUB_API_KEY", "KEYHUB_TOKEN", "HUBIFY_API_KEY"), nil, "Bearer hfy_tok_env"},
		{"ClientCredentialsEnv", without("KEYHUB_API_KEY", "KEYHUB_TOKEN", "HUBIFY_API_KEY", "HUBIFY_TOKEN"), nil, "Bearer at_cli_env"},
		{"ClientFlagsWinOverEnvKeys", all, []string{"--client-id", "cli_flag", "--client-secret", "sec_flag"}, "Bearer at_cli_flag"},
		{"ClientIDFlagSecretEnv", all, []string{"--client-id", "cli_flag"}, "Bearer at_cli_flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOAuthFake(t)
			res := run(t, f.URL, tt.vars, "", append(tt.flags, "roles", "list")...)
			if res.code != 0 {
				t.Fatalf("code %d stderr %s", res.code, res.stderr)
			}
			api := f.api()
			if len(api) != 1 || api[0].Header.Get("Authorization") != tt.want {
				t.Fatalf("API requests %v, want Authorization %q", api, tt.want)
			}
		})
	}
}

// oauthFake is a keyhub that issues the token "at_<client id>" to any
// client whose secret starts with "sec_", and answers other requests with
// an empty list.
type oauthFake struct{ *fakeServer }

func newOAuthFake(t *testing.T) oauthFake {
	f := newFake(t, 0, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/oauth2/token" {
			io.WriteString(w, `{"data":[]}`)
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok || !strings.HasPrefix(secret, "sec_") {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"at_%s","token_type":"Bearer","expires_in":3600}`, id)
	})
	return oauthFake{f}
}

// tokenReqs and api split the recorded requests into token requests and
// API requests.
func (f oauthFake) tokenReqs() (out []recorded) {
	for _, r := range f.reqs {
		if r.Path == "/oauth2/token" {
			out = append(out, r)
		}
	}
	return out
}

func (f oauthFake) api() (out []recorded) {
	for _, r := range f.reqs {
		if r.Path != "/oauth2/token" {
			out = append(out, r)
		}
	}
	return out
}

func TestClientCredentialsOneTokenPerRun(t *testing.T) {
	f := oauthFake{newFake(t, 0, "", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/oauth2/token":
			io.WriteString(w, `{"access_token":"at_1","token_type":"Bearer","expires_in":3600}`)
		case r.URL.Query().Get("cursor") == "":
			io.WriteString(w, `{"data":[`+keyJSON+`],"next_cursor":"c1"}`)
		default:
			io.WriteString(w, `{"data":[`+key2JSON+`],"next_cursor":null}`)
		}
	})}
	vars := map[string]string{"KEYHUB_API_KEY": "", "KEYHUB_CLIENT_ID": "cli_01", "KEYHUB_CLIENT_SECRET": "sec_x", "KEYHUB_TENANT": "ten_01"}
	res := run(t, f.URL, vars, "", "keys", "list", "--all")
	if res.code != 0 {
		t.Fatalf("code %d stderr %s", res.code, res.stderr)
	}
	tok := f.tokenReqs()
	if len(tok) != 1 || len(f.api()) != 2 {
		t.Fatalf("%d token requests, %d API requests", len(tok), len(f.api()))
	}
	if tok[0].Method != "POST" || tok[0].Body != "grant_type=client_credentials" ||
		tok[0].Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		!strings.HasPrefix(tok[0].Header.Get("Authorization"), "Basic ") {
		t.Errorf("token request %+v", tok[0])
	}
	for _, r := range f.api() {
		if r.Header.Get("Authorization") != "Bearer at_1" || r.Header.Get("Keyhub-Tenant") != "ten_01" {
			t.Errorf("API request headers %v", r.Header)
		}
	}
}

func TestClientCredentialsRejected(t *testing.T) {
	f := newOAuthFake(t)
	vars := map[string]string{"KEYHUB_API_KEY": "", "KEYHUB_CLIENT_ID": "cli_01", "KEYHUB_CLIENT_SECRET": "wrong"}
	res := run(t, f.URL, vars, "", "keys", "list")
	if res.code != 1 || res.stdout != "" || strings.Count(res.stderr, "\n") != 1 ||
		res.stderr != "keyhub: "+f.URL+"/oauth2/token refused the OAuth client from KEYHUB_CLIENT_ID: invalid_client: client authentication failed\n" {
		t.Errorf("code %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if len(f.api()) != 0 {
		t.Error("called the API without a token")
	}
}

func TestCredentialUsageErrors(t *testing.T) {
	f := newOAuthFake(t)
	tests := []struct {
		name  string
		vars  map[string]string
		flags []string
		want  string
	}{
		{"APIKeyAndClient", nil, []string{"--api-key", "k", "--client-id", "c", "--client-secret", "sec_s"},
			"--api-key and --client-id/--client-secret exclude each other"},
		{"ClientIDFlagNoSecret", nil, []string{"--client-id", "c"}, "no client secret: set --client-secret or KEYHUB_CLIENT_SECRET"},
		{"ClientSecretFlagNoID", nil, []string{"--client-secret", "sec_s"}, "no client id: set --client-id or KEYHUB_CLIENT_ID"},
		{"ClientIDEnvNoSecret", map[string]string{"KEYHUB_API_KEY": "", "KEYHUB_CLIENT_ID": "c"}, nil, "no client secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, f.URL, tt.vars, "", append(tt.flags, "roles", "list")...)
			if res.code != 2 || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("code %d stderr %q", res.code, res.stderr)
			}
		})
	}
	if len(f.reqs) != 0 {
		t.Errorf("sent %d requests", len(f.reqs))
	}
	// A lower-precedence half credential does not matter when a higher one
	// is there.
	res := run(t, f.URL, map[string]string{"KEYHUB_CLIENT_ID": "c"}, "", "roles", "list")
	if res.code != 0 {
		t.Errorf("code %d stderr %q", res.code, res.stderr)
	}
}

func TestHubifyEnvForAuthCommands(t *testing.T) {
	f := newFake(t, 201, hubifyKeyResp, nil)
	vars := map[string]string{"KEYHUB_API_KEY": "", "HUBIFY_API_KEY": "hfy_key_admin"}
	res := run(t, f.URL, vars, "", "auth", "api-key", "create", "--name", "my-integration", "--scope", "labs:read,experiments:*")
	if res.code != 0 || res.stdout != hubifyDoc {
		t.Fatalf("code %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if got := f.reqs[0].Header.Get("Authorization"); got != "Bearer hfy_key_admin" {
		t.Errorf("Authorization %q", got)
	}
}

func TestLocalCommandsNeedNoCredential(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }}
	root := newRootCmd(e)
	for _, path := range [][]string{{"serve"}, {"migrate"}, {"keys"}, {"auth", "api-key"}} {
		c, _, err := root.Find(path)
		if err != nil || needsServer(c) {
			t.Errorf("%v: needsServer, err %v", path, err)
		}
	}
	for _, path := range [][]string{{"keys", "list"}, {"auth", "api-key", "revoke"}, {"signing-keys", "rotate"}} {
		if c, _, err := root.Find(path); err != nil || !needsServer(c) {
			t.Errorf("%v: does not need a server, err %v", path, err)
		}
	}
}
