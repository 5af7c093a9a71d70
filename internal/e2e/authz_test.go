package e2e

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/oauth"
)

// narrowScopes are every management scope of keys, roles and clients, and
// one platform scope; coverScopes add what the planted objects hold.
var (
	narrowScopes = []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys",
		"read:roles", "manage:roles", "read:clients", "manage:clients", "read:audit",
		"read:members", "manage:members", "manage:portal", "labs:read"}
	coverScopes = append(append([]string(nil), narrowScopes...), "payouts:*")
)

// targets are the objects one cell of the matrix acts on, made afresh by
// the operator: "wide" ones hold payouts:write, which narrow credentials do
// not; "covered" ones only what they do.
type targets struct {
	tenant                       string
	wideKey, expiredKey, covered string
	wideSecret                   string
	wideRole, coveredRole        string
	wideClient                   string
	wideMember, coveredMember    string
	wideEmail                    string
	scopeName                    string
}

func plant(s *apitest.Client, tid string) targets {
	t := targets{tenant: tid}
	k, sec := s.Key(tid, map[string]any{"name": "wide", "scopes": []string{"payouts:write"}, "ips": []string{"10.0.0.0/8"}})
	t.wideKey, t.wideSecret = k["id"].(string), sec
	k, _ = s.Key(tid, map[string]any{"name": "soon", "scopes": []string{"payouts:write"},
		"expires_at": time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)})
	t.expiredKey = k["id"].(string)
	k, _ = s.Key(tid, map[string]any{"name": "covered", "scopes": []string{"labs:read"}})
	t.covered = k["id"].(string)
	t.wideRole = s.Native(201, "POST", "/v1/roles", s.Operator, tid, map[string]any{"name": "payouts", "scopes": []string{"payouts:write"}})["id"].(string)
	t.coveredRole = s.Native(201, "POST", "/v1/roles", s.Operator, tid, map[string]any{"name": "lab", "scopes": []string{"labs:read"}})["id"].(string)
	t.wideClient, _ = s.OAuthClient(tid, map[string]any{"name": "payouts-bot", "scopes": []string{"payouts:write"}})
	m := s.Native(201, "POST", "/v1/members", s.Operator, tid, map[string]any{"email": "wide-" + k["id"].(string)[4:] + "@acme.test", "scopes": []string{"payouts:write"}})
	t.wideMember, t.wideEmail = m["id"].(string), m["email"].(string)
	t.coveredMember = s.Native(201, "POST", "/v1/members", s.Operator, tid, map[string]any{"email": "lab-" + k["id"].(string)[4:] + "@acme.test", "scopes": []string{"labs:read"}})["id"].(string)
	return t
}

// storeState is everything a refused call must leave as it was. Keys'
// last_used_at is left out: the usage batch writes it in the background.
func storeState(t *testing.T, s *apitest.Client, tid string) string {
	var b strings.Builder
	for _, path := range []string{"/v1/api-keys?limit=200", "/v1/roles?limit=200", "/v1/clients?limit=200", "/v1/members?limit=200"} {
		data := s.Native(200, "GET", path, s.Operator, tid, nil)["data"].([]any)
		for _, o := range data {
			delete(o.(map[string]any), "last_used_at")
			delete(o.(map[string]any), "state") // derived from the clock
		}
		raw, _ := json.Marshal(data)
		b.Write(raw)
	}
	raw, _ := json.Marshal(s.Native(200, "GET", "/v1/tenants?limit=200", s.Operator, "", nil)["data"])
	b.Write(raw)
	raw, _ = json.Marshal(s.Native(200, "GET", "/v1/scopes", s.Operator, "", nil)["data"])
	b.Write(raw)
	b.WriteString(" audit events: " + itoaE(auditCount(t, s)))
	return b.String()
}

func itoaE(n int) string { raw, _ := json.Marshal(n); return string(raw) }

// matrixRow is one mutating endpoint: how to call it on fresh targets with
// a bearer credential, and whether a narrow credential may (it only takes
// power away, or grants nothing) or, for operator endpoints, who covers it.
type matrixRow struct {
	surface, name string
	call          func(s *apitest.Client, t targets, bearer string) apitest.Resp
	// narrowMay: the change only takes power away or grants nothing.
	narrowMay bool
	// operator: the endpoint is the operator's; the covering credential is
	// the operator key and every tenant credential is refused.
	operator bool
}

func with(method, path string, body any) func(s *apitest.Client, t targets, bearer string) apitest.Resp {
	return func(s *apitest.Client, t targets, bearer string) apitest.Resp {
		return s.Do(method, expand(path, t), expandBody(body, t), apitest.Auth(bearer, "")...)
	}
}

// cycleCall is a Cycle request: the hub named by X-Hub-Id.
func cycleCall(method, path string, body any) func(s *apitest.Client, t targets, bearer string) apitest.Resp {
	return func(s *apitest.Client, t targets, bearer string) apitest.Resp {
		return s.Do(method, expand(path, t), expandBody(body, t), "Authorization: Bearer "+bearer, "X-Hub-Id: "+t.tenant)
	}
}

func expand(s string, t targets) string {
	return strings.NewReplacer("{wideKey}", t.wideKey, "{expiredKey}", t.expiredKey, "{covered}", t.covered,
		"{wideRole}", t.wideRole, "{coveredRole}", t.coveredRole, "{wideClient}", t.wideClient,
		"{tenant}", t.tenant, "{wideSecret}", t.wideSecret, "{scopeName}", t.scopeName,
		"{wideMember}", t.wideMember, "{coveredMember}", t.coveredMember, "{wideEmail}", t.wideEmail).Replace(s)
}

func expandBody(body any, t targets) any {
	if body == nil {
		return nil
	}
	raw, _ := json.Marshal(body)
	return expand(string(raw), t)
}

var matrix = []matrixRow{
	{"native", "CreateKeyWider", with("POST", "/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"payouts:write"}}), false, false},
	{"native", "CreateKeyInWiderRole", with("POST", "/v1/api-keys", map[string]any{"name": "x", "role_id": "{wideRole}"}), false, false},
	{"native", "RenameWiderKey", with("PATCH", "/v1/api-keys/{wideKey}", map[string]any{"name": "mine"}), false, false},
	{"native", "UnexpireWiderKey", with("PATCH", "/v1/api-keys/{expiredKey}", map[string]any{"expires_at": nil}), false, false},
	{"native", "ClearIPsOfWiderKey", with("PATCH", "/v1/api-keys/{wideKey}", map[string]any{"ips": []string{}}), false, false},
	{"native", "WidenCoveredKey", with("PATCH", "/v1/api-keys/{covered}", map[string]any{"scopes": []string{"labs:read", "payouts:write"}}), false, false},
	{"native", "MoveKeyIntoWiderRole", with("PATCH", "/v1/api-keys/{covered}", map[string]any{"role_id": "{wideRole}"}), false, false},
	{"native", "DisableWiderKey", with("PATCH", "/v1/api-keys/{wideKey}", map[string]any{"enabled": false}), true, false},
	{"native", "RevokeWiderKey", with("DELETE", "/v1/api-keys/{wideKey}", nil), true, false},
	{"native", "RevokeWiderKeyBySecret", with("POST", "/v1/keys/revoke", map[string]any{"key": "{wideSecret}"}), true, false},
	{"native", "RotateWiderKey", with("POST", "/v1/api-keys/{wideKey}/rotate", map[string]any{"grace_period": "1h"}), false, false},
	{"native", "CreateRoleWider", with("POST", "/v1/roles", map[string]any{"name": "x", "scopes": []string{"payouts:write"}}), false, false},
	{"native", "RenameWiderRole", with("PATCH", "/v1/roles/{wideRole}", map[string]any{"name": "mine"}), false, false},
	{"native", "WidenCoveredRole", with("PATCH", "/v1/roles/{coveredRole}", map[string]any{"scopes": []string{"payouts:write"}}), false, false},
	{"native", "DeleteWiderRole", with("DELETE", "/v1/roles/{wideRole}", nil), false, false},
	{"native", "CreateClientWider", with("POST", "/v1/clients", map[string]any{"name": "x", "scopes": []string{"payouts:write"}}), false, false},
	{"native", "AddAudienceToWiderClient", with("PATCH", "/v1/clients/{wideClient}", map[string]any{"audiences": []string{"hub:api", "payments"}}), false, false},
	{"native", "DisableWiderClient", with("PATCH", "/v1/clients/{wideClient}", map[string]any{"enabled": false}), true, false},
	{"native", "RotateSecretOfWiderClient", with("POST", "/v1/clients/{wideClient}/rotate-secret", map[string]any{}), false, false},
	{"native", "DeleteWiderClient", with("DELETE", "/v1/clients/{wideClient}", nil), true, false},
	{"native", "CreateMemberWider", with("POST", "/v1/members", map[string]any{"email": "new@acme.test", "scopes": []string{"payouts:write"}}), false, false},
	{"native", "RenameWiderMember", with("PATCH", "/v1/members/{wideMember}", map[string]any{"name": "mine"}), false, false},
	{"native", "ReaddressWiderMember", with("PATCH", "/v1/members/{wideMember}", map[string]any{"email": "attacker@evil.test"}), false, false},
	{"native", "WidenCoveredMember", with("PATCH", "/v1/members/{coveredMember}", map[string]any{"scopes": []string{"payouts:write"}}), false, false},
	{"native", "RemoveWiderMember", with("DELETE", "/v1/members/{wideMember}", nil), true, false},
	{"native", "HandoffWider", with("POST", "/v1/portal/sessions", map[string]any{"user": map[string]any{"id": "u1-{scopeName}", "email": "new@acme.test"}, "scopes": []string{"payouts:write"}}), false, false},
	{"native", "HandoffWiderMember", with("POST", "/v1/portal/sessions", map[string]any{"user": map[string]any{"id": "u2-{scopeName}", "email": "{wideEmail}"}, "scopes": []string{"labs:read"}}), false, false},
	{"native", "CreateTenant", with("POST", "/v1/tenants", map[string]any{"name": "other"}), false, true},
	{"native", "UpdateTenant", with("PATCH", "/v1/tenants/{tenant}", map[string]any{"name": "renamed"}), false, true},
	{"native", "CreateScope", with("POST", "/v1/scopes", map[string]any{"name": "{scopeName}"}), false, true},
	{"native", "RotateSigningKey", with("POST", "/v1/signing-keys/rotate", nil), false, true},
	{"yaxi", "CreateKey", with("POST", "/api/api-keys", map[string]any{"name": "x", "environment": "Production"}), true, false},
	{"yaxi", "DeleteWiderKey", with("DELETE", "/api/tenant/api-keys/{wideKey}", nil), true, false},
	{"cycle", "CreateKeyInWiderRole", cycleCall("POST", "/v1/hubs/current/api-keys", map[string]any{"name": "x", "role_id": "{wideRole}"}), false, false},
	{"cycle", "RenameWiderKey", cycleCall("PATCH", "/v1/hubs/current/api-keys/{wideKey}", map[string]any{"name": "mine"}), false, false},
	{"cycle", "MoveKeyIntoWiderRole", cycleCall("PATCH", "/v1/hubs/current/api-keys/{covered}", map[string]any{"role_id": "{wideRole}"}), false, false},
	{"cycle", "DeleteWiderKey", cycleCall("DELETE", "/v1/hubs/current/api-keys/{wideKey}", nil), true, false},
	{"yativo", "CreateKeyWider", with("POST", "/api/business/api-keys", map[string]any{"name": "x", "permissions": []string{"payouts:write"}}), false, false},
	{"yativo", "DeleteWiderKey", with("DELETE", "/api/business/api-keys/{wideKey}", nil), true, false},
}

// TestAuthorizationMatrix calls every mutating endpoint of every surface
// with four credentials: a narrow key, a covering key, an access token of a
// client since narrowed to the narrow scopes, and an external identity
// provider's token granting the narrow scopes. Narrow credentials of every
// kind are refused with 403 naming a scope — and the store is unchanged —
// unless the change only takes power away; covering ones succeed.
func TestAuthorizationMatrix(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		p := newIDP(t)
		s := apitest.Start(t, dsn, func(c *app.Config) {
			c.Providers = []oauth.ProviderConfig{{Issuer: p.srv.URL, JWKSURL: p.srv.URL + "/jwks", Audience: "keyhub", ScopeClaim: "permissions"}}
		})
		tid := s.Tenant("acme", nil)
		_, narrow := s.Key(tid, map[string]any{"name": "narrow", "scopes": narrowScopes})
		_, cover := s.Key(tid, map[string]any{"name": "cover", "scopes": coverScopes})
		cid, csec := s.OAuthClient(tid, map[string]any{"name": "was-wide", "scopes": coverScopes})
		tok := s.Form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {cid}, "client_secret": {csec}}, "", "")
		if tok.Status != 200 {
			t.Fatalf("token: %d %s", tok.Status, tok.Body)
		}
		narrowed := tok.Object(t)["access_token"].(string)
		s.Native(200, "PATCH", "/v1/clients/"+cid, s.Operator, tid, map[string]any{"scopes": narrowScopes})
		now := time.Now()
		idpToken := p.token("k1", map[string]any{"iss": p.srv.URL, "sub": "user_1", "aud": "keyhub", "iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "tenant_id": tid, "permissions": narrowScopes})
		creds := []struct {
			name   string
			bearer string
			covers bool
		}{{"NarrowKey", narrow, false}, {"CoveringKey", cover, true}, {"NarrowedClientToken", narrowed, false}, {"IdPToken", idpToken, false}}
		cell := 0
		for _, row := range matrix {
			for _, cr := range creds {
				t.Run(row.surface+"/"+row.name+"/"+cr.name, func(t *testing.T) {
					cell++
					c := s.For(t)
					tg := plant(c, tid)
					tg.scopeName = "matrix:s" + itoaE(cell)
					bearer, may := cr.bearer, cr.covers || row.narrowMay
					if row.operator {
						may = cr.covers
						if cr.covers {
							bearer = s.Operator
						}
					}
					if row.name == "UnexpireWiderKey" {
						waitExpired(t, c, tid, tg.expiredKey)
					}
					before := storeState(t, c, tid)
					r := row.call(c, tg, bearer)
					if row.surface == "native" && row.name == "CreateScope" && r.Status == 201 {
						c.Native(204, "DELETE", "/v1/scopes/"+tg.scopeName, s.Operator, "", nil)
					}
					if may {
						if r.Status < 200 || r.Status > 299 {
							t.Fatalf("refused: %d %s", r.Status, r.Body)
						}
						return
					}
					if r.Status != 403 || !strings.Contains(string(r.Body), "scope") {
						t.Fatalf("want 403 naming a scope, got %d %s", r.Status, r.Body)
					}
					if after := storeState(t, c, tid); after != before {
						t.Fatalf("a refused call changed the store:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
		}
	})
}

// waitExpired waits (bounded) until the key's state is expired.
func waitExpired(t *testing.T, s *apitest.Client, tid, id string) {
	t.Helper()
	for range 100 {
		if s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, tid, nil)["state"] == "expired" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the key never expired")
}
