package e2e

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestMalformedInput walks every endpoint with bad input and checks the
// status, the problem document and that nothing changed.
func TestMalformedInput(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid := s.Tenant("acme", nil)
		k, _ := s.Key(tid, map[string]any{"name": "k"})
		kid := k["id"].(string)
		rid := s.Role(tid, "r")
		big := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
		cases := []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"TenantUnknownField", "POST", "/v1/tenants", `{"name":"a","nope":1}`, 400, "unknown_field", "nope"},
			{"TenantWrongType", "POST", "/v1/tenants", `{"name":5}`, 400, "invalid_type", "name"},
			{"TenantNoName", "POST", "/v1/tenants", `{}`, 422, "validation_failed", "name"},
			{"TenantBadPrefix", "POST", "/v1/tenants", `{"name":"a","key_prefixes":{"live":"Bad-Prefix"}}`, 422, "validation_failed", "key_prefixes.live"},
			{"TenantNotJSON", "POST", "/v1/tenants", `{"name":`, 400, "malformed_json", ""},
			{"TenantEmptyBody", "POST", "/v1/tenants", ``, 400, "body_required", ""},
			{"TenantTrailing", "POST", "/v1/tenants", `{"name":"a"} {}`, 400, "malformed_json", ""},
			{"TenantTooLarge", "POST", "/v1/tenants", big, 413, "body_too_large", ""},
			{"TenantBadID", "GET", "/v1/tenants/nope", ``, 404, "not_found", ""},
			{"TenantPatchBadName", "PATCH", "/v1/tenants/" + tid, `{"name":""}`, 422, "validation_failed", "name"},
			{"TenantListBadLimit", "GET", "/v1/tenants?limit=0", ``, 400, "invalid_query", "limit"},
			{"TenantListBadCursor", "GET", "/v1/tenants?cursor=!!!", ``, 400, "invalid_query", "cursor"},
			{"TenantListBadQuery", "GET", "/v1/tenants?cursor=%zz", ``, 400, "invalid_query", "query"},
			{"ScopeBad", "POST", "/v1/scopes", `{"name":"a::b"}`, 422, "validation_failed", "name"},
			{"ScopeUnknown", "DELETE", "/v1/scopes/nope", ``, 404, "not_found", ""},
			{"KeyNoName", "POST", "/v1/api-keys", `{"scopes":["a::b"],"ips":["300.1.1.1"],"expires_at":"tomorrow","meta":[1]}`, 422, "validation_failed", "name,scopes[0],ips[0],expires_at,meta"},
			{"KeyPastExpiry", "POST", "/v1/api-keys", `{"name":"a","expires_at":"2001-01-01T00:00:00Z"}`, 422, "validation_failed", "expires_at"},
			{"KeyUnknownEnv", "POST", "/v1/api-keys", `{"name":"a","environment":"prod"}`, 422, "validation_failed", "environment"},
			{"KeyUnknownRole", "POST", "/v1/api-keys", `{"name":"a","role_id":"role_01J00000000000000000000000"}`, 422, "validation_failed", "role_id"},
			{"KeyBadRoleID", "POST", "/v1/api-keys", `{"name":"a","role_id":"x"}`, 422, "validation_failed", "role_id"},
			{"KeyScopesNotArray", "POST", "/v1/api-keys", `{"name":"a","scopes":"a:b"}`, 400, "invalid_type", "scopes"},
			{"KeyBigMeta", "POST", "/v1/api-keys", `{"name":"a","meta":{"x":"` + strings.Repeat("y", 9000) + `"}}`, 422, "validation_failed", "meta"},
			{"KeyBadID", "GET", "/v1/api-keys/bogus", ``, 404, "not_found", ""},
			{"KeyPatchBadIP", "PATCH", "/v1/api-keys/" + kid, `{"ips":["10.0.0.0/33"]}`, 422, "validation_failed", "ips[0]"},
			{"KeyPatchEnabledNull", "PATCH", "/v1/api-keys/" + kid, `{"enabled":null}`, 422, "validation_failed", "enabled"},
			{"KeyPatchUnknown", "PATCH", "/v1/api-keys/" + kid, `{"secret":"x"}`, 400, "unknown_field", "secret"},
			{"KeyListBadState", "GET", "/v1/api-keys?state=zombie", ``, 400, "invalid_query", "state"},
			{"KeyListBadCursor", "GET", "/v1/api-keys?cursor=dGVuXzAx", ``, 400, "invalid_query", "cursor"},
			{"KeyListBadRole", "GET", "/v1/api-keys?role_id=x", ``, 400, "invalid_query", "role_id"},
			{"KeyRevokeBadID", "DELETE", "/v1/api-keys/key_x", ``, 404, "not_found", ""},
			{"RoleNoName", "POST", "/v1/roles", `{"scopes":[""]}`, 422, "validation_failed", "name,scopes[0]"},
			{"RolePatchWrongType", "PATCH", "/v1/roles/" + rid, `{"scopes":{}}`, 400, "invalid_type", "scopes"},
			{"RoleBadID", "DELETE", "/v1/roles/role_x", ``, 404, "not_found", ""},
			{"AuditBadTime", "GET", "/v1/audit-events?from=yesterday", ``, 400, "invalid_query", "from"},
			{"VerifyNoKey", "POST", "/v1/keys/verify", `{"scopes":["a::"],"ip":"nope"}`, 422, "validation_failed", "key,scopes[0],ip"},
			{"VerifyUnknownField", "POST", "/v1/keys/verify", `{"key":"x","tenant":"y"}`, 400, "unknown_field", "tenant"},
			{"RotateBadGrace", "POST", "/v1/api-keys/" + kid + "/rotate", `{"grace_period":"forever"}`, 422, "validation_failed", "grace_period"},
			{"RotateUnknownField", "POST", "/v1/api-keys/" + kid + "/rotate", `{"grace":"1h"}`, 400, "unknown_field", "grace"},
			{"UsageBadTime", "GET", "/v1/api-keys/" + kid + "/usage?from=monday", ``, 400, "invalid_query", "from"},
			{"UsageBackwards", "GET", "/v1/api-keys/" + kid + "/usage?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", ``, 422, "validation_failed", "from"},
			{"KeyBadRateLimit", "POST", "/v1/api-keys", `{"name":"a","ratelimit":{"limit":0,"duration":"1ms"}}`, 422, "validation_failed", "ratelimit.limit,ratelimit.duration"},
			{"KeyBadCredits", "POST", "/v1/api-keys", `{"name":"a","credits":{"remaining":-1,"refill":{"amount":0,"interval":"weekly"}}}`, 422, "validation_failed", "credits.remaining,credits.refill.amount,credits.refill.interval"},
			{"KeyBadLowThreshold", "POST", "/v1/api-keys", `{"name":"a","credits":{"remaining":5,"low_threshold":-1}}`, 422, "validation_failed", "credits.low_threshold"},
			{"KeyPatchCreditsNoBalance", "PATCH", "/v1/api-keys/" + kid, `{"credits":{"add":5}}`, 422, "validation_failed", "credits.remaining"},
			{"VerifyNegativeCost", "POST", "/v1/keys/verify", `{"key":"kh_live_x","cost":-1}`, 422, "validation_failed", "cost"},
			{"RevokeBySecretMalformed", "POST", "/v1/keys/revoke", `{"key":"nope"}`, 422, "validation_failed", "key"},
			{"ClientNoName", "POST", "/v1/clients", `{"scopes":["a::"],"audiences":[""],"token_ttl":"1s"}`, 422, "validation_failed", "name,scopes[0],audiences[0],token_ttl"},
			{"ClientWrongType", "POST", "/v1/clients", `{"name":"c","audiences":"hub:api"}`, 400, "invalid_type", "audiences"},
			{"ClientBadID", "GET", "/v1/clients/cli_nope", ``, 404, "not_found", ""},
			{"ClientRotateBadGrace", "POST", "/v1/clients/cli_01J00000000000000000000000/rotate-secret", `{"grace_period":"x"}`, 422, "validation_failed", "grace_period"},
			// Text PostgreSQL cannot store is refused by field on both stores.
			{"TenantNameNUL", "POST", "/v1/tenants", `{"name":"a\u0000b"}`, 422, "validation_failed", "name"},
			{"KeyNameNUL", "POST", "/v1/api-keys", `{"name":"a\u0000"}`, 422, "validation_failed", "name"},
			{"KeyMetaNUL", "POST", "/v1/api-keys", `{"name":"a","meta":{"x":"\u0000"}}`, 422, "validation_failed", "meta"},
			{"KeyMetaLoneSurrogate", "POST", "/v1/api-keys", `{"name":"a","meta":{"x":"\ud800"}}`, 422, "validation_failed", "meta"},
			{"KeyMetaHugeNumber", "POST", "/v1/api-keys", `{"name":"a","meta":{"x":1e1000000}}`, 422, "validation_failed", "meta"},
			{"KeyPatchMetaNUL", "PATCH", "/v1/api-keys/" + kid, `{"meta":{"\u0000":1}}`, 422, "validation_failed", "meta"},
			{"RoleDescriptionNUL", "POST", "/v1/roles", `{"name":"r","description":"\u0000"}`, 422, "validation_failed", "description"},
			{"ClientAudienceNUL", "POST", "/v1/clients", `{"name":"c","audiences":["a\u0000"]}`, 422, "validation_failed", "audiences[0]"},
			{"ScopeDescriptionNUL", "POST", "/v1/scopes", `{"name":"a:b","description":"\u0000"}`, 422, "validation_failed", "description"},
			{"NoSuchRoute", "GET", "/v1/nothing", ``, 404, "not_found", ""},
			{"WrongMethod", "PUT", "/v1/tenants", `{}`, 405, "method_not_allowed", ""},
		}
		before := auditCount(t, s.Client)
		var scenarios []apitest.Scenario
		for _, c := range cases {
			headers := map[string]string{"Authorization": "Bearer " + s.Operator}
			if !strings.HasPrefix(c.path, "/v1/tenants") && !strings.HasPrefix(c.path, "/v1/scopes") {
				headers["Keyhub-Tenant"] = tid
			}
			scenarios = append(scenarios, apitest.Scenario{Name: c.name, Method: c.method, URL: c.path,
				Headers: headers, Body: c.body, Status: c.status,
				Check: func(t *testing.T, r apitest.Resp) {
					if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Fatalf("Content-Type %q", ct)
					}
					p := r.Object(t)
					if p["code"] != c.code || p["status"] != float64(c.status) || p["type"] == "" || p["title"] == "" {
						t.Fatalf("problem %v, want code %s", p, c.code)
					}
					if c.field == "" {
						return
					}
					var fields []string
					for _, e := range p["errors"].([]any) {
						fields = append(fields, e.(map[string]any)["field"].(string))
					}
					sort.Strings(fields)
					want := strings.Split(c.field, ",")
					sort.Strings(want)
					if !slices.Equal(fields, want) {
						t.Fatalf("fields %v, want %s", fields, c.field)
					}
				}})
		}
		s.Run(t, scenarios)
		if after := auditCount(t, s.Client); after != before {
			t.Fatalf("bad input changed the store: %d audit events before, %d after", before, after)
		}
		if got := s.Native(200, "GET", "/v1/api-keys/"+kid, s.Operator, tid, nil); got["name"] != "k" || len(got["ips"].([]any)) != 0 {
			t.Fatalf("key changed: %v", got)
		}
	})
}

func TestUnauthenticated(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	var scenarios []apitest.Scenario
	for _, c := range []struct{ name, key, code string }{{"NoKey", "", "unauthenticated"}, {"UnknownKey", "kh_live_nonsense", "invalid_token"}} {
		sc := apitest.Scenario{Name: c.name, Method: "GET", URL: "/v1/tenants", Status: 401,
			Check: func(t *testing.T, r apitest.Resp) {
				if r.Object(t)["code"] != c.code || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%q: %d %s %v", c.key, r.Status, r.Body, r.Header)
				}
			}}
		if c.key != "" {
			sc.Headers = map[string]string{"Authorization": "Bearer " + c.key}
		}
		scenarios = append(scenarios, sc)
	}
	s.Run(t, scenarios)
}
