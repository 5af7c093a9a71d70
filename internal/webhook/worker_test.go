package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/webhook"
)

// receiver is a webhook endpoint that checks signatures as a receiver
// following the Standard Webhooks specification would.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret []byte
	mu     sync.Mutex
	got    []webhook.Payload
	ids    []string
	// fail answers 500 to the first fail requests.
	fail atomic.Int64
	hits atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if r.fail.Add(-1) >= 0 {
			w.WriteHeader(500)
			return
		}
		body, _ := io.ReadAll(req.Body)
		id, ts, sig := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
		m := hmac.New(sha256.New, r.secret)
		m.Write([]byte(id + "." + ts + "." + string(body)))
		if want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
			t.Errorf("signature %q, want %q", sig, want)
			w.WriteHeader(400)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		r.mu.Lock()
		r.got, r.ids = append(r.got, p), append(r.ids, id)
		r.mu.Unlock()
		w.WriteHeader(204)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setSecret(whsec string) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.secret = b
}

type env struct {
	core *apitest.Core
	w    *webhook.Worker
}

func newEnv(t *testing.T, allowPrivate bool) *env {
	c := apitest.NewCore(t, apitest.CoreOptions{})
	return &env{core: c, w: webhook.New(webhook.Config{Store: c.Store, Master: make([]byte, 32), Now: c.Clock.Now,
		AllowPrivate: allowPrivate, Timeout: 2 * time.Second})}
}

// hook makes a webhook to url for events, allowing private addresses in the
// service so that the test's loopback receiver can be named.
func (e *env) hook(t *testing.T, url string, events ...string) (*keyhub.Webhook, string) {
	t.Helper()
	svc := service.New(e.core.Store, service.WithClock(e.core.Clock.Now), service.WithMasterKey(make([]byte, 32)),
		service.WithWebhookAllowPrivate(true))
	w, sec, err := svc.CreateWebhook(context.Background(), e.core.Op, service.WebhookCreate{URL: url, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return w, sec
}

func (e *env) deliveries(t *testing.T, hookID string) []*keyhub.Delivery {
	t.Helper()
	p, err := e.core.Manage.ListDeliveries(context.Background(), e.core.Op, hookID, service.PageRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func TestDeliversSignedEventsOnce(t *testing.T) {
	e := newEnv(t, true)
	r := newReceiver(t)
	hook, sec := e.hook(t, r.srv.URL, "api_key.*")
	r.setSecret(sec)
	ctx := context.Background()
	k, _, err := e.core.Manage.CreateKey(ctx, e.core.Op, service.KeyCreate{Name: "k", Scopes: []string{"a:b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.Manage.RevokeKey(ctx, e.core.Op, k.ID); err != nil {
		t.Fatal(err)
	}
	// A role change is not what the webhook takes.
	if _, err := e.core.Manage.CreateRole(ctx, e.core.Op, service.RoleCreate{Name: "r"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := e.w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Deliveries run concurrently: Standard Webhooks promises no order.
	byType := map[string]webhook.Payload{}
	for _, p := range r.got {
		byType[p.Type] = p
	}
	if len(r.got) != 2 || len(byType) != 2 || byType["api_key.created"].Type == "" || byType["api_key.revoked"].Type == "" {
		t.Fatalf("received %d events: %v", len(r.got), byType)
	}
	var data map[string]any
	if err := json.Unmarshal(byType["api_key.revoked"].Data, &data); err != nil || data["id"] != k.ID || data["state"] != "revoked" {
		t.Fatalf("data %s: %v", byType["api_key.revoked"].Data, err)
	}
	if strings.Contains(string(byType["api_key.created"].Data), "hash") {
		t.Fatalf("data holds the key's digest: %s", byType["api_key.created"].Data)
	}
	if r.ids[0] == r.ids[1] {
		t.Fatal("two events share a webhook-id")
	}
	for _, d := range e.deliveries(t, hook.ID) {
		if d.State != keyhub.DeliverySucceeded || d.Attempts != 1 || d.LastStatus != 204 {
			t.Errorf("delivery %+v", d)
		}
	}
}

func TestRetriesWithBackoffThenFails(t *testing.T) {
	e := newEnv(t, true)
	r := newReceiver(t)
	hook, sec := e.hook(t, r.srv.URL, "*")
	r.setSecret(sec)
	r.fail.Store(2)
	ctx := context.Background()
	if _, _, err := e.core.Manage.CreateKey(ctx, e.core.Op, service.KeyCreate{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) {
		t.Helper()
		e.core.Clock.Add(d)
		if _, err := e.w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step(0)
	d := e.deliveries(t, hook.ID)[0]
	if d.State != keyhub.DeliveryPending || d.Attempts != 1 || d.LastStatus != 500 {
		t.Fatalf("after a failure: %+v", d)
	}
	step(4 * time.Second) // before the pause of 5s ends: not tried
	if n := r.hits.Load(); n != 1 {
		t.Fatalf("tried %d times before the pause ended", n)
	}
	step(time.Second)
	step(30 * time.Second)
	if d := e.deliveries(t, hook.ID)[0]; d.State != keyhub.DeliverySucceeded || d.Attempts != 3 || len(r.got) != 1 {
		t.Fatalf("after two failures and a success: %+v, %d received", d, len(r.got))
	}

	// An endpoint that never answers 2xx fails after about a day.
	r.fail.Store(1 << 30)
	if _, _, err := e.core.Manage.CreateKey(ctx, e.core.Op, service.KeyCreate{Name: "k2"}); err != nil {
		t.Fatal(err)
	}
	for range 12 {
		step(8*time.Hour + time.Second)
	}
	ds := e.deliveries(t, hook.ID)
	if ds[0].State != keyhub.DeliveryFailed || ds[0].Attempts != 11 {
		t.Fatalf("after a day of failures: %+v", ds[0])
	}
	// Retrying starts it over.
	if _, err := e.core.Manage.RetryDelivery(ctx, e.core.Op, hook.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	r.fail.Store(0)
	step(0)
	if d := e.deliveries(t, hook.ID)[0]; d.State != keyhub.DeliverySucceeded || d.Attempts != 1 {
		t.Fatalf("after a retry: %+v", d)
	}
}

// TestRefusesAddressesThatAreNotPublic: with private addresses refused,
// the worker does not connect to loopback, private, link-local or metadata
// addresses, whatever the URL says; redirects are not followed.
func TestRefusesAddressesThatAreNotPublic(t *testing.T) {
	e := newEnv(t, false)
	r := newReceiver(t)
	ctx := context.Background()
	// localhost names the receiver by a name: refused after DNS.
	urls := []string{r.srv.URL, "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3:9/", "http://[::1]:9/",
		"http://localhost:" + r.srv.URL[strings.LastIndex(r.srv.URL, ":")+1:] + "/"}
	var hooks []*keyhub.Webhook
	for _, u := range urls {
		h, _ := e.hook(t, u, "*")
		hooks = append(hooks, h)
	}
	if _, _, err := e.core.Manage.CreateKey(ctx, e.core.Op, service.KeyCreate{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.hits.Load(); n != 0 {
		t.Fatalf("the loopback receiver was reached %d times", n)
	}
	for i, h := range hooks {
		d := e.deliveries(t, h.ID)[0]
		if d.State != keyhub.DeliveryPending || !strings.Contains(d.LastError, "not public") {
			t.Errorf("%s: %+v", urls[i], d)
		}
	}

	// The service refuses literal private addresses at once.
	for _, u := range []string{"http://127.0.0.1:8080/", "https://169.254.169.254/", "http://localhost/", "http://[fe80::1]/", "ftp://x.example/"} {
		_, _, err := e.core.Manage.CreateWebhook(ctx, e.core.Op, service.WebhookCreate{URL: u, Events: []string{"*"}})
		if !keyhub.IsKind(err, keyhub.KindInvalid) {
			t.Errorf("create with %s: %v", u, err)
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	e := newEnv(t, true)
	r := newReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(r.srv.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	h, _ := e.hook(t, redirect.URL, "*")
	ctx := context.Background()
	if _, _, err := e.core.Manage.CreateKey(ctx, e.core.Op, service.KeyCreate{Name: "k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if r.hits.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	if d := e.deliveries(t, h.ID)[0]; d.LastStatus != 307 || d.State != keyhub.DeliveryPending {
		t.Fatalf("delivery %+v", d)
	}
}
