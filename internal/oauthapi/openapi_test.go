package oauthapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/openapitest"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/verify"
)

// The tests below hold the OAuth part of the native API's OpenAPI document
// (internal/httpapi/openapi.json) to this package: the answer types, and
// the members the handlers really write. httpapi's own tests check the
// routes; the types here are unexported, so their schemas are checked here.

// schemaOf returns components.schemas[name] of the embedded document.
func schemaOf(t *testing.T, name string) map[string]any {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	s, ok := doc.Components.Schemas[name]
	if !ok {
		t.Fatalf("openapi.json has no schema %s", name)
	}
	return s
}

// properties returns the property names and the required members of an
// object schema, sorted.
func properties(t *testing.T, name string) (props, required []string) {
	t.Helper()
	s := schemaOf(t, name)
	p, _ := s["properties"].(map[string]any)
	for k := range p {
		props = append(props, k)
	}
	r, _ := s["required"].([]any)
	for _, k := range r {
		required = append(required, k.(string))
	}
	sort.Strings(props)
	sort.Strings(required)
	return props, required
}

// jsonFields returns the JSON member names of struct type typ and those
// always encoded (no omitempty), sorted.
func jsonFields(typ reflect.Type) (names, always []string) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
			always = append(always, name)
		}
	}
	sort.Strings(names)
	sort.Strings(always)
	return names, always
}

// TestOpenAPIAnswerTypes checks that the schemas of the token answer and of
// the error answer have exactly the members of tokenResponse and
// oauthError, and require exactly those always written.
func TestOpenAPIAnswerTypes(t *testing.T) {
	for name, typ := range map[string]reflect.Type{
		"OAuthTokenResponse": reflect.TypeFor[tokenResponse](),
		"OAuthError":         reflect.TypeFor[oauthError](),
	} {
		props, required := properties(t, name)
		fields, always := jsonFields(typ)
		if !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v; %v encodes %v", name, props, typ, fields)
		}
		if !slices.Equal(required, always) {
			t.Errorf("schema %s requires %v; %v always encodes %v", name, required, typ, always)
		}
	}
}

// oauthFixture serves the OAuth endpoints over a real service with a
// tenant, a client for the management audience, and an API key.
type oauthFixture struct {
	srv          *httptest.Server
	clientID     string
	clientSecret string
	apiKey       string
}

func newOAuthFixture(t *testing.T) *oauthFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const issuer = "http://keyhub.test"
	keys := oauth.NewKeys(st, oauth.KeysConfig{Issuer: issuer, Master: make([]byte, 32), Log: slog.New(slog.DiscardHandler)})
	if err := keys.Load(ctx); err != nil {
		t.Fatal(err)
	}
	ver := verify.New(st, verify.Config{})
	t.Cleanup(ver.Close)
	auth := authn.New(st, ver, authn.WithTokens(issuer, keys, oauth.NewDenyList(st, nil)))
	svc := service.New(verify.NewStore(st, ver, auth))
	op := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_test"}, Operator: true, Scopes: []string{"*"}}}
	ten, err := svc.CreateTenant(ctx, op, service.TenantCreate{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	op.TenantID = ten.ID
	cl, secret, err := svc.CreateClient(ctx, op, service.ClientCreate{Name: "hub-automation",
		Scopes: []string{"read:api_keys", "create:api_keys", "delete:api_keys"}, Audiences: []string{"hub:api"}})
	if err != nil {
		t.Fatal(err)
	}
	_, apiKey, err := svc.CreateKey(ctx, op, service.KeyCreate{Name: "k", Environment: "test", Scopes: []string{"labs:read"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(auth, slog.New(slog.DiscardHandler)).WithConfig(Config{Issuer: issuer, JWKS: keys.JWKS}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &oauthFixture{srv: srv, clientID: cl.ID, clientSecret: secret, apiKey: apiKey}
}

// post sends a form, with HTTP Basic client credentials when basic is set.
func (f *oauthFixture) post(t *testing.T, path string, form url.Values, basic bool) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(f.clientID), url.QueryEscape(f.clientSecret))
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil && resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d with a body that is not JSON: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, body
}

// checkMembers checks an answer against a schema of the native document.
func checkMembers(t *testing.T, where, schema string, body map[string]any) {
	t.Helper()
	openapitest.CheckMembers(t, openapitest.Parse(t, httpapi.OpenAPIDocument()), where, schema, body)
}

// TestOpenAPIAnswers runs the documented requests, starting with the YAXI
// document's token request of the token endpoint's example, and checks
// each answer against its schema.
func TestOpenAPIAnswers(t *testing.T) {
	f := newOAuthFixture(t)

	// The YAXI document's request, with client_secret_post.
	resp, tok := f.post(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {f.clientID},
		"client_secret": {f.clientSecret}, "audience": {"hub:api"}, "scope": {"read:api_keys create:api_keys delete:api_keys"}}, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	checkMembers(t, "token", "OAuthTokenResponse", tok)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token: Cache-Control %q, want no-store", cc)
	}
	access, _ := tok["access_token"].(string)

	resp, intro := f.post(t, "/oauth2/introspect", url.Values{"token": {access}}, true)
	if resp.StatusCode != http.StatusOK || intro["active"] != true || intro["token_type"] != "Bearer" {
		t.Fatalf("introspect access token: %d %v", resp.StatusCode, intro)
	}
	checkMembers(t, "introspect (access token)", "OAuthIntrospection", intro)

	resp, intro = f.post(t, "/oauth2/introspect", url.Values{"token": {f.apiKey}, "client_id": {f.clientID},
		"client_secret": {f.clientSecret}}, false)
	if resp.StatusCode != http.StatusOK || intro["active"] != true || intro["token_type"] != "api_key" {
		t.Fatalf("introspect API key: %d %v", resp.StatusCode, intro)
	}
	checkMembers(t, "introspect (API key)", "OAuthIntrospection", intro)

	resp, intro = f.post(t, "/oauth2/introspect", url.Values{"token": {"not-a-token"}}, true)
	if resp.StatusCode != http.StatusOK || !reflect.DeepEqual(intro, map[string]any{"active": false}) {
		t.Errorf("introspect unknown token: %d %v, want {\"active\": false}", resp.StatusCode, intro)
	}

	resp, _ = f.post(t, "/oauth2/revoke", url.Values{"token": {access}}, true)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("revoke: %d, want 200", resp.StatusCode)
	}

	f.clientSecret = "wrong"
	resp, e := f.post(t, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, true)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("token with a wrong secret: %d, WWW-Authenticate %q; want 401 Basic", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	checkMembers(t, "token error", "OAuthError", e)
	enum, _ := schemaOf(t, "OAuthError")["properties"].(map[string]any)["error"].(map[string]any)["enum"].([]any)
	if !slices.Contains(enum, e["error"]) {
		t.Errorf("error code %v is not in the OAuthError enum %v", e["error"], enum)
	}

	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/.well-known/oauth-authorization-server", nil)
	resp, meta := do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata: %d", resp.StatusCode)
	}
	props, required := properties(t, "AuthorizationServerMetadata")
	var members []string
	for k := range meta {
		members = append(members, k)
	}
	sort.Strings(members)
	if !slices.Equal(members, props) || !slices.Equal(members, required) {
		t.Errorf("metadata members %v; schema AuthorizationServerMetadata has properties %v, requires %v", members, props, required)
	}

	req, _ = http.NewRequest(http.MethodGet, f.srv.URL+"/.well-known/jwks.json", nil)
	resp, jwks := do(t, req)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/jwk-set+json" {
		t.Fatalf("jwks: %d, Content-Type %q", resp.StatusCode, ct)
	}
	checkMembers(t, "jwks", "JWKSet", jwks)
	list, _ := jwks["keys"].([]any)
	if len(list) == 0 {
		t.Fatal("jwks: no keys")
	}
	for _, k := range list {
		checkMembers(t, "jwks key", "JWK", k.(map[string]any))
	}
}
