package yaxi_test

import (
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/compat/yaxi"
	"github.com/keyhub/keyhub/internal/openapitest"
)

// TestOpenAPIAnswers calls every documented operation of a real server,
// with answers that succeed and answers that fail, and checks each against
// the document the server serves at /openapi/yaxi.json.
func TestOpenAPIAnswers(t *testing.T) {
	s, tenant, auth := setup(t)
	served := s.Must(200, "GET", "/openapi/yaxi.json", nil)
	if string(served.Body) != string(yaxi.OpenAPI) {
		t.Fatal("GET /openapi/yaxi.json does not answer the embedded document")
	}
	doc := openapitest.Parse(t, served.Body)
	check := func(op string, r apitest.Resp) {
		t.Helper()
		openapitest.CheckAnswer(t, doc, op, r.Status, r.Body)
	}
	_, narrow := s.Key(tenant, map[string]any{"name": "narrow", "scopes": []string{"labs:read"}})

	created := s.Must(201, "POST", "/api/api-keys", exampleRequest, auth)
	check("POST /api/api-keys", created)
	id := created.Object(t)["id"].(string)
	check("POST /api/api-keys", s.Must(201, "POST", "/api/api-keys",
		`{"name":"with all","environment":"Sandbox","hostSoftware":"SAP","redirectScraping":true,"servicePermissions":{"a":[1]},"expiresAt":"2099-01-01T00:00:00Z"}`, auth))
	check("POST /api/api-keys", s.Must(422, "POST", "/api/api-keys", `{"name":"x","expiresAt":"2000-01-01T00:00:00Z"}`, auth))
	check("POST /api/api-keys", s.Must(400, "POST", "/api/api-keys", `{"name":"x","colour":"red"}`, auth))
	check("POST /api/api-keys", s.Must(413, "POST", "/api/api-keys", apitest.BigBody(), auth))
	check("POST /api/api-keys", s.Must(403, "POST", "/api/api-keys", exampleRequest, "Authorization: Bearer "+narrow))
	check("POST /api/api-keys", s.Must(401, "POST", "/api/api-keys", exampleRequest))

	for _, p := range []string{"/api/tenant/api-keys", "/api/api-keys"} {
		check("GET "+p+"/{id}", s.Must(200, "GET", p+"/"+id, nil, auth))
		check("GET "+p+"/{id}", s.Must(404, "GET", p+"/key_01J8Z3Q4W5E6R7T8Y9V0K1M2P3", nil, auth))
	}
	check("GET /api/tenant/api-keys", s.Must(200, "GET", "/api/tenant/api-keys", nil, auth))
	check("GET /api/tenant/api-keys", s.Must(400, "GET", "/api/tenant/api-keys", nil, "Authorization: Bearer "+s.Operator))
	check("GET /api/tenant/api-keys", s.Must(401, "GET", "/api/tenant/api-keys", nil, "Authorization: Bearer kh_live_nope"))
	other := s.Must(201, "POST", "/api/api-keys", exampleRequest, auth).Object(t)["id"].(string)
	check("DELETE /api/tenant/api-keys/{id}", s.Must(403, "DELETE", "/api/tenant/api-keys/"+other, nil, "Authorization: Bearer "+narrow))
	check("DELETE /api/tenant/api-keys/{id}", s.Must(200, "DELETE", "/api/tenant/api-keys/"+other, nil, auth))
	check("DELETE /api/api-keys/{id}", s.Must(200, "DELETE", "/api/api-keys/"+id, nil, auth))
	// YAXI deletes keys: a deleted key is gone, on both paths.
	check("DELETE /api/api-keys/{id}", s.Must(404, "DELETE", "/api/api-keys/"+id, nil, auth))
	check("DELETE /api/tenant/api-keys/{id}", s.Must(404, "DELETE", "/api/tenant/api-keys/"+id, nil, auth))
	check("GET /api/api-keys/{id}", s.Must(404, "GET", "/api/api-keys/"+id, nil, auth))
}
