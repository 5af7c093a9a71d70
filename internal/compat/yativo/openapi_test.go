package yativo

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
	openapitest.CheckRoutes(t, doc, routes(http.NewServeMux(), compat.Deps{}).Paths())
	openapitest.CheckIdempotencyKeys(t, doc, idempotencyMux(), func(h http.Handler) bool { _, ok := h.(httpapi.Idempotent); return ok })
	openapitest.CheckSchemas(t, doc, map[string]openapitest.Type{
		"ApiKey":              openapitest.TypeOf[keyView](false),
		"CreateApiKeyRequest": openapitest.TypeOf[createRequest](true),
		"Error":               openapitest.TypeOf[errorBody](false),
	}, []string{
		// The success envelopes: one type (success) with data of any kind.
		"ApiKeyList", "ApiKeyAnswer", "CreatedApiKey",
	})
}

// idempotencyMux is a mux with this surface's routes, to look their
// handlers up.
func idempotencyMux() *http.ServeMux {
	mux := http.NewServeMux()
	routes(mux, compat.Deps{})
	return mux
}
