package apitest

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

func TestStores(t *testing.T) {
	names := func() string {
		var n []string
		for _, s := range Stores() {
			n = append(n, s.Name)
		}
		return strings.Join(n, ",")
	}
	t.Setenv(pgtest.EnvVar, "")
	if got := names(); got != "sqlite" {
		t.Errorf("without %s: %s", pgtest.EnvVar, got)
	}
	t.Setenv(pgtest.EnvVar, "postgres://nowhere.invalid/postgres")
	if got := names(); got != "sqlite,postgres" {
		t.Errorf("with %s: %s", pgtest.EnvVar, got)
	}
	a, b := SQLite(t), SQLite(t)
	if a == b || !strings.HasPrefix(a, "sqlite:") || !strings.HasSuffix(a, "/keyhub.db") {
		t.Errorf("SQLite DSNs %q and %q", a, b)
	}
}

func TestMasterKey(t *testing.T) {
	if k := MasterKey("sqlite:/tmp/x.db"); k != "" {
		t.Errorf("SQLite got master key %q", k)
	}
	a, b := MasterKey("postgres://h/db_a"), MasterKey("postgresql://h/db_b")
	if raw, err := base64.StdEncoding.DecodeString(a); err != nil || len(raw) != 32 {
		t.Errorf("master key %q: %d bytes, %v", a, len(raw), err)
	}
	if a == b || MasterKey("postgres://h/db_a") != a {
		t.Errorf("master keys are not one per DSN: %q %q", a, b)
	}
}

func TestBootstrapKeyIn(t *testing.T) {
	for in, want := range map[string]string{
		"\nKEYHUB_API_KEY=kh_op_abc\n\nThis operator key…": "kh_op_abc",
		"time=… msg=x KEYHUB_API_KEY=kh_op_abc\n":          "",
		"nothing\n": "",
	} {
		if got := BootstrapKeyIn(in); got != want {
			t.Errorf("BootstrapKeyIn(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStart runs the server on each store, calls it, and starts a second
// node of the same deployment beside it.
func TestStart(t *testing.T) {
	EachStore(t, func(t *testing.T, dsn string) {
		var listened string
		s := Start(t, dsn, func(c *app.Config) { c.OnListen = func(a string) { listened = a } })
		if !strings.HasPrefix(s.BootstrapKey, "kh_") || s.Operator != s.BootstrapKey || s.DSN != dsn {
			t.Fatalf("server %+v", s)
		}
		if s.URL != "http://"+listened || !strings.HasPrefix(listened, "127.0.0.1:") {
			t.Errorf("URL %s, OnListen %q", s.URL, listened)
		}
		tid := s.Tenant("acme", map[string]string{"live": "acme_live"})
		k, secret := s.Key(tid, map[string]any{"name": "k", "scopes": []string{"a:read"}})
		if !strings.HasPrefix(secret, "acme_live_") || k["tenant_id"] != tid {
			t.Errorf("key %v", k)
		}
		rid := s.Role(tid, "r", "a:read")
		s.Key(tid, map[string]any{"name": "member", "role_id": rid})
		if v := s.Verify(secret, []string{"a:read"}, ""); v["code"] != "VALID" {
			t.Errorf("verify %v", v)
		}
		id, csecret := s.OAuthClient(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})
		tok := s.Token(id, csecret, nil)
		if n := len(s.Native(200, "GET", "/v1/api-keys", tok, "", nil)["data"].([]any)); n != 2 {
			t.Errorf("the token sees %d keys, want 2", n)
		}
		// The bootstrap line is on standard output, never in the log.
		if !strings.Contains(s.Log.String(), `msg="keyhub listening"`) || !strings.Contains(s.Stdout.String(), "\nKEYHUB_API_KEY="+s.BootstrapKey+"\n") {
			t.Errorf("log lacks the listening line or stdout the bootstrap line:\n%s\n--- stdout:\n%s", s.Log, s.Stdout)
		}
		if strings.Contains(s.Log.String(), s.BootstrapKey) {
			t.Errorf("the bootstrap key is in the log:\n%s", s.Log)
		}

		// Tokens name their issuer, http://ADDR by default: nodes behind
		// one address share it.
		n := s.Node(t, func(c *app.Config) { c.Issuer = s.URL })
		if n.URL == s.URL || n.BootstrapKey != "" || n.Operator != s.Operator || strings.Contains(n.Stdout.String(), "KEYHUB_API_KEY=") {
			t.Fatalf("second node %+v printed a key or lacks the operator's:\n%s", n, n.Log)
		}
		if got := n.Native(200, "GET", "/v1/tenants/"+tid, n.Operator, "", nil); got["name"] != "acme" {
			t.Errorf("second node sees tenant %v", got)
		}
		// The node signs with the deployment's signing key, which the
		// shared master key decrypts: its token is good on the first node.
		if n := len(s.Native(200, "GET", "/v1/api-keys", n.Token(id, csecret, nil), "", nil)["data"].([]any)); n != 2 {
			t.Errorf("the second node's token sees %d keys on the first, want 2", n)
		}
	})
}
