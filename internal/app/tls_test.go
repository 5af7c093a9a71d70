package app_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// TestTLS serves HTTPS from a pair of PEM files and follows their renewal:
// each new TLS connection gets the certificate the files hold at the time,
// and a pair that does not load leaves the previous certificate in place.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := apitest.WriteCert(t, certFile, keyFile)
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	addr := strings.TrimPrefix(s.URL, "https://")

	s.Must(200, "GET", "/healthz", nil)
	meta := s.Must(200, "GET", "/.well-known/oauth-authorization-server", nil).Object(t)
	if meta["issuer"] != s.URL || !strings.HasPrefix(s.URL, "https://") {
		t.Errorf("issuer %v, want %s: the default issuer follows TLS", meta["issuer"], s.URL)
	}
	if got := apitest.PeerCertificate(t, addr, first); !got.Equal(first) {
		t.Fatalf("served %v, want the first certificate", got.Subject)
	}

	second := apitest.WriteCert(t, certFile, keyFile)
	if got := apitest.PeerCertificate(t, addr, first, second); !got.Equal(second) {
		t.Fatalf("after renewal served %v, want %v", got.Subject, second.Subject)
	}
	// The API works over the renewed certificate.
	renewed := apitest.NewClient(t, s.URL, s.Operator)
	renewed.HTTP = apitest.TLSClient(second)
	renewed.Must(200, "GET", "/v1/tenants", nil, apitest.Auth(s.Operator, "")...)

	// A broken renewal: the previous certificate stays, and it is logged.
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := apitest.PeerCertificate(t, addr, first, second); !got.Equal(second) {
		t.Fatalf("after a broken renewal served %v, want the second certificate", got.Subject)
	}
	if !strings.Contains(s.Log.String(), "do not load") {
		t.Error("a broken renewal was not logged")
	}
	third := apitest.WriteCert(t, certFile, keyFile)
	if got := apitest.PeerCertificate(t, addr, second, third); !got.Equal(third) {
		t.Fatalf("after a repaired renewal served %v, want %v", got.Subject, third.Subject)
	}
	if strings.Contains(s.Log.String(), "PRIVATE KEY") {
		t.Error("the log holds key material")
	}

	// TLS 1.2 at least; plain HTTP is refused.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}
	plain, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	io.WriteString(plain, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	plain.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(plain)
	if !strings.HasPrefix(string(b), "HTTP/1.0 400") {
		t.Errorf("plain HTTP to the TLS port answered %q", b)
	}
}

// TestTLSFilesMustLoad stops the start, naming the file, when the pair
// cannot be read.
func TestTLSFilesMustLoad(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	apitest.WriteCert(t, certFile, keyFile)
	for name, c := range map[string]struct{ cert, key, want string }{
		"MissingKey":    {certFile, filepath.Join(dir, "nope.key"), "nope.key"},
		"KeyIsNotAKey":  {certFile, certFile, "tls.crt"},
		"OnlyTheCert":   {certFile, "", "both a certificate and its key"},
		"OnlyTheKeyToo": {"", keyFile, "both a certificate and its key"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := app.Run(ctx, app.Config{Addr: "127.0.0.1:0", DB: apitest.SQLite(t), TLSCert: c.cert, TLSKey: c.key,
				OnListen: func(string) { t.Error("listened with an unusable TLS configuration") }})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run = %v, want an error naming %q", err, c.want)
			}
		})
	}
}
