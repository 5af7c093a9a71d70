package e2e

import (
	"net/url"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestChallenges holds every surface to RFC 6750 §3 and RFC 6749 §5.2:
// a 401 without a credential has the bare Bearer challenge, a 401 for a
// bad one names error="invalid_token", a 403 for a missing scope names
// error="insufficient_scope" and the scope, and invalid_client at the OAuth
// endpoints challenges with Basic, whatever the client tried.
func TestChallenges(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tenant := s.Tenant("acme", nil)
	_, narrow := s.Key(tenant, map[string]any{"name": "reader", "scopes": []string{"read:api_keys"}})
	cid, csecret := s.OAuthClient(tenant, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})

	// One write per surface that needs create:api_keys, and the headers
	// that name the tenant where the surface needs them.
	writes := []struct {
		surface, path, body string
		extra               []string
	}{
		{"native", "/v1/api-keys", `{"name":"x"}`, nil},
		{"yaxi", "/api/api-keys", `{"name":"x"}`, nil},
		{"cycle", "/v1/hubs/current/api-keys", `{"name":"x","role_id":"role_01HX9KZMB3F7VNQP8R2WDGT4E6"}`, []string{"X-Hub-Id: " + tenant}},
		{"yativo", "/api/business/api-keys", `{"name":"x"}`, nil},
		{"yativo v1", "/api/v1/business/api-keys", `{"name":"x"}`, nil},
	}
	for _, w := range writes {
		t.Run(w.surface, func(t *testing.T) {
			check := func(what string, r apitest.Resp, status int, challenge string) {
				t.Helper()
				if r.Status != status || r.Header.Get("WWW-Authenticate") != challenge {
					t.Errorf("%s: %d WWW-Authenticate %q, want %d %q: %s", what, r.Status,
						r.Header.Get("WWW-Authenticate"), status, challenge, r.Body)
				}
			}
			check("no credential", s.Do("POST", w.path, w.body, w.extra...), 401, `Bearer realm="keyhub"`)
			check("bad credential", s.Do("POST", w.path, w.body, append([]string{"Authorization: Bearer kh_live_nope"}, w.extra...)...),
				401, `Bearer realm="keyhub", error="invalid_token"`)
			check("forged token", s.Do("POST", w.path, w.body, append([]string{"Authorization: Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.AAAA"}, w.extra...)...),
				401, `Bearer realm="keyhub", error="invalid_token"`)
			check("narrow key", s.Do("POST", w.path, w.body, append([]string{"Authorization: Bearer " + narrow}, w.extra...)...),
				403, `Bearer realm="keyhub", error="insufficient_scope", scope="create:api_keys"`)
		})
	}

	t.Run("oauth", func(t *testing.T) {
		grant := url.Values{"grant_type": {"client_credentials"}}
		basic := func(r apitest.Resp, what string) {
			t.Helper()
			if r.Status != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") ||
				!strings.Contains(string(r.Body), `"invalid_client"`) {
				t.Errorf("%s: %d WWW-Authenticate %q: %s", what, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
			}
		}
		form := "application/x-www-form-urlencoded"
		for _, path := range []string{"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"} {
			body := grant.Encode() + "&token=x"
			basic(s.Form(path, grant, cid, "wrong"), path+" Basic with a wrong secret")
			basic(s.Do("POST", path, body, "Content-Type: "+form, "Authorization: Basic !!!not-base64"), path+" malformed Basic")
			basic(s.Do("POST", path, body+"&client_id="+cid+"&client_secret=wrong", "Content-Type: "+form), path+" form with a wrong secret")
			basic(s.Do("POST", path, body, "Content-Type: "+form), path+" no client authentication")
		}
		if tok := s.Token(cid, csecret, nil); tok == "" {
			t.Fatal("no token")
		}
	})
}
