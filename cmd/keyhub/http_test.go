package main

import (
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestServeHTTP checks over HTTP what `keyhub serve` wires from its
// configuration: the native API, the OAuth metadata, and the compat
// surfaces, all of them by default and none with KEYHUB_COMPAT=none. The
// whole API is tested in-process by internal/e2e; this proves the binary
// serves the same thing.
func TestServeHTTP(t *testing.T) {
	t.Parallel()
	t.Run("Defaults", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, serveOpts{})
		op := map[string]string{"Authorization": "Bearer " + s.Operator}
		s.Run(t, []apitest.Scenario{
			{Name: "Healthz", Method: "GET", URL: "/healthz", Status: 200},
			{Name: "Readyz", Method: "GET", URL: "/readyz", Status: 200},
			{Name: "Unauthenticated", Method: "GET", URL: "/v1/tenants", Status: 401, Contains: []string{`"code":"unauthenticated"`}},
			{Name: "Operator", Method: "GET", URL: "/v1/tenants", Headers: op, Status: 200,
				Contains: []string{`"data":[]`}, NotContains: []string{s.Operator}},
			{Name: "IssuerIsTheAddress", Method: "GET", URL: "/.well-known/oauth-authorization-server", Status: 200,
				Contains: []string{`"issuer":"` + s.URL + `"`, `"token_endpoint":"` + s.URL + `/oauth2/token"`}},
			{Name: "YAXI", Method: "GET", URL: "/api/tenant/api-keys", Headers: op, Status: 400, Contains: []string{"tenant_required"}},
			{Name: "Cycle", Method: "GET", URL: "/v1/hubs/current/api-keys", Headers: op, Status: 422, Contains: []string{"422.missing-argument"}},
			{Name: "Yativo", Method: "GET", URL: "/api/business/api-keys", Headers: op, Status: 400, Contains: []string{`"status":"error"`}},
		})
	})
	t.Run("FromEnvironment", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, serveOpts{env: []string{"KEYHUB_COMPAT=none", "KEYHUB_ISSUER=https://keys.example.com"}})
		op := map[string]string{"Authorization": "Bearer " + s.Operator}
		s.Run(t, []apitest.Scenario{
			{Name: "Native", Method: "GET", URL: "/v1/tenants", Headers: op, Status: 200},
			{Name: "Issuer", Method: "GET", URL: "/.well-known/oauth-authorization-server", Status: 200,
				Contains: []string{`"issuer":"https://keys.example.com"`}, NotContains: []string{s.URL}},
			{Name: "NoYAXI", Method: "GET", URL: "/api/tenant/api-keys", Headers: op, Status: 404},
			{Name: "NoCycle", Method: "GET", URL: "/v1/hubs/current/api-keys", Headers: op, Status: 404},
			{Name: "NoYativo", Method: "GET", URL: "/api/business/api-keys", Headers: op, Status: 404},
		})
	})
}
