package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// hookReceiver is a webhook endpoint checking every delivery as a Standard
// Webhooks receiver does, and counting deliveries by webhook-id.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret []byte
	byID   map[string]int
	types  map[string]string
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t, byID: map[string]int{}, types: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id, ts, sig := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
		r.mu.Lock()
		defer r.mu.Unlock()
		m := hmac.New(sha256.New, r.secret)
		m.Write([]byte(id + "." + ts + "." + string(body)))
		var p struct {
			Type      string          `json:"type"`
			Timestamp time.Time       `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if sig != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) || json.Unmarshal(body, &p) != nil || p.Type == "" {
			r.bad++
			w.WriteHeader(400)
			return
		}
		r.byID[id]++
		r.types[id] = p.Type
		w.WriteHeader(200)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) setSecret(whsec string) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.secret = b
	r.mu.Unlock()
}

// waitFor waits (bounded) until the receiver holds n events.
func (r *hookReceiver) waitFor(n int) {
	r.t.Helper()
	for range 300 {
		r.mu.Lock()
		got := len(r.byID)
		r.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("received %d events, want %d", len(r.byID), n)
}

func allowPrivateHooks(c *app.Config) { c.WebhookAllowPrivate = true }

func TestWebhooks(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn, allowPrivateHooks)
		tid := s.Tenant("acme", nil)
		r := newHookReceiver(t)
		hook := s.Native(201, "POST", "/v1/webhooks", s.Operator, tid, map[string]any{"url": r.srv.URL + "/hooks", "events": []string{"api_key.*", "role.created"}})
		secret, _ := hook["signing_secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("create: %v", hook)
		}
		r.setSecret(secret)
		id := hook["id"].(string)
		if got := s.Native(200, "GET", "/v1/webhooks/"+id, s.Operator, tid, nil); got["signing_secret"] != nil {
			t.Fatalf("the secret is shown again: %v", got)
		}
		k, _ := s.Key(tid, map[string]any{"name": "k"})
		kid := k["id"].(string)
		s.Native(201, "POST", "/v1/api-keys/"+kid+"/rotate", s.Operator, tid, map[string]any{})
		s.Native(200, "DELETE", "/v1/api-keys/"+kid, s.Operator, tid, nil)
		s.Role(tid, "r")
		s.OAuthClient(tid, map[string]any{"name": "not taken"})
		r.waitFor(5) // created, rotated, created (the new key), revoked, role.created
		time.Sleep(300 * time.Millisecond)
		r.mu.Lock()
		counts := fmt.Sprint(r.byID)
		var types []string
		for _, typ := range r.types {
			types = append(types, typ)
		}
		r.mu.Unlock()
		if len(r.byID) != 5 || r.bad != 0 || strings.Contains(counts, ":2") {
			t.Fatalf("received %v (types %v), %d badly signed", counts, types, r.bad)
		}
		for _, want := range []string{"api_key.created", "api_key.rotated", "api_key.revoked", "role.created"} {
			if !strings.Contains(strings.Join(types, ","), want) {
				t.Errorf("no %s among %v", want, types)
			}
		}
		ds := s.Native(200, "GET", "/v1/webhooks/"+id+"/deliveries", s.Operator, tid, nil)["data"].([]any)
		if len(ds) != 5 {
			t.Fatalf("deliveries: %v", ds)
		}
		d := ds[0].(map[string]any)
		if d["state"] != "succeeded" || d["last_status"] != float64(200) {
			t.Fatalf("delivery %v", d)
		}
		// A retry sends the same event again, under the same webhook-id.
		s.Native(200, "POST", "/v1/webhooks/"+id+"/deliveries/"+d["id"].(string)+"/retry", s.Operator, tid, nil)
		for range 100 {
			r.mu.Lock()
			n := r.byID[d["event_id"].(string)]
			r.mu.Unlock()
			if n == 2 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if r.byID[d["event_id"].(string)] != 2 {
			t.Fatal("a retried delivery was not sent again")
		}
		// The audit log tells of webhooks; no secret is in it.
		if a := s.Do("GET", "/v1/audit-events?target_id="+id, nil, apitest.Auth(s.Operator, tid)...); strings.Contains(string(a.Body), secret[6:]) {
			t.Fatal("the audit log holds the signing secret")
		}
		// Another tenant sees nothing of it.
		other := s.Tenant("other", nil)
		s.Must(404, "GET", "/v1/webhooks/"+id, nil, apitest.Auth(s.Operator, other)...)
		s.Must(404, "GET", "/v1/webhooks/"+id+"/deliveries", nil, apitest.Auth(s.Operator, other)...)
	})
}

// TestWebhooksOncePerEndpointAcrossNodes: two nodes deliver the outbox of
// one database; every event reaches each endpoint once.
func TestWebhooksOncePerEndpointAcrossNodes(t *testing.T) {
	dsn := apitest.Postgres(t) // skips without KEYHUB_TEST_POSTGRES; CI sets it
	a := apitest.Start(t, dsn, allowPrivateHooks)
	a.Node(t)
	tid := a.Tenant("acme", nil)
	r1, r2 := newHookReceiver(t), newHookReceiver(t)
	for _, r := range []*hookReceiver{r1, r2} {
		h := a.Native(201, "POST", "/v1/webhooks", a.Operator, tid, map[string]any{"url": r.srv.URL, "events": []string{"*"}})
		r.setSecret(h["signing_secret"].(string))
	}
	const n = 40
	for i := range n {
		a.Key(tid, map[string]any{"name": fmt.Sprintf("k%d", i)})
	}
	r1.waitFor(n)
	r2.waitFor(n)
	time.Sleep(2 * time.Second) // time for a duplicate to show
	for _, r := range []*hookReceiver{r1, r2} {
		r.mu.Lock()
		for id, c := range r.byID {
			if c != 1 {
				t.Errorf("%s delivered %d times", id, c)
			}
		}
		if len(r.byID) != n {
			t.Errorf("%d events, want %d", len(r.byID), n)
		}
		r.mu.Unlock()
	}
}
