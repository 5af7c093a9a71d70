package cycle

import (
	"net/http"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/openapitest"
)

// TestOpenAPI holds openapi.json to the routes Mount registers and to the
// json tags of the request and answer types. Answers of a real server are
// checked against it in openapi_answers_test.go.
func TestOpenAPI(t *testing.T) {
	doc := openapitest.Parse(t, OpenAPI)
	openapitest.CheckDocument(t, doc)
	openapitest.CheckScopes(t, doc, keyhub.IsManagementScope)
	registered := routes(http.NewServeMux(), compat.Deps{}).Paths()
	// The defaults are registered straight on the mux (see routes).
	registered["/v1/hubs/current/roles/defaults"] = []string{"GET"}
	openapitest.CheckRoutes(t, doc, registered)
	openapitest.CheckIdempotencyKeys(t, doc, idempotencyMux(), func(h http.Handler) bool { _, ok := h.(httpapi.Idempotent); return ok })
	openapitest.CheckSchemas(t, doc, map[string]openapitest.Type{
		"ApiKey":              openapitest.TypeOf[keyView](false),
		"Creator":             openapitest.TypeOf[creator](false),
		"State":               openapitest.TypeOf[state](false),
		"Events":              openapitest.TypeOf[events](false),
		"Role":                openapitest.TypeOf[roleView](false),
		"RoleRequest":         openapitest.TypeOf[roleRequest](true),
		"DefaultRole":         openapitest.TypeOf[defaultRoleView](false),
		"Capabilities":        openapitest.TypeOf[capabilitySet](false),
		"Error":               openapitest.TypeOf[apiError](false),
		"CreateApiKeyRequest": openapitest.TypeOf[createRequest](true),
		"UpdateApiKeyRequest": openapitest.TypeOf[updateRequest](true),
	}, []string{
		// The query's deep objects, read parameter by parameter, and the
		// envelopes, which the handlers write as maps.
		"ListFilter", "ListPage", "Includes", "ApiKeyCollection", "ApiKeyResource", "ApiKeyData", "CreatedApiKey", "ErrorEnvelope",
		"RoleData", "RoleCollection", "RoleDeleted", "DefaultRoles",
	})
}

// idempotencyMux is a mux with this surface's routes, to look their
// handlers up.
func idempotencyMux() *http.ServeMux {
	mux := http.NewServeMux()
	routes(mux, compat.Deps{})
	return mux
}
