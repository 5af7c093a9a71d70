package main

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestIdempotencyAcrossRestart: the answer of a create made with an
// Idempotency-Key is kept in the store, so a retry after the server was
// restarted gets it again, secret included, and creates nothing.
func TestIdempotencyAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServer(t, serveOpts{dir: dir})
	op := s.Operator
	tid := s.Tenant("acme", nil)
	headers := append(apitest.Auth(op, tid), "Idempotency-Key: 5f0c6a43-retry-after-restart")
	first := s.Must(201, "POST", "/v1/api-keys", map[string]any{"name": "k"}, headers...)
	s.stop(syscall.SIGTERM, 20*time.Second)

	s = startServer(t, serveOpts{dir: dir})
	s.Operator = op
	again := s.Do("POST", "/v1/api-keys", map[string]any{"name": "k"}, headers...)
	if again.Status != 201 || !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry after a restart: %d %s, want the first answer %s", again.Status, again.Body, first.Body)
	}
	if n := len(s.Native(200, "GET", "/v1/api-keys", op, tid, nil)["data"].([]any)); n != 1 {
		t.Errorf("%d keys after the retry, want 1", n)
	}
}
