package cycle

import (
	"net/http"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
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
	openapitest.CheckSchemas(t, doc, map[string]openapitest.Type{
		"ApiKey":              openapitest.TypeOf[keyView](false),
		"Creator":             openapitest.TypeOf[creator](false),
		"State":               openapitest.TypeOf[state](false),
		"Events":              openapitest.TypeOf[events](false),
		"Role":                openapitest.TypeOf[roleView](false),
		"Capabilities":        openapitest.TypeOf[capabilities](false),
		"Error":               openapitest.TypeOf[apiError](false),
		"CreateApiKeyRequest": openapitest.TypeOf[createRequest](true),
		"UpdateApiKeyRequest": openapitest.TypeOf[updateRequest](true),
	}, []string{
		// The query's deep objects, read parameter by parameter, and the
		// envelopes, which the handlers write as maps.
		"ListFilter", "ListPage", "Includes", "ApiKeyCollection", "ApiKeyResource", "ApiKeyData", "CreatedApiKey", "ErrorEnvelope",
	})
}
