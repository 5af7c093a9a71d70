package apitest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/app"
)

// Server is keyhub running in-process: app.Run on 127.0.0.1:0 until the
// test that started it ends. Its Client calls it with the operator key.
type Server struct {
	*Client
	// DSN is the database the server runs on.
	DSN string
	// BootstrapKey is the operator key this server printed when it
	// started, "" when its store already had one.
	BootstrapKey string
	// Log holds everything the server logged, at debug level.
	Log *SyncBuffer
	// Stdout holds what the server wrote to its standard output: the
	// bootstrap key line, if it printed one.
	Stdout *SyncBuffer

	opts []func(*app.Config)
}

// startTimeout bounds how long a server may take to start or to stop.
const startTimeout = 30 * time.Second

// Start runs app.Run on dsn until t ends and fails t if it does not start
// or stops with an error. Logs go to Server.Log, standard output to
// Server.Stdout; PostgreSQL servers get the MasterKey of dsn. A server
// given TLSCert is called over HTTPS, trusting that certificate. opts run
// after these defaults and may change anything (replacing Stdout or
// setting a BootstrapKeyFile loses the bootstrap key). The server's Client
// uses the bootstrap key as its operator key.
func Start(t testing.TB, dsn string, opts ...func(*app.Config)) *Server {
	t.Helper()
	out, stdout := &SyncBuffer{}, &SyncBuffer{}
	cfg := app.Config{
		Addr: "127.0.0.1:0", DB: dsn, Stdout: stdout, MasterKey: MasterKey(dsn),
		Log: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	addrc := make(chan string, 1)
	onListen := cfg.OnListen
	cfg.OnListen = func(addr string) {
		if onListen != nil {
			onListen(addr)
		}
		addrc <- addr
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, cfg) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		cancel()
		t.Fatalf("apitest: server on %s did not start: %v\n%s", dsn, err, out)
	case <-time.After(startTimeout):
		cancel()
		t.Fatalf("apitest: server on %s did not start within %v\n%s", dsn, startTimeout, out)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("apitest: server stopped with error: %v\n%s", err, out)
			}
		case <-time.After(startTimeout):
			t.Errorf("apitest: server did not stop within %v\n%s", startTimeout, out)
		}
	})
	key := BootstrapKeyIn(stdout.String())
	c := NewClient(t, "http://"+addr, key)
	if cfg.TLSCert != "" {
		// The client trusts the certificate the server started with.
		c.URL = "https://" + addr
		c.HTTP = TLSClient(readCert(t, cfg.TLSCert))
	}
	return &Server{
		Client: c,
		DSN:    dsn, BootstrapKey: key, Log: out, Stdout: stdout,
		opts: slices.Clone(opts),
	}
}

// readCert reads the first certificate of a PEM file.
func readCert(t testing.TB, file string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Node starts another node of s's deployment until t ends: the same DSN,
// master key and options, then opts. Its Client uses s's operator key,
// since one key serves the whole deployment; its BootstrapKey is what it
// printed itself, "" as the store already had an operator. Each node's
// default issuer is its own http://ADDR; give nodes one Issuer for their
// tokens to be good on every node.
func (s *Server) Node(t testing.TB, opts ...func(*app.Config)) *Server {
	t.Helper()
	n := Start(t, s.DSN, append(slices.Clone(s.opts), opts...)...)
	n.Operator = s.Operator
	return n
}

// keyLine is the bootstrap key line, which the server prints on a line of
// its own so that it can be captured with grep.
var keyLine = regexp.MustCompile(`(?m)^KEYHUB_API_KEY=(\S+)$`)

// BootstrapKeyIn returns the operator key of the KEYHUB_API_KEY=<key> line
// in a server's standard output or bootstrap key file, "" when there is
// none.
func BootstrapKeyIn(out string) string {
	if m := keyLine.FindStringSubmatch(out); m != nil {
		return m[1]
	}
	return ""
}
