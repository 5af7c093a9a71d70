package client_test

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/client"
)

// The example talks to a real keyhub named by KEYHUB_URL, with a verifier
// key (verify:api_keys) in KEYHUB_VERIFIER_KEY and a tenant key named
// "backend" holding payouts:write in KEYHUB_EXAMPLE_KEY. This module cannot
// build the server, so the server module's internal/e2e runs the example
// against one it starts; without KEYHUB_URL only the tests run.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv("KEYHUB_URL") == "" && flag.Lookup("test.run").Value.String() == "" {
		_ = flag.Set("test.run", "^(Test|Fuzz)")
	}
	os.Exit(m.Run())
}

// A payouts API that lets through only keys keyhub verifies, and only keys
// holding payouts:write to POST /payouts.
func ExampleMiddleware() {
	kh := client.New(os.Getenv("KEYHUB_URL"), os.Getenv("KEYHUB_VERIFIER_KEY"))
	protect := client.Middleware(client.MiddlewareOptions{
		Client: kh,
		// Each key is asked about at most every 5s: a revoked key still
		// passes here for up to 5s.
		CacheTTL: 5 * time.Second,
	})
	mux := http.NewServeMux()
	mux.Handle("POST /payouts", client.RequireScopes("payouts:write")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			k, _ := client.KeyFromContext(r.Context())
			fmt.Fprintf(w, "payout by %s", k.Name)
		})))
	mux.Handle("POST /refunds", client.RequireScopes("refunds:write")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "refunded") })))
	api := httptest.NewServer(protect(mux))
	defer api.Close()

	for _, call := range []struct{ path, key string }{
		{"/payouts", os.Getenv("KEYHUB_EXAMPLE_KEY")},
		{"/refunds", os.Getenv("KEYHUB_EXAMPLE_KEY")},
		{"/payouts", "kh_live_notakey"},
	} {
		req, _ := http.NewRequest("POST", api.URL+call.path, nil)
		req.Header.Set("X-Api-Key", call.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(call.path, " ", resp.StatusCode, " ", resp.Header.Get("WWW-Authenticate"))))
	}
	// Output:
	// /payouts 200
	// /refunds 403 Bearer error="insufficient_scope", scope="refunds:write"
	// /payouts 401 Bearer error="invalid_token"
}
