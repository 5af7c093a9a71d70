package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// server is a running keyhub with its operator key and everything it wrote
// to its logs and stderr.
type server struct {
	t   *testing.T
	URL string
	Key string // operator key
	out *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var keyLine = regexp.MustCompile(`(?m)^KEYHUB_API_KEY=(\S+)$`)

// stores lists the databases every whole-program test runs on: a SQLite
// file always, PostgreSQL when KEYHUB_TEST_POSTGRES is set.
func stores(t *testing.T) map[string]func(t *testing.T) string {
	m := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "keyhub.db") },
	}
	if os.Getenv("KEYHUB_TEST_POSTGRES") != "" {
		m["postgres"] = func(t *testing.T) string { return pgtest.URL(t) }
	}
	return m
}

// eachStore runs f once per store.
func eachStore(t *testing.T, f func(t *testing.T, dsn string)) {
	for name, dsn := range stores(t) {
		t.Run(name, func(t *testing.T) { f(t, dsn(t)) })
	}
}

// masterKeys holds one master key per DSN, as an operator keeps one per
// deployment: PostgreSQL nodes must be given it.
var masterKeys sync.Map

func masterKeyFor(dsn string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	k, _ := masterKeys.LoadOrStore(dsn, base64.StdEncoding.EncodeToString(b[:]))
	return k.(string)
}

// start runs the server on dsn until the test ends.
func start(t *testing.T, dsn string, opts ...func(*app.Config)) *server {
	t.Helper()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	cfg := app.Config{
		Addr: "127.0.0.1:0", DB: dsn, Stderr: out,
		Log:      slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnListen: func(a string) { addrc <- a },
	}
	if strings.HasPrefix(dsn, "postgres") {
		cfg.MasterKey = masterKeyFor(dsn)
	}
	for _, o := range opts {
		o(&cfg)
	}
	go func() { done <- app.Run(ctx, cfg) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("server did not start: %v\n%s", err, out)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start in time\n%s", out)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	})
	s := &server{t: t, URL: "http://" + addr, out: out}
	if m := keyLine.FindStringSubmatch(out.String()); m != nil {
		s.Key = m[1]
	}
	return s
}

// resp is a decoded answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer is not a JSON object (%d): %s", r.Status, r.Body)
	}
	return m
}

// call sends a request with the given credential and optional tenant.
func (s *server) call(method, path, key, tenant string, body any) resp {
	s.t.Helper()
	return s.callWith(method, path, key, tenant, body, nil)
}

// callWith is call with extra headers.
func (s *server) callWith(method, path, key, tenant string, body any, headers map[string]string) resp {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if tenant != "" {
		req.Header.Set("Keyhub-Tenant", tenant)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// must answers the JSON object of a call that must have status want.
func (s *server) must(want int, method, path, key, tenant string, body any) map[string]any {
	s.t.Helper()
	r := s.call(method, path, key, tenant, body)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(s.t)
}

// tenant creates a tenant and returns its id.
func (s *server) tenant(name string) string {
	s.t.Helper()
	return s.must(201, "POST", "/v1/tenants", s.Key, "", map[string]any{"name": name})["id"].(string)
}

// key creates a key in tenant with the operator credential and returns the
// key object and its secret.
func (s *server) key(tenant string, body map[string]any) (map[string]any, string) {
	s.t.Helper()
	k := s.must(201, "POST", "/v1/api-keys", s.Key, tenant, body)
	return k, k["key"].(string)
}

// verify asks whether key is good for scopes from ip, as the operator.
func (s *server) verify(key string, scopes []string, ip string) map[string]any {
	s.t.Helper()
	body := map[string]any{"key": key}
	if scopes != nil {
		body["scopes"] = scopes
	}
	if ip != "" {
		body["ip"] = ip
	}
	return s.must(200, "POST", "/v1/keys/verify", s.Key, "", body)
}

// auditCount counts every audit event, as the operator sees them.
func (s *server) auditCount() int {
	s.t.Helper()
	n, cursor := 0, ""
	for {
		path := "/v1/audit-events?limit=200"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		m := s.must(200, "GET", path, s.Key, "", nil)
		n += len(m["data"].([]any))
		c, _ := m["next_cursor"].(string)
		if c == "" {
			return n
		}
		cursor = c
	}
}
