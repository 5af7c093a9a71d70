package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub/internal/apitest"
)

// idemKey returns a fresh Idempotency-Key header line.
func idemKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "Idempotency-Key: " + hex.EncodeToString(b[:])
}

// createCall is one creating POST of one surface.
type createCall struct {
	name, path  string
	body, other any // two different requests
	headers     []string
}

// createCalls are every POST that creates something, native and compat,
// with the headers of a credential that may make it.
func createCalls(t *testing.T, s *apitest.Server) []createCall {
	t.Helper()
	tid := s.Tenant("acme", nil)
	role := s.Role(tid, "r", "payouts:write")
	k, _ := s.Key(tid, map[string]any{"name": "to rotate"})
	cid, _ := s.OAuthClient(tid, map[string]any{"name": "to rotate", "scopes": []string{"read:api_keys"}})
	_, mgmt := s.Key(tid, map[string]any{"name": "mgmt", "scopes": []string{"read:api_keys", "create:api_keys",
		"read:roles", "payouts:write"}})
	op, ten, m := apitest.Auth(s.Operator, ""), apitest.Auth(s.Operator, tid), apitest.Auth(mgmt, "")
	return []createCall{
		{"native tenant", "/v1/tenants", map[string]any{"name": "t"}, map[string]any{"name": "u"}, op},
		{"native scope", "/v1/scopes", map[string]any{"name": "payouts:write"}, map[string]any{"name": "labs:write"}, op},
		{"native key", "/v1/api-keys", map[string]any{"name": "k"}, map[string]any{"name": "l"}, ten},
		{"native key rotation", "/v1/api-keys/" + k["id"].(string) + "/rotate", map[string]any{}, map[string]any{"grace_period": "1h"}, ten},
		{"native role", "/v1/roles", map[string]any{"name": "r2"}, map[string]any{"name": "r3"}, ten},
		{"native client", "/v1/clients", map[string]any{"name": "c"}, map[string]any{"name": "d"}, ten},
		{"native client secret rotation", "/v1/clients/" + cid + "/rotate-secret", map[string]any{}, map[string]any{"grace_period": "1h"}, ten},
		{"native signing key rotation", "/v1/signing-keys/rotate", nil, map[string]any{"x": 1}, op},
		{"yaxi key", "/api/api-keys", map[string]any{"name": "y", "environment": "Production"},
			map[string]any{"name": "y", "environment": "Sandbox"}, m},
		{"cycle key", "/v1/hubs/current/api-keys", map[string]any{"name": "c", "role_id": role},
			map[string]any{"name": "c2", "role_id": role}, append([]string{"X-Hub-Id: " + tid}, m...)},
		{"yativo key", "/api/business/api-keys", map[string]any{"name": "v", "permissions": []string{"payouts:write"}},
			map[string]any{"name": "w", "permissions": []string{"payouts:write"}}, m},
	}
}

// TestIdempotentCreates sends every creating POST of every surface twice
// with one Idempotency-Key, the second time to another node: the first
// answer comes back byte for byte, secret included, marked replayed, and
// nothing more is created or audited; the same key with another request is
// refused with 422 and changes nothing.
func TestIdempotentCreates(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		n := s.Node(t)
		for _, c := range createCalls(t, s) {
			t.Run(c.name, func(t *testing.T) {
				key := idemKey()
				first := s.For(t).Do("POST", c.path, c.body, append([]string{key}, c.headers...)...)
				if first.Status != 200 && first.Status != 201 {
					t.Fatalf("first request: %d %s", first.Status, first.Body)
				}
				if first.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("the first answer is marked replayed")
				}
				events := auditCount(t, s.Client)
				again := n.For(t).Do("POST", c.path, c.body, append([]string{key}, c.headers...)...)
				if again.Status != first.Status || !bytes.Equal(again.Body, first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("the retry on the other node answered %d %s (replayed %q), want the first answer %d %s",
						again.Status, again.Body, again.Header.Get("Idempotent-Replayed"), first.Status, first.Body)
				}
				if again.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
					t.Errorf("replayed Content-Type %q, first %q", again.Header.Get("Content-Type"), first.Header.Get("Content-Type"))
				}
				other := s.For(t).Do("POST", c.path, c.other, append([]string{key}, c.headers...)...)
				if other.Status != 422 || !strings.Contains(string(other.Body), "Idempotency-Key") {
					t.Errorf("the same key with another request: %d %s, want 422 naming Idempotency-Key", other.Status, other.Body)
				}
				if got := auditCount(t, s.Client); got != events {
					t.Errorf("the retries were audited: %d events, before %d", got, events)
				}
				// Without the key, a request runs each time (a second rotation
				// runs into the first: 409 key_rotated).
				fresh := s.For(t).Do("POST", c.path, c.body, c.headers...)
				if fresh.Header.Get("Idempotent-Replayed") != "" || bytes.Equal(fresh.Body, first.Body) {
					t.Errorf("a request without the key was answered from the first: %d %s", fresh.Status, fresh.Body)
				}
			})
		}
	})
}

// TestIdempotencyKeyBelongsToItsCredential: another credential sending the
// same key and body makes its own key; an operator naming another tenant
// with the same key is refused; a malformed key is a 400 naming the header
// on every surface, with nothing created.
func TestIdempotencyKeyBelongsToItsCredential(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid, other := s.Tenant("acme", nil), s.Tenant("other", nil)
		_, a := s.Key(tid, map[string]any{"name": "a", "scopes": []string{"create:api_keys"}})
		_, b := s.Key(tid, map[string]any{"name": "b", "scopes": []string{"create:api_keys"}})
		key := idemKey()
		body := map[string]any{"name": "made"}
		first := s.Do("POST", "/v1/api-keys", body, append(apitest.Auth(a, ""), key)...)
		mine := s.Do("POST", "/v1/api-keys", body, append(apitest.Auth(b, ""), key)...)
		if first.Status != 201 || mine.Status != 201 || mine.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("two credentials, one key: %d %s / %d %s", first.Status, first.Body, mine.Status, mine.Body)
		}
		if first.Object(t)["id"] == mine.Object(t)["id"] || first.Object(t)["key"] == mine.Object(t)["key"] {
			t.Fatalf("the second credential was answered the first's key")
		}

		opKey := idemKey()
		s.Must(201, "POST", "/v1/api-keys", body, append(apitest.Auth(s.Operator, tid), opKey)...)
		r := s.Do("POST", "/v1/api-keys", body, append(apitest.Auth(s.Operator, other), opKey)...)
		if r.Status != 422 || !strings.Contains(string(r.Body), "idempotency_key_reused") {
			t.Errorf("the same key for another tenant: %d %s, want 422 idempotency_key_reused", r.Status, r.Body)
		}

		before := auditCount(t, s.Client)
		bad := []string{"Idempotency-Key: " + strings.Repeat("k", 256), "Idempotency-Key: has space", "Idempotency-Key: caf\u00e9"}
		for _, h := range bad {
			for _, call := range []struct{ path, want string }{
				{"/v1/api-keys", `"field":"Idempotency-Key"`},
				{"/api/api-keys", "Idempotency-Key"},
				{"/api/business/api-keys", "Idempotency-Key"},
			} {
				r := s.Do("POST", call.path, map[string]any{"name": "x", "permissions": []string{}}, append(apitest.Auth(a, ""), h)...)
				if r.Status != 400 || !strings.Contains(string(r.Body), call.want) {
					t.Errorf("POST %s with %q: %d %s, want 400 naming the header", call.path, h, r.Status, r.Body)
				}
			}
		}
		if got := auditCount(t, s.Client); got != before {
			t.Errorf("a malformed key created something: %d events, before %d", got, before)
		}
	})
}

// TestConcurrentDuplicateIsConflict holds the first of two identical
// requests on two nodes inside its change (the test locks the key row the
// rotation needs): the duplicate answers 409 idempotency_key_in_use while
// the first runs, and once the first is answered a retry replays it.
func TestConcurrentDuplicateIsConflict(t *testing.T) {
	dsn := apitest.Postgres(t)
	s := apitest.Start(t, dsn)
	n := s.Node(t)
	tid := s.Tenant("acme", nil)
	k, _ := s.Key(tid, map[string]any{"name": "to rotate"})
	id := k["id"].(string)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	lock, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "SELECT 1 FROM api_keys WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	key := idemKey()
	headers := append(apitest.Auth(s.Operator, tid), key)
	answers := make(chan apitest.Resp, 2)
	for _, node := range []*apitest.Server{s, n} {
		go func() {
			r, err := node.Send("POST", "/v1/api-keys/"+id+"/rotate", map[string]any{}, headers...)
			if err != nil {
				r = apitest.Resp{Body: []byte(err.Error())}
			}
			answers <- r
		}()
	}
	var conflict apitest.Resp
	select {
	case conflict = <-answers:
	case <-time.After(20 * time.Second):
		t.Fatal("neither request was answered while the first was held")
	}
	if conflict.Status != 409 || !strings.Contains(string(conflict.Body), "idempotency_key_in_use") {
		t.Fatalf("the duplicate while the first runs: %d %s, want 409 idempotency_key_in_use", conflict.Status, conflict.Body)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var first apitest.Resp
	select {
	case first = <-answers:
	case <-time.After(20 * time.Second):
		t.Fatal("the held request was not answered after the lock went")
	}
	if first.Status != 201 {
		t.Fatalf("the held request: %d %s", first.Status, first.Body)
	}
	again := n.Do("POST", "/v1/api-keys/"+id+"/rotate", map[string]any{}, headers...)
	if again.Status != 201 || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("the retry after the answer: %d %s, want the first answer", again.Status, again.Body)
	}
}
