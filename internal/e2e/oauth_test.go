package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// client creates an OAuth client in tenant and returns its id and secret.
func (s *server) client(tenant string, body map[string]any) (string, string) {
	s.t.Helper()
	c := s.must(201, "POST", "/v1/clients", s.Key, tenant, body)
	return c["client_id"].(string), c["client_secret"].(string)
}

// form posts an OAuth form, optionally with HTTP Basic client auth.
func (s *server) form(path string, v url.Values, basicID, basicSecret string) resp {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: body}
}

var yaxiScopes = "read:api_keys create:api_keys delete:api_keys"

// TestYAXITokenRequest replays the YAXI document's token request exactly:
// client_secret_post, audience=hub:api, three scopes.
func TestYAXITokenRequest(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		s := start(t, dsn)
		tid := s.tenant("acme")
		id, secret := s.client(tid, map[string]any{"name": "yaxi", "scopes": strings.Fields(yaxiScopes), "audiences": []string{"hub:api"}})
		r := s.form("/oauth2/token", url.Values{
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
		s.must(200, "GET", "/v1/api-keys", bearer, "", nil)
		created := s.must(201, "POST", "/v1/api-keys", bearer, "", map[string]any{"name": "by-token", "scopes": []string{"read:api_keys"}})
		if created["creator"].(map[string]any)["type"] != "client" || created["tenant_id"] != tid {
			t.Fatalf("created %v", created)
		}
		r2 := s.call("PATCH", "/v1/api-keys/"+created["id"].(string), bearer, "", map[string]any{"name": "x"})
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
	s := start(t, "sqlite:"+t.TempDir()+"/k.db")
	tid := s.tenant("acme")
	id, secret := s.client(tid, map[string]any{"name": "svc", "scopes": []string{"read:api_keys", "payouts:*"}, "audiences": []string{"hub:api", "payments"}, "token_ttl": "1h"})
	meta := s.must(200, "GET", "/.well-known/oauth-authorization-server", "", "", nil)
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
		if r := s.call("GET", "/v1/api-keys", tok.AccessToken, "", nil); r.Status != 401 || r.json(t)["code"] != "invalid_token" {
			t.Fatalf("payments token on management API: %d %s", r.Status, r.Body)
		}
	}
	if r := s.call("GET", "/.well-known/jwks.json", "", "", nil); r.Header.Get("Cache-Control") == "" {
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
	s := start(t, "sqlite:"+t.TempDir()+"/k.db")
	tid := s.tenant("acme")
	id, secret := s.client(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}, "audiences": []string{"hub:api"}})
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
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.form("/oauth2/token", c.form, c.basicID, c.pass)
			var e map[string]any
			json.Unmarshal(r.Body, &e)
			if r.Status != c.status || e["error"] != c.code || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
			}
			if c.challenge != "" && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), c.challenge) {
				t.Fatalf("challenge %q", r.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(string(r.Body), secret) {
				t.Fatal("secret echoed")
			}
		})
	}
	// A JSON body is not a token request.
	r := s.call("POST", "/oauth2/token", "", "", `{"grant_type":"client_credentials"}`)
	if r.Status != 400 || !strings.Contains(string(r.Body), "invalid_request") {
		t.Fatalf("json body: %d %s", r.Status, r.Body)
	}
}

func TestTokenThrottle(t *testing.T) {
	s := start(t, "sqlite:"+t.TempDir()+"/k.db")
	tid := s.tenant("acme")
	id, secret := s.client(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})
	g := url.Values{"grant_type": {"client_credentials"}}
	for i := range 10 {
		if r := s.form("/oauth2/token", g, id, "wrong"); r.Status != 401 {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	// Even the right secret is not checked now: guessing costs time.
	r := s.form("/oauth2/token", g, id, secret)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 10 failures: %d %v %s", r.Status, r.Header, r.Body)
	}
}

func TestRevokeIntrospectRotate(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		s := start(t, dsn)
		tid, other := s.tenant("acme"), s.tenant("other")
		id, secret := s.client(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})
		token := func(id, secret string) string {
			r := s.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, secret)
			if r.Status != 200 {
				t.Fatalf("token: %d %s", r.Status, r.Body)
			}
			return r.json(t)["access_token"].(string)
		}
		tok := token(id, secret)
		_, key := s.key(tid, map[string]any{"name": "k", "scopes": []string{"payouts:write"}})
		_, theirs := s.key(other, map[string]any{"name": "k"})
		introspect := func(tok string) map[string]any {
			r := s.form("/oauth2/introspect", url.Values{"token": {tok}}, id, secret)
			if r.Status != 200 {
				t.Fatalf("introspect: %d %s", r.Status, r.Body)
			}
			return r.json(t)
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
		_, verifier := s.key(tid, map[string]any{"name": "v", "scopes": []string{"verify:api_keys"}})
		req, _ := http.NewRequest("POST", s.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {key}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+verifier)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("bearer introspection: %v %v", err, res)
		}
		res.Body.Close()
		req, _ = http.NewRequest("POST", s.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {key}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+key)
		res, _ = http.DefaultClient.Do(req)
		if res.StatusCode != 403 || !strings.Contains(res.Header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Fatalf("introspection without verify:api_keys: %d %v", res.StatusCode, res.Header)
		}
		res.Body.Close()

		// Revocation: the client revokes its token; it stops everywhere.
		s.must(200, "GET", "/v1/api-keys", tok, "", nil)
		if r := s.form("/oauth2/revoke", url.Values{"token": {tok}}, id, secret); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := s.call("GET", "/v1/api-keys", tok, "", nil); r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("revoked token: %d %s", r.Status, r.Body)
		}
		if got := introspect(tok); got["active"] != false {
			t.Fatalf("introspect revoked: %v", got)
		}
		if r := s.form("/oauth2/revoke", url.Values{"token": {"garbage"}}, id, secret); r.Status != 200 {
			t.Fatalf("revoking garbage must answer 200: %d", r.Status)
		}

		// Secret rotation with a grace period: both secrets work, then the
		// new one alone; tokens of a deleted client stop at once.
		rot := s.must(200, "POST", "/v1/clients/"+id+"/rotate-secret", s.Key, tid, map[string]any{"grace_period": "1h"})
		newSecret := rot["client_secret"].(string)
		token(id, secret)
		tok2 := token(id, newSecret)
		s.must(200, "POST", "/v1/clients/"+id+"/rotate-secret", s.Key, tid, nil)
		if r := s.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, newSecret); r.Status != 401 {
			t.Fatalf("secret after rotation without grace: %d", r.Status)
		}
		s.must(200, "GET", "/v1/api-keys", tok2, "", nil)
		s.must(204, "DELETE", "/v1/clients/"+id, s.Key, tid, nil)
		if r := s.call("GET", "/v1/api-keys", tok2, "", nil); r.Status != 401 {
			t.Fatalf("token of a deleted client: %d", r.Status)
		}
	})
}

func TestSigningKeyRotation(t *testing.T) {
	s := start(t, "sqlite:"+t.TempDir()+"/k.db")
	tid := s.tenant("acme")
	id, secret := s.client(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys"}})
	get := func() string {
		return s.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, secret).json(t)["access_token"].(string)
	}
	old := get()
	rot := s.must(200, "POST", "/v1/signing-keys/rotate", s.Key, "", nil)
	fresh := get()
	if jwtHeader(t, fresh)["kid"] != rot["kid"] || jwtHeader(t, old)["kid"] == rot["kid"] {
		t.Fatalf("kids: old %v new %v rotated %v", jwtHeader(t, old)["kid"], jwtHeader(t, fresh)["kid"], rot["kid"])
	}
	set, err := jwk.Fetch(context.Background(), s.URL+"/.well-known/jwks.json")
	if err != nil || set.Len() != 2 {
		t.Fatalf("JWKS after rotation: %v keys, %v", set.Len(), err)
	}
	for _, tok := range []string{old, fresh} {
		s.must(200, "GET", "/v1/api-keys", tok, "", nil)
		if _, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set)); err != nil {
			t.Fatal(err)
		}
	}
	// Tenants cannot rotate keyhub's signing key.
	_, mgr := s.key(tid, map[string]any{"name": "m", "scopes": []string{"*"}})
	if r := s.call("POST", "/v1/signing-keys/rotate", mgr, "", nil); r.Status != 403 {
		t.Fatalf("tenant rotating: %d", r.Status)
	}
}
