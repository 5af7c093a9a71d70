package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openapiDoc is the OpenAPI 3.1 document of the native API. It is written by
// hand; openapi_test.go holds it to the routes and to the json tags of the
// request and answer types, so that it cannot drift from the code.
//
//go:embed openapi.json
var openapiDoc []byte

// openapi serves the document. It is fixed for a build, so caches may keep
// it for a while, unlike every other answer of the API.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(len(openapiDoc)))
	_, _ = w.Write(openapiDoc)
}

// OpenAPIDocument returns the embedded OpenAPI document, for the tests of
// the other surfaces it describes (internal/oauthapi). The caller must not
// modify it.
func OpenAPIDocument() []byte { return openapiDoc }
