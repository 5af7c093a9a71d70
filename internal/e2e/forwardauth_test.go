package e2e

import (
	"encoding/base64"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/client"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/forwardauth"
)

// fwdKeys are the credentials the forward-auth tests ask about.
type fwdKeys struct {
	tenant                           string
	verifier, narrowVerifier, other  string
	good, goodID, revoked, limited   string
	credits, fenced, token, operator string
}

func plantForward(t *testing.T, s *apitest.Server) fwdKeys {
	t.Helper()
	k := fwdKeys{operator: s.Operator}
	k.tenant = s.Tenant("acme", nil)
	_, k.verifier = s.Key(k.tenant, map[string]any{"name": "proxy", "scopes": []string{"verify:api_keys"}})
	_, k.narrowVerifier = s.Key(k.tenant, map[string]any{"name": "reader", "scopes": []string{"read:api_keys"}})
	g, good := s.Key(k.tenant, map[string]any{"name": "backend", "scopes": []string{"payouts:write", "payouts:read"},
		"meta": map[string]any{"plan": "pro"}})
	k.good, k.goodID = good, g["id"].(string)
	r, revoked := s.Key(k.tenant, map[string]any{"name": "old", "scopes": []string{"payouts:write"}})
	s.Native(200, "DELETE", "/v1/api-keys/"+r["id"].(string), s.Operator, k.tenant, nil)
	k.revoked = revoked
	_, k.limited = s.Key(k.tenant, map[string]any{"name": "limited", "scopes": []string{"payouts:write"},
		"ratelimit": map[string]any{"limit": 1, "duration": "1h"}})
	_, k.credits = s.Key(k.tenant, map[string]any{"name": "prepaid", "scopes": []string{"payouts:write"},
		"credits": map[string]any{"remaining": 1}})
	_, k.fenced = s.Key(k.tenant, map[string]any{"name": "fenced", "scopes": []string{"payouts:write"}, "ips": []string{"10.0.0.0/8"}})
	cid, csec := s.OAuthClient(k.tenant, map[string]any{"name": "bot", "scopes": []string{"payouts:write"}})
	k.token = s.Token(cid, csec, nil)
	other := s.Tenant("globex", nil)
	_, k.other = s.Key(other, map[string]any{"name": "theirs", "scopes": []string{"payouts:write"}})
	return k
}

// fwdCase is one request a proxy forwards and what forward auth answers.
type fwdCase struct {
	name      string
	headers   []string
	status    int
	challenge string
}

func runForward(t *testing.T, s *apitest.Server, path string, cases []fwdCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do("GET", path, nil, c.headers...)
			if r.Status != c.status || r.Header.Get("WWW-Authenticate") != c.challenge {
				t.Fatalf("%d WWW-Authenticate %q, want %d %q: %s", r.Status, r.Header.Get("WWW-Authenticate"), c.status, c.challenge, r.Body)
			}
			if r.Status == 429 && r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if r.Status != 200 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("refusal Content-Type %q", r.Header.Get("Content-Type"))
			}
		})
	}
}

const invalidToken = `Bearer error="invalid_token"`

// TestForwardAuthQueryScopes is forward auth as nginx, Caddy and Traefik
// call it: a fixed URL with ?scope=, the original request in headers.
func TestForwardAuthQueryScopes(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	k := plantForward(t, s)
	v := "Keyhub-Verifier: " + k.verifier
	path := "/forward-auth?scope=payouts:write"

	r := s.Must(200, "GET", path, nil, v, "X-Api-Key: "+k.good, "X-Forwarded-Uri: /payouts/1", "X-Forwarded-Method: POST")
	want := map[string]string{client.HeaderKeyID: k.goodID, client.HeaderTenantID: k.tenant,
		client.HeaderScopes: "payouts:write payouts:read", client.HeaderEnvironment: "live",
		client.HeaderMeta: base64.RawURLEncoding.EncodeToString([]byte(`{"plan":"pro"}`))}
	for h, w := range want {
		if got := r.Header.Get(h); got != w {
			t.Errorf("%s %q, want %q", h, got, w)
		}
	}

	runForward(t, s, path, []fwdCase{
		{"bearer", []string{v, "Authorization: Bearer " + k.good}, 200, ""},
		{"no credential", []string{v}, 401, invalidToken},
		{"garbage", []string{v, "X-Api-Key: kh_live_garbage"}, 401, invalidToken},
		{"not a key at all", []string{v, "Authorization: Bearer !!"}, 401, invalidToken},
		{"revoked", []string{v, "X-Api-Key: " + k.revoked}, 401, invalidToken},
		{"another tenant's key", []string{v, "X-Api-Key: " + k.other}, 401, invalidToken},
		{"operator key", []string{v, "X-Api-Key: " + k.operator}, 401, invalidToken},
		{"fenced from the client's address", []string{v, "X-Api-Key: " + k.fenced, "X-Real-IP: 192.0.2.7"}, 403, ""},
		{"fenced, allowed address", []string{v, "X-Api-Key: " + k.fenced, "X-Forwarded-For: 203.0.113.1, 10.1.2.3"}, 200, ""},
		{"access token", []string{v, "Authorization: Bearer " + k.token}, 200, ""},
		{"no verifier", []string{"X-Api-Key: " + k.good}, 403, ""},
		{"verifier without verify:api_keys", []string{"Keyhub-Verifier: " + k.narrowVerifier, "X-Api-Key: " + k.good}, 403, ""},
		{"bad verifier", []string{"Keyhub-Verifier: kh_live_nope", "X-Api-Key: " + k.good}, 403, ""},
	})
	runForward(t, s, "/forward-auth?scope=refunds:write", []fwdCase{
		{"missing scope", []string{v, "X-Api-Key: " + k.good}, 403, `Bearer error="insufficient_scope", scope="refunds:write"`},
		{"token missing scope", []string{v, "Authorization: Bearer " + k.token}, 403, `Bearer error="insufficient_scope", scope="refunds:write"`},
	})
	if r := s.Do("GET", "/forward-auth?scope=a::b", nil, v, "X-Api-Key: "+k.good); r.Status != 422 && r.Status != 400 {
		t.Errorf("bad ?scope=: %d %s", r.Status, r.Body)
	}

	// The rate limit and the credits are spent as verify spends them.
	r = s.Must(200, "GET", path, nil, v, "X-Api-Key: "+k.limited)
	if r.Header.Get(client.HeaderRateLimitLimit) != "1" || r.Header.Get(client.HeaderRateLimitRemaining) != "0" || r.Header.Get(client.HeaderRateLimitReset) == "" {
		t.Errorf("rate-limit headers %v", r.Header)
	}
	runForward(t, s, path, []fwdCase{
		{"rate limited", []string{v, "X-Api-Key: " + k.limited}, 429, ""},
		{"credits: the one", []string{v, "X-Api-Key: " + k.credits}, 200, ""},
		{"credits: spent", []string{v, "X-Api-Key: " + k.credits}, 429, ""},
	})
	if got := s.Verify(k.credits, nil, "")["code"]; got != "USAGE_EXCEEDED" {
		t.Errorf("after forward auth spent the credit, verify says %v", got)
	}
	if got := s.Verify(k.limited, nil, "")["code"]; got != "RATE_LIMITED" {
		t.Errorf("after forward auth took the quota, verify says %v", got)
	}
}

// TestForwardAuthRoutes replays Envoy's ext_authz (the original method,
// and the original path appended to the auth URL) and Traefik's
// forwardAuth (a fixed URL, X-Forwarded-Method and -Uri) against
// deploy/forward-auth/routes.yaml.
func TestForwardAuthRoutes(t *testing.T) {
	table, err := forwardauth.Load(filepath.Join("..", "..", "deploy", "forward-auth", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.ForwardAuthRoutes = table })
	k := plantForward(t, s)
	v := "Keyhub-Verifier: " + k.verifier
	type call struct {
		name, method, path string
		headers            []string
		status             int
	}
	good := "Authorization: Bearer " + k.good
	traefik := func(method, uri string) []string {
		return []string{v, good, "X-Forwarded-Method: " + method, "X-Forwarded-Uri: " + uri, "X-Forwarded-Proto: https", "X-Forwarded-Host: api.example.com"}
	}
	for _, c := range []call{
		{"envoy POST payouts", "POST", "/forward-auth/payouts/7/approve?x=1", []string{v, good}, 200},
		{"envoy GET payout", "GET", "/forward-auth/payouts/7", []string{v, good}, 200},
		{"envoy refunds", "POST", "/forward-auth/refunds/7", []string{v, good}, 403},
		{"envoy unmatched", "GET", "/forward-auth/admin", []string{v, good}, 403},
		{"envoy dot dot", "GET", "/forward-auth/health/../admin", []string{v, good}, 403},
		{"envoy health, no scope", "GET", "/forward-auth/health", []string{v, good}, 200},
		{"envoy health, no key", "GET", "/forward-auth/health", []string{v}, 401},
		{"envoy revoked", "POST", "/forward-auth/payouts/7", []string{v, "Authorization: Bearer " + k.revoked}, 401},
		{"envoy ignores X-Forwarded-Uri", "GET", "/forward-auth/admin", append([]string{v, good}, "X-Forwarded-Uri: /health"), 403},
		{"traefik POST payouts", "GET", "/forward-auth", traefik("POST", "/payouts/7"), 200},
		{"traefik refunds", "GET", "/forward-auth", traefik("PUT", "/refunds/1"), 403},
		{"traefik unmatched", "GET", "/forward-auth", traefik("GET", "/admin"), 403},
		{"traefik encoded slash", "GET", "/forward-auth", traefik("GET", "/payouts%2F7"), 403},
		{"nginx original headers", "GET", "/forward-auth", []string{v, good, "X-Original-Method: GET", "X-Original-URI: /payouts/7?a=b"}, 200},
		{"no URI with a table", "GET", "/forward-auth", []string{v, good}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do(c.method, c.path, nil, c.headers...)
			if r.Status != c.status {
				t.Fatalf("%d, want %d: %s", r.Status, c.status, r.Body)
			}
		})
	}
}

// TestForwardAuthTrustedProxy is forward auth asked by a trusted proxy
// (--trusted-proxies): no verifier credential, any tenant's keys, and the
// client's address from the proxy's X-Forwarded-For.
func TestForwardAuthTrustedProxy(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	k := plantForward(t, s)
	runForward(t, s, "/forward-auth?scope=payouts:write", []fwdCase{
		{"good", []string{"X-Api-Key: " + k.good}, 200, ""},
		{"another tenant's key", []string{"X-Api-Key: " + k.other}, 200, ""},
		{"operator key", []string{"X-Api-Key: " + k.operator}, 401, invalidToken},
		{"fenced, client outside", []string{"X-Api-Key: " + k.fenced, "X-Forwarded-For: 192.0.2.7"}, 403, ""},
		{"fenced, client inside", []string{"X-Api-Key: " + k.fenced, "X-Forwarded-For: 10.1.2.3"}, 200, ""},
		// A trusted proxy's X-Real-IP is not how clientaddr reads it: the
		// peer itself is the client then, outside the allow-list.
		{"fenced, X-Real-IP only", []string{"X-Api-Key: " + k.fenced, "X-Real-IP: 10.1.2.3"}, 403, ""},
		{"verifier narrows to its tenant", []string{"Keyhub-Verifier: " + k.verifier, "X-Api-Key: " + k.other}, 401, invalidToken},
	})
}
