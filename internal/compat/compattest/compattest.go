// Package compattest starts a real keyhub server with a compat surface
// mounted beside the native API, on a SQLite file of the test's own, and
// offers the calls the surfaces' tests share.
package compattest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// MountFunc is a surface's Mount.
type MountFunc = compat.MountFunc

// Server is a running keyhub with a compat surface.
type Server struct {
	t   *testing.T
	URL string
	// Operator is the bootstrap operator key.
	Operator string
	Core     *app.Core
	// Log holds everything the server logged.
	Log *SyncBuffer
}

// Start serves the native API and mount's routes until the test ends.
func Start(t *testing.T, mount MountFunc) *Server {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	logBuf := &SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	core := app.NewCore(st, app.CoreConfig{Log: log})
	t.Cleanup(core.Close)
	key, err := core.Manage.BootstrapOperator(ctx)
	if err != nil || key == "" {
		t.Fatalf("bootstrap operator: %q, %v", key, err)
	}
	api := httpapi.New(core.Services(), log)
	mount(api.Mux(), compat.Deps{Caller: api.Caller, Keys: core.Manage, Roles: core.Manage, Now: core.Manage.Now, Log: log})
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	return &Server{t: t, URL: ts.URL, Operator: key, Core: core, Log: logBuf}
}

// SyncBuffer is a buffer safe for concurrent writes.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Resp is an answer.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// Object decodes the body as a JSON object.
func (r Resp) Object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %s", r.Status, r.Body)
	}
	return m
}

// Array decodes the body as a JSON array.
func (r Resp) Array(t *testing.T) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("answer %d is not a JSON array: %s", r.Status, r.Body)
	}
	return a
}

// Do sends a request. body is sent as is when a string or []byte, else
// marshalled; headers are "Name: value" lines.
func (s *Server) Do(method, path string, body any, headers ...string) Resp {
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
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
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
	return Resp{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// Must sends a request that must answer want.
func (s *Server) Must(want int, method, path string, body any, headers ...string) Resp {
	s.t.Helper()
	r := s.Do(method, path, body, headers...)
	if r.Status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Native calls the native API with key, acting on tenant when not "".
func (s *Server) Native(want int, method, path, key, tenant string, body any) map[string]any {
	s.t.Helper()
	h := []string{"Authorization: Bearer " + key}
	if tenant != "" {
		h = append(h, "Keyhub-Tenant: "+tenant)
	}
	return s.Must(want, method, path, body, h...).Object(s.t)
}

// Tenant creates a tenant (with key prefixes when not nil) and returns its id.
func (s *Server) Tenant(name string, prefixes map[string]string) string {
	s.t.Helper()
	body := map[string]any{"name": name}
	if prefixes != nil {
		body["key_prefixes"] = prefixes
	}
	return s.Native(201, "POST", "/v1/tenants", s.Operator, "", body)["id"].(string)
}

// Key creates a key of tenant as the operator and returns it and its secret.
func (s *Server) Key(tenant string, body map[string]any) (map[string]any, string) {
	s.t.Helper()
	k := s.Native(201, "POST", "/v1/api-keys", s.Operator, tenant, body)
	return k, k["key"].(string)
}

// Role creates a role of tenant as the operator and returns its id.
func (s *Server) Role(tenant, name string, scopes ...string) string {
	s.t.Helper()
	return s.Native(201, "POST", "/v1/roles", s.Operator, tenant, map[string]any{"name": name, "scopes": scopes})["id"].(string)
}

// Verify verifies key as the operator.
func (s *Server) Verify(key string) map[string]any {
	s.t.Helper()
	return s.Native(200, "POST", "/v1/keys/verify", s.Operator, "", map[string]any{"key": key})
}

// TypeOf names the JSON type of a decoded value.
func TypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// Shape checks that obj has exactly the members of want, each of one of
// the JSON types want names ("string", "string|null", …).
func Shape(t *testing.T, what string, obj map[string]any, want map[string]string) {
	t.Helper()
	for k, v := range obj {
		types, ok := want[k]
		if !ok {
			t.Errorf("%s: unexpected member %q", what, k)
			continue
		}
		if !slices.Contains(strings.Split(types, "|"), TypeOf(v)) {
			t.Errorf("%s: %s is %s (%v), want %s", what, k, TypeOf(v), v, types)
		}
	}
	for k := range want {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s: missing member %q", what, k)
		}
	}
}

// BigBody is a JSON object over the 1 MiB body limit.
func BigBody() string {
	return `{"name":"` + strings.Repeat("a", httpapi.MaxBodySize+10) + `"}`
}
