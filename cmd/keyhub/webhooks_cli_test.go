package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWebhooksCLI(t *testing.T) {
	t.Parallel()
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer recv.Close()
	s := startServer(t, serveOpts{env: []string{"KEYHUB_WEBHOOK_ALLOW_PRIVATE=true"}})
	op := s.cliEnv(s.Operator, "")
	tenant := field(t, mustRun(t, op, "tenants", "create", "acme").stdout, "id")
	env := s.cliEnv(s.Operator, tenant)
	r := mustRun(t, env, "webhooks", "create", "--endpoint", recv.URL, "--event", "api_key.*")
	id := field(t, r.stdout, "id")
	if !strings.HasPrefix(id, "whk_") || !strings.Contains(r.stdout, "signing secret: whsec_") {
		t.Fatalf("webhooks create:\n%s", r)
	}
	if r := mustRun(t, env, "webhooks", "get", id); strings.Contains(r.stdout, "whsec_") {
		t.Fatalf("get shows the secret:\n%s", r)
	}
	mustRun(t, env, "keys", "create", "--name", "k")
	var rows []map[string]string
	for range 100 {
		_, rows = table(t, mustRun(t, env, "webhooks", "deliveries", id).stdout)
		if len(rows) == 1 && rows[0]["STATE"] == "succeeded" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(rows) != 1 || rows[0]["EVENT"] != "api_key.created" || rows[0]["STATE"] != "succeeded" || rows[0]["STATUS"] != "204" {
		t.Fatalf("deliveries: %v", rows)
	}
	mustRun(t, env, "webhooks", "retry", id, rows[0]["ID"])
	if r := run(t, env, "webhooks", "create", "--endpoint", recv.URL, "--event", "nothing.real"); r.code != 1 || !strings.Contains(r.stderr, "events[0]") {
		t.Fatalf("a bad event type: %s", r)
	}
	if r := mustRun(t, env, "webhooks", "update", id, "--disable"); field(t, r.stdout, "enabled") != "false" {
		t.Fatalf("update --disable:\n%s", r)
	}
	mustRun(t, env, "webhooks", "delete", id)
}
