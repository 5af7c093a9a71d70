package cycle_test

import (
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/compat/cycle"
	"github.com/keyhub/keyhub/internal/openapitest"
)

// TestOpenAPIAnswers calls every documented operation of a real server,
// with answers that succeed and answers that fail, and checks each against
// the document the server serves at /openapi/cycle.json.
func TestOpenAPIAnswers(t *testing.T) {
	e := setup(t)
	s := e.s
	served := s.Must(200, "GET", "/openapi/cycle.json", nil)
	if string(served.Body) != string(cycle.OpenAPI) {
		t.Fatal("GET /openapi/cycle.json does not answer the embedded document")
	}
	doc := openapitest.Parse(t, served.Body)
	check := func(op string, r apitest.Resp) {
		t.Helper()
		openapitest.CheckAnswer(t, doc, op, r.Status, r.Body)
	}
	_, narrow := s.Key(e.hub, map[string]any{"name": "narrow", "scopes": []string{"labs:read"}})
	other := s.Tenant("other hub", nil)
	as := func(key string) []string { return []string{"Authorization: Bearer " + key, "X-Hub-Id: " + e.hub} }
	const list, one = "GET " + base, base + "/{apikeyId}"

	created := s.Must(201, "POST", base, map[string]any{"name": "deployer", "role_id": e.role, "ips": []string{"203.0.113.7", "10.0.0.0/8"}}, e.auth...)
	check("POST "+base, created)
	id := created.Object(t)["data"].(map[string]any)["id"].(string)
	check("POST "+base, s.Must(422, "POST", base, map[string]any{"name": "no role"}, e.auth...))
	check("POST "+base, s.Must(400, "POST", base, `{"name":"x","colour":"red"}`, e.auth...))
	check("POST "+base, s.Must(422, "POST", base, apitest.BigBody(), e.auth...))
	check("POST "+base, s.Must(422, "POST", base, map[string]any{"name": "x", "role_id": "role_01J8Z3Q4W5E6R7T8Y9V0K1M2P3"}, e.auth...))
	check("POST "+base, s.Must(422, "POST", base, map[string]any{"name": "x", "role_id": e.role}, "Authorization: Bearer "+e.secret))
	check("POST "+base, s.Must(401, "POST", base, map[string]any{"name": "x", "role_id": e.role}, "X-Hub-Id: "+e.hub))

	check(list, s.Must(200, "GET", base, nil, e.auth...))
	check(list, s.Must(200, "GET", base+"?include=roles&sort=-events.created,name&page[size]=1&page[number]=1&filter[state]=live", nil, e.auth...))
	check(list, s.Must(422, "GET", base+"?sort=colour", nil, e.auth...))
	check(list, s.Must(403, "GET", base, nil, as(narrow)...))
	check(list, s.Must(403, "GET", base, nil, "Authorization: Bearer "+e.secret, "X-Hub-Id: "+other))
	check(list, s.Must(404, "GET", base, nil, "Authorization: Bearer "+e.secret, "X-Hub-Id: hub-1"))

	check("GET "+one, s.Must(200, "GET", base+"/"+id, nil, e.auth...))
	check("GET "+one, s.Must(200, "GET", base+"/"+id+"?include=roles", nil, e.auth...))
	check("GET "+one, s.Must(404, "GET", base+"/key_01J8Z3Q4W5E6R7T8Y9V0K1M2P3", nil, e.auth...))
	check("PATCH "+one, s.Must(200, "PATCH", base+"/"+id, map[string]any{"name": "renamed", "ips": nil}, e.auth...))
	check("PATCH "+one, s.Must(422, "PATCH", base+"/"+id, map[string]any{"role_id": ""}, e.auth...))
	check("DELETE "+one, s.Must(200, "DELETE", base+"/"+id, nil, e.auth...))
	check("GET "+one, s.Must(200, "GET", base+"/"+id, nil, e.auth...))
	check(list, s.Must(200, "GET", base+"?filter[state]=deleted", nil, e.auth...))
	check("DELETE "+one, s.Must(403, "DELETE", base+"/"+id, nil, as(narrow)...))

	// Managing roles takes manage:roles, which the hub admin lacks.
	ops := []string{"Authorization: Bearer " + s.Operator, "X-Hub-Id: " + e.hub}
	const roles = "/v1/hubs/current/roles"
	const aRole = roles + "/{roleId}"
	made := s.Must(201, "POST", roles, map[string]any{"name": "Key Managers", "identifier": "key-managers", "rank": 3,
		"capabilities": map[string]any{"all": false, "specific": []string{"api-keys-manage", "hubs-roles-view"}}}, ops...)
	check("POST "+roles, made)
	roleID := made.Object(t)["data"].(map[string]any)["id"].(string)
	check("POST "+roles, s.Must(422, "POST", roles, map[string]any{"name": "No Rank", "identifier": "no-rank"}, ops...))
	check("POST "+roles, s.Must(400, "POST", roles, `{"identifier":"x","rank":1,"colour":"red"}`, ops...))
	check("POST "+roles, s.Must(403, "POST", roles, map[string]any{"identifier": "x", "rank": 1}, as(narrow)...))
	check("POST "+roles, s.Must(401, "POST", roles, map[string]any{"identifier": "x", "rank": 1}, "X-Hub-Id: "+e.hub))
	check("GET "+roles, s.Must(200, "GET", roles, nil, ops...))
	check("GET "+roles, s.Must(200, "GET", roles+"?meta=counts&sort=-id&page[size]=1&page[number]=2", nil, ops...))
	check("GET "+roles, s.Must(422, "GET", roles+"?sort=name", nil, ops...))
	check("GET "+roles, s.Must(403, "GET", roles, nil, as(narrow)...))
	check("GET "+aRole, s.Must(200, "GET", roles+"/"+roleID+"?meta=counts", nil, ops...))
	check("GET "+aRole, s.Must(404, "GET", roles+"/role_01J8Z3Q4W5E6R7T8Y9V0K1M2P3", nil, ops...))
	check("PATCH "+aRole, s.Must(200, "PATCH", roles+"/"+roleID, map[string]any{"capabilities": map[string]any{"specific": []string{"hubs-roles-view"}}}, ops...))
	check("PATCH "+aRole, s.Must(422, "PATCH", roles+"/"+roleID, map[string]any{"rank": 11}, ops...))
	check("DELETE "+aRole, s.Must(403, "DELETE", roles+"/"+e.role, nil, ops...))
	check("DELETE "+aRole, s.Must(202, "DELETE", roles+"/"+roleID, nil, ops...))
	check("DELETE "+aRole, s.Must(404, "DELETE", roles+"/"+roleID, nil, ops...))
	check("GET "+roles+"/defaults", s.Must(200, "GET", roles+"/defaults", nil))
}
