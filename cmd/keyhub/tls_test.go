package main

import (
	"strings"
	"testing"
)

// TestServeTLS runs `keyhub serve --tls-cert --tls-key` and talks to it
// over HTTPS, with the CLI too: the way a single keyhub serves its API and
// tokens without a proxy in front.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := newTLSFiles(t, dir)
	s := startServer(t, serveOpts{dir: dir, tls: files})
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %s", s.URL)
	}
	meta := s.Must(200, "GET", "/.well-known/oauth-authorization-server", nil).Object(t)
	if meta["issuer"] != s.URL || meta["token_endpoint"] != s.URL+"/oauth2/token" {
		t.Errorf("metadata %v: the default issuer is https://ADDR with TLS", meta)
	}
	if !strings.Contains(s.stderr.String(), "tls=true") {
		t.Errorf("the start-up log does not say TLS is on:\n%s", s.stderr)
	}

	// The CLI trusts a private certificate through SSL_CERT_FILE, as every
	// Go program does.
	env := append(s.cliEnv(s.Operator, ""), "SSL_CERT_FILE="+files.cert)
	if r := run(t, env, "tenants", "create", "over-tls"); r.code != 0 || !strings.Contains(r.stdout, "over-tls") {
		t.Fatalf("tenants create over HTTPS: %s", r)
	}
	r := run(t, s.cliEnv(s.Operator, ""), "tenants", "list")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("without trusting the certificate: want one line about it, got %s", r)
	}
}
