package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub/client"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// The tests of this file put real nginx and Caddy, configured from the
// files in deploy/forward-auth/, between a client and a dummy upstream,
// with keyhub's forward auth deciding. KEYHUB_TEST_NGINX and
// KEYHUB_TEST_CADDY name the binaries (.ci/run installs Debian's); without
// them the tests skip, except in CI, where they fail.

// proxyBinary returns the binary named by env.
func proxyBinary(t *testing.T, env, pkg string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the proxy tests", env)
		}
		t.Skipf("%s is not set (apt-get install %s; %s=$(command -v %s))", env, pkg, env, pkg)
	}
	return p
}

// upstream is the API behind the proxy: it records the headers of every
// request that reaches it.
type upstream struct {
	url  string
	mu   sync.Mutex
	seen []http.Header
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Header.Clone())
		u.mu.Unlock()
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(srv.Close)
	u.url = srv.URL
	return u
}

func (u *upstream) requests() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.seen...)
}

// deployFile is a file of deploy/forward-auth/ with each placeholder
// replaced; a placeholder the file lacks fails the test, so that the file
// and the test cannot drift apart.
func deployFile(t *testing.T, name string, repl ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "forward-auth", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(repl); i += 2 {
		if !strings.Contains(s, repl[i]) {
			t.Fatalf("deploy/forward-auth/%s has no %q", name, repl[i])
		}
		s = strings.ReplaceAll(s, repl[i], repl[i+1])
	}
	return s
}

// startProxy runs cmd until the test ends and waits until addr accepts
// connections.
func startProxy(t *testing.T, cmd *exec.Cmd, addr string, logFile string) {
	t.Helper()
	out := &apitest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	logs := func() string {
		l, _ := os.ReadFile(logFile)
		return out.String() + string(l)
	}
	for range 400 {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited: %v\n%s", cmd.Path, err, logs())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("%s output:\n%s", cmd.Path, logs())
				}
			})
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s does not listen on %s\n%s", cmd.Path, addr, logs())
}

// verifierLines are the lines of the deploy files that send the verifier
// credential, which a trusted proxy drops.
var verifierLines = map[string]string{
	"nginx.conf": "        proxy_set_header Keyhub-Verifier \"kh_REPLACE_WITH_VERIFIER_KEY\";\n",
	"Caddyfile":  "\t\t\theader_up Keyhub-Verifier \"kh_REPLACE_WITH_VERIFIER_KEY\"\n",
}

// verifierRepl replaces the verifier placeholder of file by verifier, or
// drops its line when verifier is "" (a trusted proxy).
func verifierRepl(file, verifier string) []string {
	if verifier == "" {
		return []string{verifierLines[file], ""}
	}
	return []string{"kh_REPLACE_WITH_VERIFIER_KEY", verifier}
}

func startNginx(t *testing.T, bin, keyhub, up, verifier string) string {
	addr := freeAddr(t)
	dir := t.TempDir()
	site := deployFile(t, "nginx.conf", append([]string{"listen 8000;", "listen " + addr + ";", "127.0.0.1:8080", keyhub,
		"127.0.0.1:9000", up}, verifierRepl("nginx.conf", verifier)...)...)
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	// One process (no master, so no switch to another user that could not
	// read this folder), in the foreground, everything under dir.
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	startProxy(t, exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf), addr, filepath.Join(dir, "error.log"))
	return addr
}

func startCaddy(t *testing.T, bin, keyhub, up, verifier string) string {
	addr := freeAddr(t)
	dir := t.TempDir()
	site := deployFile(t, "Caddyfile", append([]string{":8000 {", "http://" + addr + " {", "127.0.0.1:8080", keyhub,
		"127.0.0.1:9000", up}, verifierRepl("Caddyfile", verifier)...)...)
	global := "{\n\tadmin off\n\tauto_https off\n\tstorage file_system " + filepath.Join(dir, "data") + "\n}\n"
	conf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(conf, []byte(global+site), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--adapter", "caddyfile", "--config", conf)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	startProxy(t, cmd, addr, filepath.Join(dir, "none"))
	return addr
}

// Each proxy asks with a verifier credential, and as a trusted proxy
// (--trusted-proxies 127.0.0.1) with the verifier line dropped.
func TestNginx(t *testing.T) {
	bin := proxyBinary(t, "KEYHUB_TEST_NGINX", "nginx")
	for _, trusted := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			throughProxy(t, trusted, func(keyhub, up, verifier string) string { return startNginx(t, bin, keyhub, up, verifier) })
		})
	}
}

func TestCaddy(t *testing.T) {
	bin := proxyBinary(t, "KEYHUB_TEST_CADDY", "caddy")
	for _, trusted := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			throughProxy(t, trusted, func(keyhub, up, verifier string) string { return startCaddy(t, bin, keyhub, up, verifier) })
		})
	}
}

// throughProxy calls an API behind a proxy, configured by start, with the
// deploy file's ?scope=payouts:write.
func throughProxy(t *testing.T, trusted bool, start func(keyhub, up, verifier string) string) {
	var opts []func(*app.Config)
	if trusted {
		opts = append(opts, func(c *app.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
	}
	s := apitest.Start(t, apitest.SQLite(t), opts...)
	k := plantForward(t, s)
	_, reader := s.Key(k.tenant, map[string]any{"name": "reader", "scopes": []string{"payouts:read"}})
	up := newUpstream(t)
	verifier := k.verifier
	if trusted {
		verifier = ""
	}
	proxy := "http://" + start(strings.TrimPrefix(s.URL, "http://"), strings.TrimPrefix(up.url, "http://"), verifier)

	call := func(headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", proxy+"/payouts/7?x=1", strings.NewReader(`{"amount":1}`))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range headers {
			name, v, _ := strings.Cut(h, ": ")
			req.Header.Set(name, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	// A good key reaches the API with its identity, and the proxy keeps
	// the key itself and any forged identity from it.
	// X-Keyhub-Client-Id is one keyhub does not answer for an API key: the
	// proxy must drop it rather than pass the client's.
	resp := call("X-Api-Key: "+k.good, "X-Keyhub-Key-Id: key_forged", client.HeaderClientID+": cli_forged")
	if resp.StatusCode != 200 {
		t.Fatalf("good key: %d", resp.StatusCode)
	}
	seen := up.requests()
	if len(seen) != 1 {
		t.Fatalf("upstream saw %d requests, want 1", len(seen))
	}
	h := seen[0]
	want := map[string]string{client.HeaderKeyID: k.goodID, client.HeaderTenantID: k.tenant,
		client.HeaderScopes: "payouts:write payouts:read", client.HeaderEnvironment: "live",
		client.HeaderMeta:     base64.RawURLEncoding.EncodeToString([]byte(`{"plan":"pro"}`)),
		client.HeaderClientID: "", "X-Api-Key": "", "Keyhub-Verifier": ""}
	for name, w := range want {
		if got := h.Get(name); got != w {
			t.Errorf("upstream %s %q, want %q", name, got, w)
		}
	}
	if m, err := client.DecodeMeta(h); err != nil || string(m) != `{"plan":"pro"}` {
		t.Errorf("upstream meta %s %v", m, err)
	}
	if resp := call("Authorization: Bearer " + k.good); resp.StatusCode != 200 {
		t.Errorf("bearer: %d", resp.StatusCode)
	}

	for _, c := range []struct {
		name      string
		headers   []string
		status    int
		challenge string
	}{
		{"no key", nil, 401, invalidToken},
		{"garbage", []string{"X-Api-Key: kh_live_garbage"}, 401, invalidToken},
		{"revoked", []string{"X-Api-Key: " + k.revoked}, 401, invalidToken},
		{"missing scope", []string{"X-Api-Key: " + reader}, 403, ""},
	} {
		resp := call(c.headers...)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.status)
		}
		if c.challenge != "" && resp.Header.Get("WWW-Authenticate") != c.challenge {
			t.Errorf("%s: WWW-Authenticate %q, want %q", c.name, resp.Header.Get("WWW-Authenticate"), c.challenge)
		}
	}
	if got := len(up.requests()); got != 2 {
		t.Errorf("upstream saw %d requests, want the 2 with a good key", got)
	}

	// The limited key has one use an hour: the second is 429.
	if resp := call("X-Api-Key: " + k.limited); resp.StatusCode != 200 {
		t.Errorf("limited key, first use: %d", resp.StatusCode)
	}
	resp = call("X-Api-Key: " + k.limited)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("limited key, second use: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get(client.HeaderRateLimitRemaining) != "0" {
		t.Errorf("limited key: X-RateLimit-Remaining %q", resp.Header.Get(client.HeaderRateLimitRemaining))
	}
	if got := len(up.requests()); got != 3 {
		t.Errorf("upstream saw %d requests, want 3", got)
	}
}
