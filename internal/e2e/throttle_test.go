package e2e

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/secret"
)

// TestThrottleHurtsOnlyTheAttacker is the lock-out scenario of issue 9:
// an attacker at 127.0.0.2 guessing a public client id's secret, and
// sending random bearer keys, is throttled at its address; the client
// itself, at 127.0.0.1, is never refused. Behind a trusted proxy the same
// holds per X-Forwarded-For address; an untrusted peer's header changes
// nothing.
func TestThrottleHurtsOnlyTheAttacker(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	tid := s.Tenant("acme", nil)
	id, sec := s.OAuthClient(tid, map[string]any{"name": "bot", "scopes": []string{"a:read"}})
	grant := url.Values{"grant_type": {"client_credentials"}}
	attacker, client := s.From(t, "127.0.0.2"), s.From(t, "127.0.0.1")
	token := func(c *apitest.Client, secret string, headers ...string) int {
		t.Helper()
		h := append([]string{"Authorization: " + apitest.Basic(id, secret), "Content-Type: application/x-www-form-urlencoded"}, headers...)
		return c.Do("POST", "/oauth2/token", grant.Encode(), h...).Status
	}

	// Forty wrong secrets: the first ten are checked, the rest refused.
	refused := 0
	for range 40 {
		switch st := token(attacker, "wrong"); st {
		case 401:
		case 429:
			refused++
		default:
			t.Fatalf("wrong secret: status %d", st)
		}
	}
	if refused != 30 {
		t.Fatalf("%d of 40 wrong secrets refused unchecked, want 30", refused)
	}
	// The attacker's address stays throttled, even with the right secret
	// and a forged X-Forwarded-For (127.0.0.2 is no trusted proxy)...
	if st := token(attacker, sec, "X-Forwarded-For: 198.51.100.1"); st != 429 {
		t.Fatalf("attacker with the right secret: %d, want 429", st)
	}
	// ...while the client, elsewhere, gets its token, introspects and revokes.
	for range 3 {
		if st := token(client, sec); st != 200 {
			t.Fatalf("client at 127.0.0.1: %d, want 200", st)
		}
	}
	tok := s.Token(id, sec, nil)
	r := client.Form("/oauth2/introspect", url.Values{"token": {tok}}, id, sec)
	if r.Status != 200 || r.Object(t)["active"] != true {
		t.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	if r := client.Form("/oauth2/revoke", url.Values{"token": {tok}}, id, sec); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}

	// Behind the trusted proxy 127.0.0.1, each forwarded address counts on
	// its own.
	for range 15 {
		token(client, "wrong", "X-Forwarded-For: 198.51.100.66")
	}
	if st := token(client, sec, "X-Forwarded-For: 198.51.100.66"); st != 429 {
		t.Fatalf("forwarded attacker: %d, want 429", st)
	}
	if st := token(client, sec, "X-Forwarded-For: 198.51.100.77"); st != 200 {
		t.Fatalf("another forwarded client: %d, want 200", st)
	}

	// Random well-formed bearer keys: the address is throttled after 50
	// failures, and throttled attempts read nothing from the store.
	throttled := 0
	for range 60 {
		r := attacker.Do("GET", "/v1/tenants", nil, "Authorization: Bearer "+secret.NewKey("kh_live"))
		switch r.Status {
		case 401:
		case 429:
			throttled++
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("random bearer: %d", r.Status)
		}
	}
	if throttled != 10 {
		t.Fatalf("%d of 60 random bearers throttled, want 10", throttled)
	}
	misses := func() float64 {
		v, _ := value(scrape(t, s.Client), "keyhub_verify_cache_misses_total")
		return v
	}
	before := misses()
	for range 50 {
		attacker.Must(429, "GET", "/v1/tenants", nil, "Authorization: Bearer "+secret.NewKey("kh_live"))
	}
	// The compat surfaces share the throttle, a good key included.
	attacker.Must(429, "GET", "/v1/tenants", nil, apitest.Auth(s.Operator, "")...)
	attacker.Must(429, "GET", "/api/tenant/api-keys", nil, apitest.Auth(s.Operator, tid)...)
	attacker.Must(429, "GET", "/v1/hubs/current/api-keys", nil, append(apitest.Auth(s.Operator, ""), "X-Hub-Id: "+tid)...)
	if after := misses(); after != before {
		t.Fatalf("throttled bearers read the store: %v cache misses, was %v", after, before)
	}
	// The operator, at another address, is not held back.
	client.Must(200, "GET", "/v1/tenants", nil, apitest.Auth(s.Operator, "")...)

	// Refusals are summarised once per window, never logged one by one.
	if n := strings.Count(s.Log.String(), "throttled"); n > 2 {
		t.Fatalf("%d log lines about throttling, want at most one per window and kind", n)
	}
}
