package yaxi

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of this surface, served at
// /openapi/yaxi.json. It is written by hand; openapi_test.go holds it to the
// routes and to the json tags of the request and answer types.
//
//go:embed openapi.json
var OpenAPI []byte
