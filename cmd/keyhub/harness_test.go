package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
)

// binary is the keyhub executable TestMain builds for every test.
var binary string

// buildFlags are passed to `go build`; race_test.go adds -race so that a
// race-enabled test run also races the server.
var buildFlags []string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "keyhub-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "main_test:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "keyhub")
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", binary, ".")
	build := exec.Command("go", args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "main_test: go build:", err)
		return 1
	}
	return m.Run()
}

// cleanEnv is the test process's environment without any KEYHUB_ variable,
// so that a developer's own configuration never leaks into a test.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KEYHUB_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// result is how one run of the binary ended.
type result struct {
	stdout, stderr string
	code           int
}

// String describes the run for failure messages.
func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the binary to completion with args and the environment env
// (added to a clean one), with a generous timeout.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runIn(t, env, "", args...)
}

// runIn is run with stdin as the command's standard input.
func runIn(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	// A config file of the test's own, so that no profile of the machine's
	// user is ever used; env may name another.
	cmd.Env = cleanEnv(append([]string{"KEYHUB_CONFIG=" + filepath.Join(t.TempDir(), "config.json")}, env...)...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.Exited():
		r.code = exit.ExitCode()
	default:
		t.Fatalf("keyhub %s: %v\n%s", strings.Join(args, " "), err, r)
	}
	return r
}

// listening is in the log line the server writes once its listener is open,
// after it printed the bootstrap key line (if any) on stdout.
const listening = "keyhub listening"

// bootstrapped is in the log line the server writes when it has printed
// the bootstrap key on stdout (the line does not hold the key itself).
const bootstrapped = "created the bootstrap operator key; it is on standard output"

// server is a running `keyhub serve` process. Its apitest.Client talks
// HTTP to it; the client's Operator is the bootstrap key the process
// printed, "" when it printed none.
type server struct {
	*apitest.Client
	t      *testing.T
	cmd    *exec.Cmd
	Dir    string              // working directory
	stdout *apitest.SyncBuffer // the bootstrap key line, if printed
	stderr *apitest.SyncBuffer // the log
	done   chan struct{}       // closed when the process has exited
	err    error               // cmd.Wait's answer, once done is closed
}

// serveOpts configures startServer.
type serveOpts struct {
	dir string   // working directory; a new temporary one when ""
	db  string   // --db; none when "" (the default ./keyhub.db)
	env []string // extra environment
	// addrFromEnv passes the address as KEYHUB_ADDR instead of --addr.
	addrFromEnv bool
	// tls, when set, is served with --tls-cert and --tls-key, and the
	// client trusts its certificate.
	tls *tlsFiles
	// args are more arguments of serve.
	args []string
}

// tlsFiles are a certificate and its key, written by apitest.WriteCert.
type tlsFiles struct {
	cert, key string
	x509      *x509.Certificate
}

// newTLSFiles writes a certificate and its key into dir.
func newTLSFiles(t *testing.T, dir string) *tlsFiles {
	f := &tlsFiles{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key")}
	f.x509 = apitest.WriteCert(t, f.cert, f.key)
	return f
}

// startServer starts `keyhub serve` on a free port and waits until it
// answers /healthz. The process gets SIGTERM when the test ends and must
// exit with code 0.
func startServer(t *testing.T, o serveOpts) *server {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	var lastErr string
	for attempt := 0; attempt < 5; attempt++ {
		s, retry := tryStart(t, o, freePort(t))
		if s != nil {
			t.Cleanup(func() { s.stop(syscall.SIGTERM, 20*time.Second) })
			return s
		}
		lastErr = retry
	}
	t.Fatalf("keyhub serve did not start after 5 attempts:\n%s", lastErr)
	return nil
}

// tryStart starts the server on addr. It returns nil and the server's
// stderr when the address was taken in the meantime, and fails the test on
// any other error.
func tryStart(t *testing.T, o serveOpts, addr string) (*server, string) {
	t.Helper()
	args := []string{"serve"}
	env := append([]string{}, o.env...)
	if o.addrFromEnv {
		env = append(env, "KEYHUB_ADDR="+addr)
	} else {
		args = append(args, "--addr", addr)
	}
	if o.db != "" {
		args = append(args, "--db", o.db)
	}
	args = append(args, o.args...)
	s := &server{Client: apitest.NewClient(t, "http://"+addr, ""), t: t, Dir: o.dir,
		stdout: &apitest.SyncBuffer{}, stderr: &apitest.SyncBuffer{}, done: make(chan struct{})}
	if o.tls != nil {
		args = append(args, "--tls-cert", o.tls.cert, "--tls-key", o.tls.key)
		s.URL, s.HTTP = "https://"+addr, apitest.TLSClient(o.tls.x509)
	}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Dir = o.dir
	s.cmd.Env = cleanEnv(env...)
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting keyhub serve: %v", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			out := s.stderr.String()
			if strings.Contains(out, "address already in use") {
				return nil, out
			}
			t.Fatalf("keyhub serve exited early: %v\n%s", s.err, out)
		default:
		}
		if strings.Contains(s.stderr.String(), listening) && s.healthy() {
			break
		}
		if time.Now().After(deadline) {
			s.stop(syscall.SIGKILL, 5*time.Second)
			t.Fatalf("keyhub serve did not answer /healthz in time\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The key line and the log travel on two pipes: when the log tells of
	// a key printed, wait for the line to arrive.
	if strings.Contains(s.stderr.String(), bootstrapped) {
		for apitest.BootstrapKeyIn(s.stdout.String()) == "" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	s.Operator = apitest.BootstrapKeyIn(s.stdout.String())
	return s, ""
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// healthy reports whether the server answers /healthz with 200.
func (s *server) healthy() bool {
	c := s.For(s.t)
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: time.Second}
	}
	r, err := c.Send("GET", "/healthz", nil)
	return err == nil && r.Status == http.StatusOK
}

// signal sends sig to the server.
func (s *server) signal(sig os.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits up to timeout for the server to exit and returns its exit
// code; it fails the test when the process does not exit in time.
func (s *server) wait(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Fatalf("keyhub serve did not exit within %v\n%s", timeout, s.stderr)
	}
	return s.cmd.ProcessState.ExitCode()
}

// stop signals the server unless it has already exited, waits for it and
// reports a non-zero exit code (other than after SIGKILL).
func (s *server) stop(sig os.Signal, timeout time.Duration) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(sig)
	if code := s.wait(timeout); code != 0 && sig != syscall.SIGKILL {
		s.t.Errorf("keyhub serve exited with %d after %v\n%s", code, sig, s.stderr)
	}
}

// cliEnv is the environment of a client command talking to s with key,
// acting on tenant when it is not "".
func (s *server) cliEnv(key, tenant string) []string {
	env := []string{"KEYHUB_URL=" + s.URL, "KEYHUB_API_KEY=" + key}
	if tenant != "" {
		env = append(env, "KEYHUB_TENANT="+tenant)
	}
	return env
}
