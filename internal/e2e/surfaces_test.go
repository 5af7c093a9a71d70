package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// TestEverySurfaceSeesOneKey creates a key through each surface, finds it
// with the same state through every other, and revokes it through yet
// another: verify answers REVOKED whichever surface revoked it.
func TestEverySurfaceSeesOneKey(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid := s.Tenant("acme", nil)
		s.Native(200, "PATCH", "/v1/tenants/"+tid, s.Operator, "", map[string]any{"key_prefixes": map[string]string{"live": "yat_live"}})
		role := s.Role(tid, "r", "payouts:write")
		_, mgmt := s.Key(tid, map[string]any{"name": "mgmt", "scopes": []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys", "read:roles", "payouts:write"}})
		auth := "Authorization: Bearer " + mgmt
		hub := "X-Hub-Id: " + tid

		// A key made on YAXI is a signing key: named by its YAXI id there,
		// checked by tickets.
		type made struct {
			id, secret string
			signing    bool
		}
		create := map[string]func() made{
			"native": func() made {
				k := s.Native(201, "POST", "/v1/api-keys", mgmt, "", map[string]any{"name": "n", "scopes": []string{"payouts:write"}})
				return made{k["id"].(string), k["key"].(string), false}
			},
			"yaxi": func() made {
				r := s.Do("POST", "/api/api-keys", map[string]any{"name": "y", "environment": "Production", "hostSoftware": "Generic", "redirectScraping": false}, auth)
				m := r.Object(t)
				id, _ := keyhub.ParseUUIDForm(keyhub.UUIDPrefixAPIKey, keyhub.PrefixAPIKey, m["id"].(string))
				return made{id, m["secret"].(string), true}
			},
			"cycle": func() made {
				r := s.Do("POST", "/v1/hubs/current/api-keys", map[string]any{"name": "c", "role_id": role}, auth, hub)
				d := r.Object(t)["data"].(map[string]any)
				return made{d["id"].(string), d["secret"].(string), false}
			},
			"yativo": func() made {
				r := s.Do("POST", "/api/business/api-keys", map[string]any{"name": "v", "permissions": []string{"payouts:write"}}, auth)
				d := r.Object(t)["data"].(map[string]any)
				return made{d["id"].(string), d["key"].(string), false}
			},
		}
		// seen answers whether each surface lists the key, and its state.
		seen := func(id string) map[string]string {
			out := map[string]string{}
			for _, k := range s.Native(200, "GET", "/v1/api-keys?limit=200", mgmt, "", nil)["data"].([]any) {
				if m := k.(map[string]any); m["id"] == id {
					out["native"] = m["state"].(string)
				}
			}
			var yaxi []map[string]any
			json.Unmarshal(s.Do("GET", "/api/tenant/api-keys", nil, auth).Body, &yaxi)
			for _, m := range yaxi {
				if m["id"] == keyhub.UUIDForm(keyhub.UUIDPrefixAPIKey, keyhub.PrefixAPIKey, id) {
					out["yaxi"] = "active" // YAXI lists usable keys only
				}
			}
			for _, k := range s.Do("GET", "/v1/hubs/current/api-keys?page[size]=100", nil, auth, hub).Object(t)["data"].([]any) {
				if m := k.(map[string]any); m["id"] == id {
					out["cycle"] = m["state"].(map[string]any)["current"].(string)
				}
			}
			for _, k := range s.Do("GET", "/api/business/api-keys", nil, auth).Object(t)["data"].([]any) {
				if m := k.(map[string]any); m["id"] == id {
					out["yativo"] = map[bool]string{true: "active", false: "inactive"}[m["is_active"].(bool)]
				}
			}
			return out
		}
		revoke := map[string]func(id string){
			"native": func(id string) { s.Native(200, "DELETE", "/v1/api-keys/"+id, mgmt, "", nil) },
			"yaxi": func(id string) {
				if r := s.Do("DELETE", "/api/api-keys/"+id, nil, auth); r.Status != 200 {
					t.Fatalf("yaxi delete: %d %s", r.Status, r.Body)
				}
			},
			"cycle": func(id string) {
				if r := s.Do("DELETE", "/v1/hubs/current/api-keys/"+id, nil, auth, hub); r.Status != 200 {
					t.Fatalf("cycle delete: %d %s", r.Status, r.Body)
				}
			},
			"yativo": func(id string) {
				if r := s.Do("DELETE", "/api/business/api-keys/"+id, nil, auth); r.Status != 200 {
					t.Fatalf("yativo delete: %d %s", r.Status, r.Body)
				}
			},
		}
		next := map[string]string{"native": "yaxi", "yaxi": "cycle", "cycle": "yativo", "yativo": "native"}
		for via, mk := range create {
			t.Run(via, func(t *testing.T) {
				k := mk()
				verify := func() map[string]any {
					if !k.signing {
						return s.Verify(k.secret, nil, "")
					}
					tk := mint(t, jwa.HS256(), secretBytes(t, k.secret), k.id, map[string]any{"exp": time.Now().Unix() + 60}, nil)
					return s.Native(200, "POST", "/v1/tickets/verify", s.Operator, "", map[string]any{"ticket": tk})
				}
				if v := verify(); v["code"] != "VALID" {
					t.Fatalf("key made via %s: verify %v", via, v)
				}
				want := map[string]string{"native": "active", "yaxi": "active", "cycle": "live", "yativo": "active"}
				if got := seen(k.id); len(got) != 4 || got["native"] != want["native"] || got["cycle"] != want["cycle"] || got["yativo"] != want["yativo"] {
					t.Fatalf("key made via %s seen as %v", via, got)
				}
				revoke[next[via]](k.id)
				if v := verify(); v["code"] != "REVOKED" {
					t.Fatalf("revoked via %s: verify %v", next[via], v)
				}
				got := seen(k.id)
				if got["native"] != "revoked" || got["cycle"] != "deleted" || got["yativo"] != "inactive" || got["yaxi"] != "" {
					t.Fatalf("revoked key seen as %v", got)
				}
			})
		}
	})
}

func TestCompatCanBeSwitchedOff(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.Compat = []string{"cycle"} })
	op := map[string]string{"Authorization": "Bearer " + s.Operator}
	s.Run(t, []apitest.Scenario{
		{Name: "YAXIOff", Method: "GET", URL: "/api/tenant/api-keys", Headers: op, Status: 404},
		{Name: "YativoOff", Method: "GET", URL: "/api/business/api-keys", Headers: op, Status: 404},
		{Name: "CycleOn", Method: "GET", URL: "/v1/hubs/current/api-keys", Headers: op, Status: 422}, // no X-Hub-Id
	})
}
