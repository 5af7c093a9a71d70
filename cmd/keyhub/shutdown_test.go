package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
)

// The server stops on SIGTERM and on Ctrl-C (SIGINT) with exit code 0,
// finishing the requests it has begun. keyhub has no slow endpoint, so an
// in-flight request is made slow by the client: it sends half a request
// before the signal and the rest after it.

func TestShutdown(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			s := startServer(t, serveOpts{})
			tenant, secret := setupKey(t, s)
			body := fmt.Sprintf(`{"key":%q,"scopes":["payouts:read"]}`, secret)

			// An idle keep-alive connection must not hold the shutdown up.
			idle := dial(t, s)
			idleRes := idle.send(t, verifyRequest(s, tenant, body))
			if idleRes.StatusCode != 200 {
				t.Fatalf("verify on the keep-alive connection: %d", idleRes.StatusCode)
			}

			// A request whose body is only half sent when the signal comes.
			slow := dial(t, s)
			req := verifyRequest(s, tenant, body)
			cut := len(req) - len(body)/2
			slow.write(t, req[:cut])
			time.Sleep(200 * time.Millisecond) // let the server read the headers

			start := time.Now()
			s.signal(sig)
			waitClosed(t, s) // the server is shutting down: no new connections

			slow.write(t, req[cut:])
			res := slow.read(t)
			checkVerify(t, res, "the request in flight at the signal")

			idle.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := idle.r.ReadByte(); err == nil {
				t.Errorf("the idle keep-alive connection got data instead of being closed")
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("the idle keep-alive connection was not closed by the shutdown")
			}
			if code := s.wait(15 * time.Second); code != 0 {
				t.Fatalf("exit code %d after %v, want 0\n%s", code, sig, s.stderr)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("shutdown took %v", d)
			}
		})
	}
}

// TestShutdownUnderLoad sends SIGTERM while 50 clients verify keys as fast
// as they can: every answer any of them got must be a well-formed one, and
// the process must exit 0.
func TestShutdownUnderLoad(t *testing.T) {
	t.Parallel()
	s := startServer(t, serveOpts{})
	tenant, secret := setupKey(t, s)
	body := fmt.Sprintf(`{"key":%q,"scopes":["payouts:read"]}`, secret)

	const clients = 50
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		answered int
		bad      []string
		started  = make(chan struct{}, clients)
	)
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := s.For(t)
	c.HTTP = &http.Client{Transport: tr, Timeout: 20 * time.Second}
	auth := apitest.Auth(s.Operator, tenant)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if i == 1 {
					started <- struct{}{}
				}
				// Send never fails the test, which this goroutine must not;
				// it returns the status with an error when only the body
				// was cut short, which is a bad answer, not a refused one.
				r, err := c.Send("POST", "/v1/keys/verify", body, auth...)
				if err != nil && r.Status == 0 {
					if i == 0 {
						started <- struct{}{}
					}
					return // the server has stopped accepting: fine
				}
				mu.Lock()
				answered++
				if msg := verifyProblem(r.Status, r.Body, err); msg != "" {
					bad = append(bad, msg)
				}
				mu.Unlock()
			}
		}()
	}
	for range clients {
		<-started // every client has had an answer and sent its next request
	}
	time.Sleep(100 * time.Millisecond) // and the load is steady
	s.signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("clients still running 30s after SIGTERM")
	}
	if code := s.wait(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, s.stderr)
	}
	if answered < clients {
		t.Errorf("only %d answers from %d clients", answered, clients)
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d answers were not well-formed, first: %s", len(bad), answered, bad[0])
	}
	t.Logf("%d answers before the server stopped", answered)
}

// setupKey creates a tenant and a key with scope payouts:read through the
// CLI and returns the tenant id and the key's secret.
func setupKey(t *testing.T, s *server) (tenant, secret string) {
	t.Helper()
	tenant = field(t, mustRun(t, s.cliEnv(s.Operator, ""), "tenants", "create", "acme").stdout, "id")
	r := mustRun(t, s.cliEnv(s.Operator, tenant), "keys", "create", "--name", "svc", "--scope", "payouts:read")
	return tenant, field(t, r.stdout, "key")
}

// verifyRequest is a raw HTTP/1.1 keep-alive request to verify body.
func verifyRequest(s *server, tenant, body string) []byte {
	host := strings.TrimPrefix(s.URL, "http://")
	return []byte(fmt.Sprintf("POST /v1/keys/verify HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Keyhub-Tenant: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		host, s.Operator, tenant, len(body), body))
}

// checkVerify fails the test unless res is a successful, well-formed
// verification answer.
func checkVerify(t *testing.T, res *http.Response, what string) {
	t.Helper()
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if msg := verifyProblem(res.StatusCode, raw, err); msg != "" {
		t.Fatalf("%s: %s", what, msg)
	}
}

// verifyProblem says what is wrong with a verification answer, "" when
// nothing is: status 200, a complete JSON body, and a valid key.
func verifyProblem(status int, raw []byte, readErr error) string {
	if readErr != nil {
		return fmt.Sprintf("status %d, body cut short: %v", status, readErr)
	}
	var v struct {
		Valid bool   `json:"valid"`
		Code  string `json:"code"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Sprintf("status %d, body not JSON (%v): %q", status, err, raw)
	}
	if status != 200 || !v.Valid || v.Code != "VALID" {
		return fmt.Sprintf("status %d: %s", status, bytes.TrimSpace(raw))
	}
	return ""
}

// conn is a raw client connection to the server.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, s *server) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &conn{c: c, r: bufio.NewReader(c)}
}

func (c *conn) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := c.c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (c *conn) read(t *testing.T) *http.Response {
	t.Helper()
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return res
}

// send writes req and reads the whole answer, leaving the connection open.
func (c *conn) send(t *testing.T, req []byte) *http.Response {
	t.Helper()
	c.write(t, req)
	res := c.read(t)
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	res.Body = io.NopCloser(bytes.NewReader(raw))
	return res
}

// waitClosed waits until the server refuses new connections, which it does
// as soon as it begins to shut down.
func waitClosed(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "http://"), time.Second)
		if err != nil {
			return
		}
		c.Close()
		select {
		case <-s.done:
			t.Fatalf("the server exited before the in-flight request completed: %v\n%s", s.err, s.stderr)
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the server still accepts connections 10s after the signal\n%s", s.stderr)
}
