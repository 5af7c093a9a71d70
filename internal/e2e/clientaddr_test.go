package e2e

import (
	"net/netip"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// TestTrustedProxies: X-Forwarded-For names the client in audit entries and
// allow-lists only when the peer is a trusted proxy; from any other peer,
// and without --trusted-proxies, the header is ignored.
func TestTrustedProxies(t *testing.T) {
	trustLoopback1 := func(c *app.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }
	behind := apitest.Start(t, apitest.SQLite(t), trustLoopback1)
	plain := apitest.Start(t, apitest.SQLite(t))
	for _, tc := range []struct {
		name   string
		s      *apitest.Server
		from   string
		xff    string
		wantIP string
	}{
		{"TrustedPeer", behind, "127.0.0.1", "198.51.100.7", "198.51.100.7"},
		{"TrustedPeerChain", behind, "127.0.0.1", "10.9.9.9, 198.51.100.8, 127.0.0.1", "198.51.100.8"},
		{"UntrustedPeer", behind, "127.0.0.2", "198.51.100.9", "127.0.0.2"},
		{"NoTrustedProxies", plain, "127.0.0.1", "198.51.100.10", "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.s.From(t, tc.from)
			r := c.Must(201, "POST", "/v1/tenants", map[string]any{"name": "proxied-" + tc.name},
				append(apitest.Auth(c.Operator, ""), "X-Forwarded-For: "+tc.xff)...)
			tid := r.Object(t)["id"].(string)
			ev := c.Native(200, "GET", "/v1/audit-events?target_id="+tid, c.Operator, "", nil)["data"].([]any)
			if len(ev) == 0 {
				t.Fatal("no audit event for the tenant")
			}
			if ip := ev[0].(map[string]any)["ip"]; ip != tc.wantIP {
				t.Fatalf("audit ip = %v, want %s", ip, tc.wantIP)
			}
		})
	}

	// An allow-list sees the client behind the proxy, never the proxy.
	tid := behind.Tenant("allow", nil)
	_, key := behind.Key(tid, map[string]any{"name": "net", "scopes": []string{"read:roles"}, "ips": []string{"198.51.100.0/24"}})
	c := behind.From(t, "127.0.0.1")
	c.Must(200, "GET", "/v1/roles", nil, "Authorization: Bearer "+key, "X-Forwarded-For: 198.51.100.20")
	if r := c.Do("GET", "/v1/roles", nil, "Authorization: Bearer "+key, "X-Forwarded-For: 203.0.113.20"); r.Status == 200 {
		t.Fatalf("a key allowed from 198.51.100.0/24 answered for 203.0.113.20: %d", r.Status)
	}
	if r := behind.From(t, "127.0.0.2").Do("GET", "/v1/roles", nil, "Authorization: Bearer "+key, "X-Forwarded-For: 198.51.100.20"); r.Status == 200 {
		t.Fatalf("an untrusted peer's X-Forwarded-For passed the allow-list: %d", r.Status)
	}
}
