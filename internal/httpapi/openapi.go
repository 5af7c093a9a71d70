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

// openapi serves the native document.
func (s *Server) openapi(w http.ResponseWriter, r *http.Request) { serveDocument(w, openapiDoc) }

// AddDocument serves doc, the OpenAPI document of a surface mounted beside
// the native API, at /openapi/{name} (such as /openapi/yaxi.json). Call it
// before the server serves: the documents are read without a lock.
func (s *Server) AddDocument(name string, doc []byte) { s.docs[name] = doc }

// document serves a surface's document, 404 for a surface not mounted.
func (s *Server) document(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.docs[r.PathValue("document")]
	if !ok {
		writeProblem(w, r, Problem{Type: "urn:keyhub:problem:not_found", Title: http.StatusText(404), Status: 404,
			Detail: "no such document: the surfaces this server mounts are at /openapi/NAME.json", Code: "not_found"})
		return
	}
	serveDocument(w, doc)
}

// serveDocument answers an OpenAPI document. It is fixed for a build, so
// caches may keep it for a while, unlike every other answer of the API.
func serveDocument(w http.ResponseWriter, doc []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = w.Write(doc)
}

// OpenAPIDocument returns the embedded OpenAPI document, for the tests of
// the other surfaces it describes (internal/oauthapi). The caller must not
// modify it.
func OpenAPIDocument() []byte { return openapiDoc }
