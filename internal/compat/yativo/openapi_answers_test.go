package yativo_test

import (
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/compat/yativo"
	"github.com/keyhub/keyhub/internal/openapitest"
)

// TestOpenAPIAnswers calls every documented operation of a real server,
// with answers that succeed and answers that fail, and checks each against
// the document the server serves at /openapi/yativo.json.
func TestOpenAPIAnswers(t *testing.T) {
	e := setup(t)
	s := e.s
	served := s.Must(200, "GET", "/openapi/yativo.json", nil)
	if string(served.Body) != string(yativo.OpenAPI) {
		t.Fatal("GET /openapi/yativo.json does not answer the embedded document")
	}
	doc := openapitest.Parse(t, served.Body)
	check := func(op string, r apitest.Resp) {
		t.Helper()
		openapitest.CheckAnswer(t, doc, op, r.Status, r.Body)
	}
	_, narrow := s.Key(e.tenant, map[string]any{"name": "narrow", "scopes": []string{"customers:read"}})

	created := s.Must(201, "POST", base, map[string]any{"name": "Production Backend", "permissions": []string{"payouts:write"}, "expires_at": "2099-01-01"}, e.auth)
	check("POST "+base, created)
	id := created.Object(t)["data"].(map[string]any)["id"].(string)
	check("POST "+base, s.Must(201, "POST", base, map[string]any{"name": "all of mine"}, e.auth))
	check("POST "+base, s.Must(422, "POST", base, map[string]any{"name": "x", "permissions": []string{"a::b"}}, e.auth))
	check("POST "+base, s.Must(400, "POST", base, `{"name":"x","colour":"red"}`, e.auth))
	check("POST "+base, s.Must(413, "POST", base, apitest.BigBody(), e.auth))
	check("POST "+base, s.Must(403, "POST", base, map[string]any{"name": "x"}, "Authorization: Bearer "+narrow))
	check("POST "+base, s.Must(401, "POST", base, map[string]any{"name": "x"}))

	// A used key lists with last_used_at.
	s.Verify(created.Object(t)["data"].(map[string]any)["key"].(string), nil, "")
	check("GET "+base, s.Must(200, "GET", base, nil, e.auth))
	check("GET "+base, s.Must(400, "GET", base, nil, "Authorization: Bearer "+s.Operator))
	check("DELETE "+base+"/{id}", s.Must(200, "DELETE", base+"/"+id, nil, e.auth))
	check("DELETE "+base+"/{id}", s.Must(404, "DELETE", base+"/key_01J8Z3Q4W5E6R7T8Y9V0K1M2P3", nil, e.auth))
	check("DELETE "+base+"/{id}", s.Must(403, "DELETE", base+"/"+id, nil, "Authorization: Bearer "+narrow))
	check("GET "+base, s.Must(200, "GET", base, nil, e.auth))

	// Yativo's own base answers the same operations.
	made := s.Must(201, "POST", v1, map[string]any{"name": "under v1", "permissions": []string{"payouts:write"}}, e.auth)
	check("POST "+v1, made)
	check("POST "+v1, s.Must(422, "POST", v1, map[string]any{"name": ""}, e.auth))
	check("GET "+v1, s.Must(200, "GET", v1, nil, e.auth))
	check("GET "+v1, s.Must(401, "GET", v1, nil))
	check("DELETE "+v1+"/{id}", s.Must(200, "DELETE", v1+"/"+made.Object(t)["data"].(map[string]any)["id"].(string), nil, e.auth))
	check("DELETE "+v1+"/{id}", s.Must(404, "DELETE", v1+"/key_01J8Z3Q4W5E6R7T8Y9V0K1M2P3", nil, e.auth))
}
