package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// now is the clock of every test run.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// recorded is one request the fake server received.
type recorded struct {
	Method, Path string
	Query        string
	Header       http.Header
	Body         string
}

// fakeServer answers every request with one canned response and records
// what it received.
type fakeServer struct {
	*httptest.Server
	reqs []recorded
}

// newFake starts a server whose handler h answers each request after it is
// recorded; a nil h answers status with body.
func newFake(t *testing.T, status int, body string, h http.HandlerFunc) *fakeServer {
	t.Helper()
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(b)})
		if h != nil {
			h(w, r)
			return
		}
		if status >= 400 {
			w.Header().Set("Content-Type", "application/problem+json")
		} else if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// result is the outcome of one run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line against url with the given environment
// (KEYHUB_URL and KEYHUB_API_KEY default to url and an operator key).
func run(t *testing.T, url string, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		switch k {
		case "KEYHUB_URL":
			return url
		case "KEYHUB_API_KEY":
			return "kh_live_operator"
		}
		return ""
	}
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, getenv: getenv, now: func() time.Time { return now }}
	code := e.run(context.Background(), args)
	return result{code, out.String(), errOut.String()}
}

// sameJSON reports whether a and b encode the same value.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	if a == "" || b == "" {
		return a == b
	}
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatalf("bad JSON %q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// cliCase is one command line run against a canned answer.
type cliCase struct {
	name   string
	args   []string
	stdin  string
	status int
	resp   string
	// want is the request the command must send; zero when it must send
	// none.
	method, path, query, body string
	code                      int
	out, errOut               []string // substrings of stdout and stderr
	exactOut                  string   // the whole of stdout, when set
}

func (c cliCase) check(t *testing.T) {
	t.Helper()
	status := c.status
	if status == 0 {
		status = 200
	}
	f := newFake(t, status, c.resp, nil)
	res := run(t, f.URL, nil, c.stdin, c.args...)
	if res.code != c.code {
		t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", res.code, c.code, res.stdout, res.stderr)
	}
	switch {
	case c.method == "" && len(f.reqs) > 0:
		t.Errorf("sent %s %s, want no request", f.reqs[0].Method, f.reqs[0].Path)
	case c.method != "" && len(f.reqs) != 1:
		t.Errorf("sent %d requests, want 1", len(f.reqs))
	case c.method != "":
		r := f.reqs[0]
		if r.Method != c.method || r.Path != c.path || r.Query != c.query {
			t.Errorf("sent %s %s?%s, want %s %s?%s", r.Method, r.Path, r.Query, c.method, c.path, c.query)
		}
		if !sameJSON(t, r.Body, c.body) {
			t.Errorf("sent body %s\nwant %s", r.Body, c.body)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer kh_live_operator" {
			t.Errorf("Authorization %q", got)
		}
		if c.body != "" && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
	}
	for _, s := range c.out {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
		}
	}
	for _, s := range c.errOut {
		if !strings.Contains(res.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
		}
	}
	if c.exactOut != "" && res.stdout != c.exactOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, c.exactOut)
	}
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, c.check)
	}
}

func TestUsage(t *testing.T) {
	runCases(t, []cliCase{
		{name: "Help", args: []string{"--help"}, out: []string{"Usage:", "keys"}},
		{name: "SubcommandHelp", args: []string{"keys", "create", "--help"}, out: []string{"--expires", "--scope"}},
		{name: "NoCommand", args: nil, code: 2, errOut: []string{"Available Commands:"}},
		{name: "BareGroup", args: []string{"keys"}, code: 2, errOut: []string{"keyhub keys [command]"}},
		{name: "UnknownCommand", args: []string{"tenents"}, code: 2,
			errOut: []string{`keyhub: unknown command "tenents" for "keyhub"; did you mean tenants?`, "Run 'keyhub --help' for usage."}},
		{name: "UnknownSubcommand", args: []string{"keys", "destroy"}, code: 2, errOut: []string{`unknown command "destroy" for "keyhub keys"`}},
		{name: "UnknownFlag", args: []string{"keys", "list", "--bogus"}, code: 2, errOut: []string{"unknown flag: --bogus", "keyhub keys list --help"}},
		{name: "MissingArg", args: []string{"keys", "get"}, code: 2, errOut: []string{"keyhub: missing argument ID\nRun 'keyhub keys get --help' for usage.\n"}},
		{name: "ExtraArg", args: []string{"keys", "get", "a", "b"}, code: 2, errOut: []string{`unexpected argument "b"`}},
		{name: "BadInt", args: []string{"keys", "list", "--limit", "many"}, code: 2, errOut: []string{`"--limit"`}},
		{name: "LimitRange", args: []string{"keys", "list", "--limit", "500"}, code: 2, errOut: []string{"--limit: want 1 to 200"}},
		{name: "BadState", args: []string{"keys", "list", "--state", "dead"}, code: 2,
			errOut: []string{`invalid argument "dead" for "--state" flag: want one of active, disabled, revoked, expired`}},
		{name: "MissingName", args: []string{"keys", "create"}, code: 2, errOut: []string{"missing required flag --name"}},
		{name: "BadExpires", args: []string{"keys", "create", "--name", "a", "--expires", "soon"}, code: 2,
			errOut: []string{`invalid argument "soon" for "--expires" flag`}},
		{name: "ZeroExpires", args: []string{"keys", "create", "--name", "a", "--expires", "0d"}, code: 2, errOut: []string{`"--expires"`}},
		{name: "BadMeta", args: []string{"keys", "create", "--name", "a", "--meta", "[1]"}, code: 2,
			errOut: []string{`invalid argument "[1]" for "--meta" flag: want a JSON object`}},
		{name: "BadFrom", args: []string{"audit", "list", "--from", "yesterday"}, code: 2, errOut: []string{`"--from"`}},
		{name: "BadPrefix", args: []string{"tenants", "create", "acme", "--prefix", "live"}, code: 2, errOut: []string{`"--prefix"`}},
		{name: "EnableDisable", args: []string{"keys", "update", "key_1", "--enable", "--disable"}, code: 2,
			errOut: []string{"--enable and --disable exclude each other"}},
		{name: "UpdateNothing", args: []string{"keys", "update", "key_1"}, code: 2, errOut: []string{"nothing to change"}},
		{name: "RoleUpdateNothing", args: []string{"roles", "update", "role_1"}, code: 2, errOut: []string{"nothing to change"}},
		{name: "TenantUpdateNothing", args: []string{"tenants", "update", "ten_1"}, code: 2, errOut: []string{"nothing to change"}},
		{name: "RoleMissingName", args: []string{"roles", "create"}, code: 2, errOut: []string{"missing required flag --name"}},
	})
}

func TestServerErrors(t *testing.T) {
	runCases(t, []cliCase{
		{name: "Validation", args: []string{"keys", "create", "--name", "ci", "--scope", "a::b"},
			status: 422, resp: `{"type":"about:blank","title":"Unprocessable Entity","status":422,
"detail":"request has invalid fields","code":"validation_failed",
"errors":[{"field":"scopes[0]","message":"scope \"a::b\" has an empty segment"}]}`,
			method: "POST", path: "/v1/api-keys", body: `{"name":"ci","scopes":["a::b"]}`, code: 1,
			errOut: []string{"keyhub: 422 validation_failed: request has invalid fields: scopes[0]: scope \"a::b\" has an empty segment\n"}},
		{name: "RoleInUse", args: []string{"roles", "delete", "role_1"},
			status: 409, resp: `{"title":"Conflict","status":409,"detail":"role \"role_1\" is used by 2 keys","code":"role_in_use"}`,
			method: "DELETE", path: "/v1/roles/role_1", code: 1,
			errOut: []string{`keyhub: 409 role_in_use: role "role_1" is used by 2 keys`}},
		{name: "NotFoundJSON", args: []string{"--json", "keys", "get", "key_9"},
			status: 404, resp: `{"title":"Not Found","status":404,"detail":"api key \"key_9\" not found","code":"not_found"}`,
			method: "GET", path: "/v1/api-keys/key_9", code: 1, exactOut: "",
			errOut: []string{`keyhub: 404 not_found: api key "key_9" not found`}},
	})
}

func TestErrorOutputIsOneLine(t *testing.T) {
	f := newFake(t, 403, `{"title":"Forbidden","status":403,"detail":"listing keys requires scope \"read:api_keys\"","code":"insufficient_scope"}`, nil)
	res := run(t, f.URL, nil, "", "keys", "list")
	if res.code != 1 || res.stdout != "" ||
		res.stderr != "keyhub: 403 insufficient_scope: listing keys requires scope \"read:api_keys\"\n" {
		t.Errorf("code %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
}

// TestNoCredential says so in one line and sends nothing: the server could
// only refuse.
func TestNoCredential(t *testing.T) {
	f := newFake(t, 200, `{"data":[]}`, nil)
	res := run(t, f.URL, map[string]string{"KEYHUB_API_KEY": ""}, "", "roles", "list")
	want := "keyhub: no credential for " + f.URL + ": run keyhub login, or set KEYHUB_API_KEY (or --api-key, KEYHUB_TOKEN, or KEYHUB_CLIENT_ID and KEYHUB_CLIENT_SECRET)\n"
	if res.code != 1 || res.stderr != want || res.stdout != "" {
		t.Errorf("code %d stdout %q stderr %q, want 1 and %q", res.code, res.stdout, res.stderr, want)
	}
	if len(f.reqs) != 0 {
		t.Errorf("sent %d requests without a credential", len(f.reqs))
	}
}

// TestUnauthorizedNamesTheCredential says which credential the server
// refused.
func TestUnauthorizedNamesTheCredential(t *testing.T) {
	f := newFake(t, 401, `{"title":"Unauthorized","status":401,"detail":"the credential is invalid, revoked, disabled or expired","code":"invalid_token"}`, nil)
	res := run(t, f.URL, nil, "", "roles", "list")
	want := "keyhub: 401 invalid_token: the credential is invalid, revoked, disabled or expired (the credential from KEYHUB_API_KEY)\n"
	if res.code != 1 || res.stderr != want {
		t.Errorf("code %d stderr %q, want %q", res.code, res.stderr, want)
	}
}

func TestUnreachable(t *testing.T) {
	f := newFake(t, 200, "{}", nil)
	url := f.URL
	f.Close()
	res := run(t, url, nil, "", "keys", "get", "key_1")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "keyhub: ") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("code %d stderr %q", res.code, res.stderr)
	}
}

func TestGlobalFlagsAndEnv(t *testing.T) {
	f := newFake(t, 200, `{"data":[]}`, nil)
	// The environment names a tenant; flags win over the environment.
	vars := map[string]string{"KEYHUB_URL": "http://127.0.0.1:1", "KEYHUB_TENANT": "ten_env", "KEYHUB_API_KEY": "kh_env"}
	res := run(t, "", vars, "", "--url", f.URL, "--api-key", "kh_flag", "roles", "list")
	if res.code != 0 {
		t.Fatalf("code %d stderr %s", res.code, res.stderr)
	}
	h := f.reqs[0].Header
	if h.Get("Authorization") != "Bearer kh_flag" || h.Get("Keyhub-Tenant") != "ten_env" {
		t.Errorf("headers %v", h)
	}
	res = run(t, f.URL, nil, "", "roles", "list", "--tenant", "ten_flag")
	if res.code != 0 || f.reqs[1].Header.Get("Keyhub-Tenant") != "ten_flag" {
		t.Errorf("code %d tenant %q", res.code, f.reqs[1].Header.Get("Keyhub-Tenant"))
	}
	res = run(t, f.URL, nil, "", "roles", "list")
	if _, ok := f.reqs[2].Header["Keyhub-Tenant"]; ok || res.code != 0 {
		t.Error("sent Keyhub-Tenant without a tenant")
	}
}

func TestDefaultURL(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }}
	root := newRootCmd(e)
	if f := root.PersistentFlags().Lookup("url"); f.DefValue != "http://127.0.0.1:8080" {
		t.Errorf("default url %q", f.DefValue)
	}
}
