package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyhub/keyhub/internal/apitest"
)

var yaxiScopes = "read:api_keys create:api_keys delete:api_keys"

// TestYAXITokenRequest replays the YAXI document's token request exactly:
// client_secret_post, audience=hub:api, three scopes.
func TestYAXITokenRequest(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid := s.Tenant("acme", nil)
		id, secret := s.OAuthClient(tid, map[string]any{"name": "yaxi", "scopes": strings.Fields(yaxiScopes), "audiences": []string{"hub:api"}})
		r := s.Form("/oauth2/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret},
			"audience": {"hub:api"}, "scope": {yaxiScopes},
		}, "", "")
		if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("token: %d %v %s", r.Status, r.Header, r.Body)
		}
		var tok map[string]any
		json.Unmarshal(r.Body, &tok)
		if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(86400) || tok["scope"] != yaxiScopes || !strings.HasPrefix(tok["access_token"].(string), "eyJ") {
			t.Fatalf("answer %v", tok)
		}
		bearer := tok["access_token"].(string)
		// The token reaches the management API of its tenant, with its scopes.
		s.Native(200, "GET", "/v1/api-keys", bearer, "", nil)
		created := s.Native(201, "POST", "/v1/api-keys", bearer, "", map[string]any{"name": "by-token", "scopes": []string{"read:api_keys"}})
		if created["creator"].(map[string]any)["type"] != "client" || created["tenant_id"] != tid {
			t.Fatalf("created %v", created)
		}
		r2 := s.Do("PATCH", "/v1/api-keys/"+created["id"].(string), map[string]any{"name": "x"}, apitest.Auth(bearer, "")...)
		if r2.Status != 403 || !strings.Contains(r2.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
			!strings.Contains(r2.Header.Get("WWW-Authenticate"), `scope="update:api_keys"`) {
			t.Fatalf("missing scope: %d %v %s", r2.Status, r2.Header, r2.Body)
		}
		// The document's curl command, as written but for the URL.
		if curl, err := exec.LookPath("curl"); err == nil {
			out, err := exec.Command(curl, "-s", "-X", "POST", s.URL+"/oauth2/token",
				"-H", "Content-Type: application/x-www-form-urlencoded",
				"--data-urlencode", "grant_type=client_credentials",
				"--data-urlencode", "client_id="+id,
				"--data-urlencode", "client_secret="+secret,
				"--data-urlencode", "audience=hub:api",
				"--data-urlencode", "scope="+yaxiScopes).Output()
			if err != nil || !strings.Contains(string(out), `"expires_in":86400`) {
				t.Fatalf("curl: %v %s", err, out)
			}
		}
	})
}

// TestClientCredentialsLibrary drives the grant with golang.org/x/oauth2 and
// checks the token with lestrrat-go/jwx against the published JWKS: two
// implementations nobody here wrote.
func TestClientCredentialsLibrary(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid := s.Tenant("acme", nil)
	id, secret := s.OAuthClient(tid, map[string]any{"name": "svc", "scopes": []string{"read:api_keys", "payouts:*"}, "audiences": []string{"hub:api", "payments"}, "token_ttl": "1h"})
	meta := s.Native(200, "GET", "/.well-known/oauth-authorization-server", "", "", nil)
	if meta["token_endpoint"] != s.URL+"/oauth2/token" || meta["issuer"] != s.URL || meta["jwks_uri"] != s.URL+"/.well-known/jwks.json" {
		t.Fatalf("metadata %v", meta)
	}
	ctx := context.Background()
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: meta["token_endpoint"].(string),
			Scopes: []string{"payouts:write"}, EndpointParams: url.Values{"resource": {"payments"}}, AuthStyle: style}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 59*time.Minute || time.Until(tok.Expiry) > time.Hour+time.Minute {
			t.Fatalf("token %+v", tok)
		}
		set, err := jwk.Fetch(ctx, meta["jwks_uri"].(string))
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := jwt.Parse([]byte(tok.AccessToken), jwt.WithKeySet(set), jwt.WithIssuer(s.URL), jwt.WithAudience("payments"))
		if err != nil {
			t.Fatalf("jwx rejects the token: %v", err)
		}
		var scope, clientID, tenant string
		parsed.Get("scope", &scope)
		parsed.Get("client_id", &clientID)
		parsed.Get("tenant_id", &tenant)
		sub, _ := parsed.Subject()
		jti, _ := parsed.JwtID()
		if scope != "payouts:write" || clientID != id || sub != id || tenant != tid || jti == "" {
			t.Fatalf("claims scope=%q client_id=%q sub=%q tenant=%q jti=%q", scope, clientID, sub, tenant, jti)
		}
		hdr := jwtHeader(t, tok.AccessToken)
		if hdr["typ"] != "at+jwt" || hdr["alg"] != "ES256" || hdr["kid"] == "" {
			t.Fatalf("header %v", hdr)
		}
		// A token for another audience does not reach the management API.
		if r := s.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok.AccessToken, "")...); r.Status != 401 || r.Object(t)["code"] != "invalid_token" {
			t.Fatalf("payments token on management API: %d %s", r.Status, r.Body)
		}
	}
	if r := s.Do("GET", "/.well-known/jwks.json", nil); r.Header.Get("Cache-Control") == "" {
		t.Fatal("JWKS without Cache-Control")
	}
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	json.Unmarshal(raw, &h)
	return h
}

func TestTokenErrors(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid := s.Tenant("acme", nil)
	id, secret := s.OAuthClient(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}, "audiences": []string{"hub:api"}})
	grant := func(extra url.Values) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	cases := []struct {
		name          string
		form          url.Values
		basicID, pass string
		status        int
		code          string
		challenge     string
	}{
		{"WrongSecretBasic", grant(nil), id, "nope", 401, "invalid_client", "Basic"},
		{"WrongSecretPost", grant(url.Values{"client_id": {id}, "client_secret": {"nope"}}), "", "", 401, "invalid_client", ""},
		{"UnknownClient", grant(nil), "cli_01J00000000000000000000000", secret, 401, "invalid_client", "Basic"},
		{"NoClientAuth", grant(nil), "", "", 401, "invalid_client", ""},
		{"ScopeNotAllowed", grant(url.Values{"scope": {"read:api_keys delete:api_keys"}}), id, secret, 400, "invalid_scope", ""},
		{"ScopeMalformed", grant(url.Values{"scope": {"a::b"}}), id, secret, 400, "invalid_scope", ""},
		{"AudienceNotAllowed", grant(url.Values{"audience": {"billing"}}), id, secret, 400, "invalid_target", ""},
		{"ResourceNotAllowed", grant(url.Values{"resource": {"https://other.example"}}), id, secret, 400, "invalid_target", ""},
		{"PasswordGrant", url.Values{"grant_type": {"password"}}, id, secret, 400, "unsupported_grant_type", ""},
		{"NoGrantType", url.Values{}, id, secret, 400, "invalid_request", ""},
		{"RepeatedParameter", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, id, secret, 400, "invalid_request", ""},
	}
	var scenarios []apitest.Scenario
	for _, c := range cases {
		sc := apitest.Scenario{Name: c.name, Method: "POST", URL: "/oauth2/token", Body: c.form.Encode(),
			Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			Status:  c.status, NotContains: []string{secret},
			Check: func(t *testing.T, r apitest.Resp) {
				var e map[string]any
				json.Unmarshal(r.Body, &e)
				if e["error"] != c.code || r.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
				}
				if c.challenge != "" && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), c.challenge) {
					t.Fatalf("challenge %q", r.Header.Get("WWW-Authenticate"))
				}
			}}
		if c.basicID != "" {
			sc.Headers["Authorization"] = apitest.Basic(c.basicID, c.pass)
		}
		scenarios = append(scenarios, sc)
	}
	// A JSON body is not a token request.
	scenarios = append(scenarios, apitest.Scenario{Name: "JSONBody", Method: "POST", URL: "/oauth2/token",
		Body: `{"grant_type":"client_credentials"}`, Status: 400, Contains: []string{"invalid_request"}})
	s.Run(t, scenarios)
}

func TestTokenThrottle(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid := s.Tenant("acme", nil)
	id, secret := s.OAuthClient(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})
	g := url.Values{"grant_type": {"client_credentials"}}
	for i := range 10 {
		if r := s.Form("/oauth2/token", g, id, "wrong"); r.Status != 401 {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	// Even the right secret is not checked now: guessing costs time.
	r := s.Form("/oauth2/token", g, id, secret)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 10 failures: %d %v %s", r.Status, r.Header, r.Body)
	}
}

func TestRevokeIntrospectRotate(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid, other := s.Tenant("acme", nil), s.Tenant("other", nil)
		id, secret := s.OAuthClient(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})
		tok := s.Token(id, secret, nil)
		_, key := s.Key(tid, map[string]any{"name": "k", "scopes": []string{"payouts:write"}})
		_, theirs := s.Key(other, map[string]any{"name": "k"})
		introspect := func(tok string) map[string]any {
			r := s.Form("/oauth2/introspect", url.Values{"token": {tok}}, id, secret)
			if r.Status != 200 {
				t.Fatalf("introspect: %d %s", r.Status, r.Body)
			}
			return r.Object(t)
		}
		if got := introspect(tok); got["active"] != true || got["client_id"] != id || got["tenant_id"] != tid || got["scope"] != "read:api_keys" {
			t.Fatalf("introspect token: %v", got)
		}
		if got := introspect(key); got["active"] != true || got["scope"] != "payouts:write" || got["token_type"] != "api_key" {
			t.Fatalf("introspect key: %v", got)
		}
		if got := introspect(theirs); got["active"] != false || len(got) != 1 {
			t.Fatalf("another tenant's key: %v", got)
		}
		// A bearer credential needs verify:api_keys to introspect.
		_, verifier := s.Key(tid, map[string]any{"name": "v", "scopes": []string{"verify:api_keys"}})
		form := url.Values{"token": {key}}.Encode()
		formType := "Content-Type: application/x-www-form-urlencoded"
		s.Must(200, "POST", "/oauth2/introspect", form, formType, "Authorization: Bearer "+verifier)
		r := s.Do("POST", "/oauth2/introspect", form, formType, "Authorization: Bearer "+key)
		if r.Status != 403 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Fatalf("introspection without verify:api_keys: %d %v", r.Status, r.Header)
		}

		// Revocation: the client revokes its token; it stops everywhere.
		s.Native(200, "GET", "/v1/api-keys", tok, "", nil)
		if r := s.Form("/oauth2/revoke", url.Values{"token": {tok}}, id, secret); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := s.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok, "")...); r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("revoked token: %d %s", r.Status, r.Body)
		}
		if got := introspect(tok); got["active"] != false {
			t.Fatalf("introspect revoked: %v", got)
		}
		if r := s.Form("/oauth2/revoke", url.Values{"token": {"garbage"}}, id, secret); r.Status != 200 {
			t.Fatalf("revoking garbage must answer 200: %d", r.Status)
		}

		// Secret rotation with a grace period: both secrets work, and so do
		// the tokens issued before. Without grace the old secret and every
		// token issued before stop at once; tokens of a deleted client too.
		rot := s.Native(200, "POST", "/v1/clients/"+id+"/rotate-secret", s.Operator, tid, map[string]any{"grace_period": "1h"})
		newSecret := rot["client_secret"].(string)
		s.Token(id, secret, nil)
		tok2 := s.Token(id, newSecret, nil)
		s.Native(200, "GET", "/v1/api-keys", tok2, "", nil)
		rot = s.Native(200, "POST", "/v1/clients/"+id+"/rotate-secret", s.Operator, tid, nil)
		if r := s.Form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, newSecret); r.Status != 401 {
			t.Fatalf("secret after rotation without grace: %d", r.Status)
		}
		if r := s.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok2, "")...); r.Status != 401 {
			t.Fatalf("token issued before a rotation without grace: %d", r.Status)
		}
		tok3 := s.Token(id, rot["client_secret"].(string), nil)
		s.Native(200, "GET", "/v1/api-keys", tok3, "", nil)
		s.Native(204, "DELETE", "/v1/clients/"+id, s.Operator, tid, nil)
		if r := s.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok3, "")...); r.Status != 401 {
			t.Fatalf("token of a deleted client: %d", r.Status)
		}
	})
}

func TestSigningKeyRotation(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid := s.Tenant("acme", nil)
	id, secret := s.OAuthClient(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})
	old := s.Token(id, secret, nil)
	rot := s.Native(200, "POST", "/v1/signing-keys/rotate", s.Operator, "", nil)
	fresh := s.Token(id, secret, nil)
	if jwtHeader(t, fresh)["kid"] != rot["kid"] || jwtHeader(t, old)["kid"] == rot["kid"] {
		t.Fatalf("kids: old %v new %v rotated %v", jwtHeader(t, old)["kid"], jwtHeader(t, fresh)["kid"], rot["kid"])
	}
	set, err := jwk.Fetch(context.Background(), s.URL+"/.well-known/jwks.json")
	if err != nil || set.Len() != 2 {
		t.Fatalf("JWKS after rotation: %v keys, %v", set.Len(), err)
	}
	for _, tok := range []string{old, fresh} {
		s.Native(200, "GET", "/v1/api-keys", tok, "", nil)
		if _, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set)); err != nil {
			t.Fatal(err)
		}
	}
	// Tenants cannot rotate keyhub's signing key.
	_, mgr := s.Key(tid, map[string]any{"name": "m", "scopes": []string{"*"}})
	if r := s.Do("POST", "/v1/signing-keys/rotate", nil, apitest.Auth(mgr, "")...); r.Status != 403 {
		t.Fatalf("tenant rotating: %d", r.Status)
	}
}
