package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// TestEscalationSearch starts from one credential holding a few scopes and
// runs a bounded, seeded random walk of API calls with every credential it
// obtains on the way (keys it creates or rotates, client secrets it makes or
// rotates, tokens it mints). After every step, every credential it can use
// must hold only what the starting one held. The wider objects it can see
// (a client, a role, keys) are planted by the operator, as a tenant's admin
// would have made them.
func TestEscalationSearch(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		// The walk fails to authenticate hundreds of times from one
		// address on purpose: the throttle of failures would stop it.
		s := apitest.Start(t, dsn, func(c *app.Config) { c.AuthFailuresPerIP = -1 })
		tid := s.Tenant("acme", nil)
		w := &walker{t: t, s: s.Client, tid: tid, rng: rand.New(rand.NewPCG(8, 2026))}
		w.start = []string{"read:api_keys", "create:api_keys", "update:api_keys", "read:roles", "manage:roles",
			"read:clients", "manage:clients", "labs:read"}
		_, first := s.Key(tid, map[string]any{"name": "start", "scopes": w.start})
		w.bearers = []string{first}
		// What a tenant admin made, wider than the starting credential.
		w.roles = append(w.roles, s.Native(201, "POST", "/v1/roles", s.Operator, tid,
			map[string]any{"name": "admin", "scopes": []string{"read:audit", "payouts:*"}})["id"].(string))
		cid, _ := s.OAuthClient(tid, map[string]any{"name": "automation",
			"scopes": []string{"read:audit", "create:api_keys", "delete:api_keys"}, "audiences": []string{"payments"}})
		w.clients = append(w.clients, cid)
		for _, body := range []map[string]any{
			{"name": "payouts", "scopes": []string{"payouts:write"}},
			{"name": "auditor", "scopes": []string{"read:audit"}, "expires_at": "2099-01-01T00:00:00Z",
				"ips": []string{"10.0.0.0/8"}, "ratelimit": map[string]any{"limit": 1, "duration": "1h"}},
			{"name": "disabled", "scopes": []string{"read:audit", "labs:read"}, "enabled": false},
		} {
			k, _ := s.Key(tid, body)
			w.keys = append(w.keys, k["id"].(string))
		}
		const steps = 400
		for i := range steps {
			what := w.step()
			if bad := w.escalated(); bad != "" {
				t.Fatalf("step %d (%s): a credential obtained holds %s, which the starting credential does not", i, what, bad)
			}
		}
		t.Logf("%d steps: %d bearer credentials, %d clients with secrets held", steps, len(w.bearers), len(w.secrets))
	})
}

// walker is the state of the search: what it holds and what it knows.
type walker struct {
	t     *testing.T
	s     *apitest.Client
	tid   string
	rng   *rand.Rand
	start []string
	// bearers are API keys and tokens it can authenticate with.
	bearers []string
	// secrets are client credentials it holds, by client id.
	secrets map[string]string
	// keys, roles, clients are ids it knows.
	keys, roles, clients []string
}

// universe is what the walker asks for: its own scopes, wider ones and
// wildcards.
var universe = []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys", "verify:api_keys",
	"read:roles", "manage:roles", "read:clients", "manage:clients", "read:audit", "manage:tenants",
	"labs:read", "labs:*", "payouts:write", "payouts:*", "*"}

func (w *walker) pick(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[w.rng.IntN(len(list))]
}

func (w *walker) scopes() []string {
	var out []string
	for range 1 + w.rng.IntN(3) {
		if s := w.pick(universe); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// call sends a management call with a credential the walker holds.
func (w *walker) call(method, path string, body any) apitest.Resp {
	return w.s.Do(method, path, body, apitest.Auth(w.pick(w.bearers), "")...)
}

func (w *walker) addKey(r apitest.Resp) {
	if r.Status == 201 {
		m := r.Object(w.t)
		w.bearers = append(w.bearers, m["key"].(string))
		w.keys = append(w.keys, m["id"].(string))
	}
}

func (w *walker) addClient(r apitest.Resp) {
	if r.Status == 201 || r.Status == 200 {
		m := r.Object(w.t)
		if sec, ok := m["client_secret"].(string); ok {
			if w.secrets == nil {
				w.secrets = map[string]string{}
			}
			id := m["client_id"].(string)
			w.secrets[id] = sec
			if !slices.Contains(w.clients, id) {
				w.clients = append(w.clients, id)
			}
		}
	}
}

// step makes one random call and says what it was.
func (w *walker) step() string {
	switch w.rng.IntN(12) {
	case 0:
		body := map[string]any{"name": "k", "scopes": w.scopes()}
		if w.rng.IntN(2) == 0 {
			body["role_id"] = w.pick(w.roles)
		}
		w.addKey(w.call("POST", "/v1/api-keys", body))
		return "create key"
	case 1:
		patch := []map[string]any{
			{"scopes": w.scopes()}, {"role_id": w.pick(w.roles)}, {"enabled": true}, {"expires_at": nil},
			{"ips": []string{}}, {"ratelimit": nil}, {"credits": nil}, {"name": "mine"},
		}[w.rng.IntN(8)]
		w.call("PATCH", "/v1/api-keys/"+w.pick(w.keys), patch)
		return fmt.Sprintf("patch key %v", patch)
	case 2:
		w.addKey(w.call("POST", "/v1/api-keys/"+w.pick(w.keys)+"/rotate", map[string]any{"grace_period": "1h"}))
		return "rotate key"
	case 3:
		r := w.call("POST", "/v1/roles", map[string]any{"name": "r", "scopes": w.scopes()})
		if r.Status == 201 {
			w.roles = append(w.roles, r.Object(w.t)["id"].(string))
		}
		return "create role"
	case 4:
		w.call("PATCH", "/v1/roles/"+w.pick(w.roles), map[string]any{"scopes": w.scopes()})
		return "patch role"
	case 5:
		w.addClient(w.call("POST", "/v1/clients", map[string]any{"name": "c", "scopes": w.scopes(), "audiences": []string{"hub:api"}}))
		return "create client"
	case 6:
		patch := []map[string]any{
			{"scopes": w.scopes()}, {"audiences": []string{"hub:api", "payments"}}, {"enabled": true}, {"name": "mine"},
		}[w.rng.IntN(4)]
		w.call("PATCH", "/v1/clients/"+w.pick(w.clients), patch)
		return fmt.Sprintf("patch client %v", patch)
	case 7:
		w.addClient(w.call("POST", "/v1/clients/"+w.pick(w.clients)+"/rotate-secret", map[string]any{}))
		return "rotate client secret"
	case 8, 9:
		// Mint a token with a client secret held, asking for anything.
		id := w.pick(mapsKeys(w.secrets))
		if id == "" {
			return "no client to mint with"
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {w.secrets[id]},
			"audience": {"hub:api"}}
		if w.rng.IntN(2) == 0 {
			form.Set("scope", strings.Join(w.scopes(), " "))
		}
		if r := w.s.Form("/oauth2/token", form, "", ""); r.Status == 200 {
			w.bearers = append(w.bearers, r.Object(w.t)["access_token"].(string))
		}
		return "mint token"
	case 10:
		w.call("POST", "/v1/api-keys/"+w.pick(w.keys)+"/rotate", map[string]any{})
		return "rotate key without grace"
	default:
		// Look around: lists tell of ids made by others.
		r := w.call("GET", "/v1/api-keys?limit=200", nil)
		if r.Status == 200 {
			for _, k := range r.Object(w.t)["data"].([]any) {
				if id := k.(map[string]any)["id"].(string); !slices.Contains(w.keys, id) {
					w.keys = append(w.keys, id)
				}
			}
		}
		return "list keys"
	}
}

func mapsKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// escalated answers a scope some usable credential holds that the starting
// one does not, or "". Keys are read through verify (their effective scopes,
// role included, only while usable), tokens through introspection (their
// powers now), client secrets through the client's current scopes (which it
// can mint tokens for while enabled and the secret is current).
func (w *walker) escalated() string {
	over := func(scopes []string) string {
		for _, s := range scopes {
			if s == keyhub.ScopeManageTenants || !keyhub.CoveredBy(w.start, s) {
				return s
			}
		}
		return ""
	}
	for _, b := range w.bearers {
		var scopes []string
		if strings.HasPrefix(b, "eyJ") {
			m := introspect(w.t, w.s, b)
			if m["active"] != true {
				continue
			}
			scopes = strings.Fields(m["scope"].(string))
		} else {
			v := w.s.Verify(b, nil, "10.1.2.3")
			if v["code"] != "VALID" && v["code"] != "RATE_LIMITED" {
				continue
			}
			for _, s := range v["key"].(map[string]any)["scopes"].([]any) {
				scopes = append(scopes, s.(string))
			}
		}
		if bad := over(scopes); bad != "" {
			return bad
		}
	}
	for id, sec := range w.secrets {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}, "audience": {"hub:api"}}
		r := w.s.Form("/oauth2/token", form, "", "")
		if r.Status != 200 {
			continue
		}
		if bad := over(strings.Fields(r.Object(w.t)["scope"].(string))); bad != "" {
			return bad
		}
	}
	return ""
}

// introspect asks, as the operator, what a token can do now.
func introspect(t *testing.T, c *apitest.Client, token string) map[string]any {
	t.Helper()
	return c.For(t).Must(200, "POST", "/oauth2/introspect", url.Values{"token": {token}}.Encode(),
		"Authorization: Bearer "+c.Operator, "Content-Type: application/x-www-form-urlencoded").Object(t)
}
