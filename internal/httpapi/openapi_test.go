package httpapi

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/oauthapi"
	"github.com/keyhub/keyhub/internal/openapitest"
	"github.com/keyhub/keyhub/internal/service"
)

// The tests below hold the hand-written openapi.json to the code: the routes
// registered in routes() and by the OAuth endpoints (internal/oauthapi), and
// the json tags of every type a request body decodes into or an answer
// encodes from, with the checks of internal/openapitest that every document
// keyhub serves passes.

// openapiSchemas names, for every object schema in the document, the Go type
// it describes; request bodies must refuse unknown fields as decode does.
var openapiSchemas = map[string]openapitest.Type{
	"TenantCreate":        openapitest.TypeOf[service.TenantCreate](true),
	"TenantPatch":         openapitest.TypeOf[service.TenantPatch](true),
	"ScopeCreate":         openapitest.TypeOf[service.ScopeCreate](true),
	"KeyCreate":           openapitest.TypeOf[service.KeyCreate](true),
	"KeyPatch":            openapitest.TypeOf[service.KeyPatch](true),
	"RoleCreate":          openapitest.TypeOf[service.RoleCreate](true),
	"RolePatch":           openapitest.TypeOf[service.RolePatch](true),
	"VerifyRequest":       openapitest.TypeOf[authn.VerifyRequest](true),
	"RotateRequest":       openapitest.TypeOf[service.RotateRequest](true),
	"ClientCreate":        openapitest.TypeOf[service.ClientCreate](true),
	"ClientPatch":         openapitest.TypeOf[service.ClientPatch](true),
	"SecretRotation":      openapitest.TypeOf[service.SecretRotation](true),
	"RevokeRequest":       openapitest.TypeOf[revokeRequest](true),
	"RateLimitInput":      openapitest.TypeOf[service.RateLimitInput](true),
	"CreditsInput":        openapitest.TypeOf[service.CreditsInput](true),
	"CreditsPatch":        openapitest.TypeOf[service.CreditsPatch](true),
	"RefillInput":         openapitest.TypeOf[service.RefillInput](true),
	"LeakReport":          openapitest.TypeOf[service.LeakReport](true),
	"GitHubMatch":         openapitest.TypeOf[githubMatch](true),
	"WebhookCreate":       openapitest.TypeOf[service.WebhookCreate](true),
	"WebhookPatch":        openapitest.TypeOf[service.WebhookPatch](true),
	"MemberCreate":        openapitest.TypeOf[service.MemberCreate](true),
	"MemberPatch":         openapitest.TypeOf[service.MemberPatch](true),
	"PortalUser":          openapitest.TypeOf[service.PortalUser](true),
	"PortalSessionCreate": openapitest.TypeOf[service.PortalSessionCreate](true),

	"Tenant":     openapitest.TypeOf[keyhub.Tenant](false),
	"ScopeEntry": openapitest.TypeOf[keyhub.ScopeEntry](false),
	"Role":       openapitest.TypeOf[keyhub.Role](false),
	"Actor":      openapitest.TypeOf[keyhub.Actor](false),
	"AuditEvent": openapitest.TypeOf[keyhub.AuditEvent](false),
	"Refill":     openapitest.TypeOf[keyhub.Refill](false),
	"FieldError": openapitest.TypeOf[keyhub.FieldError](false),
	// scope and member_count are RFC 9457 extension members the code sets
	// through keyhub.Error.Extra, which no json tag shows.
	"Problem":         openapitest.TypeOf[Problem](false, "scope", "member_count"),
	"KeyView":         openapitest.TypeOf[KeyView](false),
	"RateLimitView":   openapitest.TypeOf[rateLimitView](false),
	"CreditsView":     openapitest.TypeOf[creditsView](false),
	"ClientView":      openapitest.TypeOf[ClientView](false),
	"VerifyAnswer":    openapitest.TypeOf[verifyAnswer](false),
	"TicketRequest":   openapitest.TypeOf[authn.TicketRequest](true),
	"TicketAnswer":    openapitest.TypeOf[ticketAnswer](false),
	"SignRequest":     openapitest.TypeOf[signRequest](true),
	"SignAnswer":      openapitest.TypeOf[signAnswer](false),
	"VerifyKeyInfo":   openapitest.TypeOf[verifyKeyInfo](false),
	"VerifyRole":      openapitest.TypeOf[verifyRole](false),
	"VerifyRateLimit": openapitest.TypeOf[verifyRateLimit](false),
	"VerifyCredits":   openapitest.TypeOf[verifyCredits](false),
	"UsageBucket":     openapitest.TypeOf[service.UsageBucket](false),
	"SigningKey":      openapitest.TypeOf[signingKeyView](false),
	"TenantList":      openapitest.TypeOf[list[*keyhub.Tenant]](false),
	"ScopeList":       openapitest.TypeOf[list[*keyhub.ScopeEntry]](false),
	"RoleList":        openapitest.TypeOf[list[*keyhub.Role]](false),
	"KeyList":         openapitest.TypeOf[list[KeyView]](false),
	"ClientList":      openapitest.TypeOf[list[ClientView]](false),
	"AuditEventList":  openapitest.TypeOf[list[*keyhub.AuditEvent]](false),
	"Leak":            openapitest.TypeOf[service.Leak](false),
	"LeakList":        openapitest.TypeOf[leakList](false),
	"GitHubLabel":     openapitest.TypeOf[githubLabel](false),
	"WebhookView":     openapitest.TypeOf[WebhookView](false),
	"WebhookList":     openapitest.TypeOf[list[WebhookView]](false),
	"Delivery":        openapitest.TypeOf[keyhub.Delivery](false),
	"DeliveryList":    openapitest.TypeOf[list[*keyhub.Delivery]](false),
	"Member":          openapitest.TypeOf[keyhub.Member](false),
	"MemberList":      openapitest.TypeOf[list[*keyhub.Member]](false),
	"PortalLink":      openapitest.TypeOf[service.PortalLink](false),
}

// openapiOtherSchemas are the schemas that describe no Go struct: ids,
// strings with rules, and compositions checked on their own.
var openapiOtherSchemas = []string{"TenantId", "KeyId", "RoleId", "ClientId", "EventId", "MemberId", "Scope", "Duration",
	"KeyState", "KeyKind", "VerifyCode", "KeyWithSecret", "ClientWithSecret", "UsageList",
	"WebhookId", "DeliveryId", "EventType", "WebhookWithSecret",
	// The OAuth endpoints (internal/oauthapi). Their form requests are read
	// parameter by parameter, introspection and metadata answer maps, and
	// the JWK Set is go-jose's: no struct to hold them to.
	// OAuthTokenResponse and OAuthError describe the unexported
	// tokenResponse and oauthError, which internal/oauthapi's own
	// openapi_test.go checks against these schemas (as it does the metadata
	// the handler writes).
	"OAuthTokenRequest", "OAuthIntrospectionRequest", "OAuthRevocationRequest", "OAuthIntrospection",
	"JWKSet", "JWK", "AuthorizationServerMetadata", "OAuthTokenResponse", "OAuthError"}

// loadOpenAPI parses the embedded document.
func loadOpenAPI(t *testing.T) openapitest.Doc { return openapitest.Parse(t, openapiDoc) }

func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	openapitest.CheckDocument(t, doc)
	if s := doc.Obj(t, "components", "securitySchemes", "bearer"); s["type"] != "http" || s["scheme"] != "bearer" {
		t.Errorf("security scheme bearer = %v, want http bearer", s)
	}
	if s := doc.Obj(t, "components", "securitySchemes", "clientBasic"); s["type"] != "http" || s["scheme"] != "basic" {
		t.Errorf("security scheme clientBasic = %v, want http basic", s)
	}
}

// TestOpenAPIRoutes checks that the document and the router (routes() and
// the OAuth endpoints mounted on it) name the same operations, and that each
// path's parameters are the path's wildcards. The compat surfaces have
// documents of their own.
func TestOpenAPIRoutes(t *testing.T) {
	s := New(Services{}, nil)
	oauthapi.New(nil, nil).Mount(s)
	openapitest.CheckRoutes(t, loadOpenAPI(t), s.router.Paths())
}

// TestOpenAPISchemasMatchJSONTags checks that each object schema has exactly
// the members its Go type encodes or decodes, that answers require exactly
// the members always present, and that request bodies refuse unknown
// members.
func TestOpenAPISchemasMatchJSONTags(t *testing.T) {
	openapitest.CheckSchemas(t, loadOpenAPI(t), openapiSchemas, openapiOtherSchemas)
}

// TestOpenAPIKeyView checks the KeyView schema on its own, as it is the
// answer most clients read: same members as the struct, and key (the
// secret) only in the answers to create and rotate.
func TestOpenAPIKeyView(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas := doc.Obj(t, "components", "schemas")
	kv := openapitest.Obj(t, schemas, "KeyView")
	fields, _ := openapitest.JSONFields(reflect.TypeFor[KeyView]())
	var props []string
	for p := range openapitest.Obj(t, kv, "properties") {
		props = append(props, p)
	}
	if d := openapitest.Difference(fields, props); d != nil {
		t.Errorf("KeyView json tags missing from the KeyView schema: %v", d)
	}
	if d := openapitest.Difference(props, fields); d != nil {
		t.Errorf("KeyView schema properties that KeyView lacks: %v", d)
	}
	if slices.Contains(openapitest.StringList(t, "KeyView.required", kv["required"]), "key") {
		t.Error("KeyView schema requires key, which only create and rotate answer")
	}

	for schema, secret := range map[string]string{"KeyWithSecret": "key", "ClientWithSecret": "client_secret"} {
		all, _ := openapitest.Obj(t, schemas, schema)["allOf"].([]any)
		var refs, req []string
		for _, a := range all {
			m, _ := a.(map[string]any)
			if r, ok := m["$ref"].(string); ok {
				refs = append(refs, r)
			}
			req = append(req, openapitest.StringList(t, schema+".allOf.required", m["required"])...)
		}
		base := strings.TrimSuffix(schema, "WithSecret") + "View"
		if !slices.Equal(refs, []string{"#/components/schemas/" + base}) || !slices.Equal(req, []string{secret}) {
			t.Errorf("%s must be allOf [%s, {required: [%s]}]; refs %v, required %v", schema, base, secret, refs, req)
		}
	}

	paths := doc.Obj(t, "paths")
	for _, op := range []string{"/v1/api-keys post", "/v1/api-keys/{id}/rotate post"} {
		path, method, _ := strings.Cut(op, " ")
		ref := openapitest.Obj(t, paths, path, method, "responses", "201", "content", "application/json", "schema")["$ref"]
		if ref != "#/components/schemas/KeyWithSecret" {
			t.Errorf("%s %s answers 201 with %v, want KeyWithSecret", method, path, ref)
		}
	}
}

// oauthOperations are the OAuth 2.0 endpoints that authenticate a client
// (internal/oauthapi). They follow their RFCs rather than the /v1 rules: form
// bodies, client authentication by HTTP Basic (clientBasic) or by form
// fields (the empty requirement {}), RFC 6749 error answers.
var oauthOperations = []string{"POST /oauth2/token", "POST /oauth2/introspect", "POST /oauth2/revoke"}

// TestOpenAPIOperations checks what every operation must say: the scopes it
// needs, and the problem answers every authenticated route can give.
func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	// public operations need no credential; POST /v1/leaks/github is
	// authenticated by GitHub's signature instead.
	public := []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json", "GET /openapi/{document}",
		"GET /.well-known/jwks.json", "GET /.well-known/oauth-authorization-server", "POST /v1/leaks/github"}
	for _, o := range doc.Operations(t) {
		name, op := o.Name, o.Op
		scopes := openapitest.StringList(t, name+".x-required-scopes", op["x-required-scopes"])
		if _, ok := op["x-required-scopes"]; !ok {
			t.Errorf("%s lacks x-required-scopes", name)
		}
		for _, sc := range scopes {
			if !keyhub.IsManagementScope(sc) {
				t.Errorf("%s requires %q, which is not a management scope", name, sc)
			}
		}
		sec, _ := op["security"].([]any)
		if slices.Contains(public, name) {
			if sec == nil || len(sec) != 0 || len(scopes) != 0 {
				t.Errorf("%s needs no credential: want security: [] and x-required-scopes: []", name)
			}
			continue
		}
		if slices.Contains(oauthOperations, name) {
			checkOAuthOperation(t, name, op, sec, scopes)
			continue
		}
		if strings.HasSuffix(name, " /forward-auth") {
			checkForwardAuthOperation(t, name, op, sec, scopes)
			continue
		}
		if len(sec) != 1 {
			t.Errorf("%s: want one security requirement (bearer), have %v", name, op["security"])
			continue
		}
		bearer := openapitest.StringList(t, name+".security.bearer", sec[0].(map[string]any)["bearer"])
		if !slices.Equal(bearer, scopes) {
			t.Errorf("%s: security bearer %v differs from x-required-scopes %v", name, bearer, scopes)
		}
		resp := openapitest.Obj(t, op, "responses")
		want := []string{"400", "401", "403", "404", "default"}
		if _, ok := op["requestBody"]; ok {
			want = append(want, "413", "422")
		}
		for _, code := range want {
			if _, ok := resp[code]; !ok {
				t.Errorf("%s lacks the %s answer", name, code)
			}
		}
	}
}

// checkForwardAuthOperation checks a forward-auth method: a verifier
// credential holding verify:api_keys, or none from a trusted proxy, and
// the answers a proxy passes on.
func checkForwardAuthOperation(t *testing.T, name string, op map[string]any, sec []any, scopes []string) {
	t.Helper()
	if len(sec) != 2 || len(sec[1].(map[string]any)) != 0 {
		t.Errorf("%s: security must be the verifier credential or {} (a trusted proxy), have %v", name, sec)
	} else if _, ok := sec[0].(map[string]any)["verifier"]; !ok {
		t.Errorf("%s: security must be the verifier credential or {} (a trusted proxy), have %v", name, sec)
	}
	if !slices.Equal(scopes, []string{keyhub.ScopeVerifyAPIKeys}) {
		t.Errorf("%s: x-required-scopes %v, want [%s]", name, scopes, keyhub.ScopeVerifyAPIKeys)
	}
	resp := openapitest.Obj(t, op, "responses")
	for _, code := range []string{"200", "401", "403", "429", "default"} {
		if _, ok := resp[code]; !ok {
			t.Errorf("%s lacks the %s answer", name, code)
		}
	}
}

// checkOAuthOperation checks an OAuth endpoint: client authentication by
// Basic or form fields, a bearer alternative only with the scopes in
// x-required-scopes, a form body, and the RFC 6749 error answers.
func checkOAuthOperation(t *testing.T, name string, op map[string]any, sec []any, scopes []string) {
	t.Helper()
	var basic, post bool
	var bearer []string
	for _, r := range sec {
		req, _ := r.(map[string]any)
		if len(req) == 0 {
			post = true
		}
		if _, ok := req["clientBasic"]; ok {
			basic = true
		}
		if _, ok := req["bearer"]; ok {
			bearer = openapitest.StringList(t, name+".security.bearer", req["bearer"])
		}
	}
	if !basic || !post {
		t.Errorf("%s: security must offer clientBasic and {} (client_secret_post), have %v", name, sec)
	}
	if bearer == nil && len(scopes) != 0 {
		t.Errorf("%s: x-required-scopes %v without a bearer alternative", name, scopes)
	}
	if bearer != nil && !slices.Equal(bearer, scopes) {
		t.Errorf("%s: security bearer %v differs from x-required-scopes %v", name, bearer, scopes)
	}
	if _, ok := openapitest.Obj(t, op, "requestBody", "content")["application/x-www-form-urlencoded"]; !ok {
		t.Errorf("%s: the request body must be application/x-www-form-urlencoded", name)
	}
	resp := openapitest.Obj(t, op, "responses")
	for _, code := range []string{"200", "400", "401", "default"} {
		if _, ok := resp[code]; !ok {
			t.Errorf("%s lacks the %s answer", name, code)
		}
	}
	for code, r := range resp {
		if code == "200" {
			continue
		}
		rm, _ := r.(map[string]any)
		if ref, _ := rm["$ref"].(string); ref != "" {
			if !strings.HasPrefix(ref, "#/components/responses/OAuth") {
				t.Errorf("%s answers %s with %s, not an OAuth error", name, code, ref)
			}
			continue
		}
		if s := openapitest.Obj(t, rm, "content", "application/json", "schema")["$ref"]; s != "#/components/schemas/OAuthError" {
			t.Errorf("%s answers %s with %v, want OAuthError", name, code, s)
		}
	}
}

// TestOpenAPITokenExample checks that the token endpoint shows the YAXI Hub
// document's request and answer, which keyhub serves unchanged.
func TestOpenAPITokenExample(t *testing.T) {
	doc := loadOpenAPI(t)
	op := doc.Obj(t, "paths", "/oauth2/token", "post")
	req := openapitest.Obj(t, op, "requestBody", "content", "application/x-www-form-urlencoded", "example")
	// audience may repeat, so it is a list: ["hub:api"] is the form field
	// audience=hub:api of the document's request.
	want := map[string]any{"grant_type": "client_credentials", "client_id": "YOUR_CLIENT_ID", "client_secret": "YOUR_CLIENT_SECRET",
		"audience": []any{"hub:api"}, "scope": "read:api_keys create:api_keys delete:api_keys"}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("token request example = %v, want %v", req, want)
	}
	answer := openapitest.Obj(t, op, "responses", "200", "content", "application/json", "example")
	wantAnswer := map[string]any{"access_token": "eyJhbGci...", "expires_in": float64(86400), "token_type": "Bearer",
		"scope": "read:api_keys create:api_keys delete:api_keys"}
	if !reflect.DeepEqual(answer, wantAnswer) {
		t.Errorf("token answer example = %v, want %v", answer, wantAnswer)
	}
	if d, _ := op["description"].(string); !strings.Contains(d, "curl -X POST") || !strings.Contains(d, "/oauth2/token") {
		t.Error("the token endpoint's description lacks the curl command")
	}
}

func TestOpenAPIServed(t *testing.T) {
	s := New(Services{}, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control = %q, want a max-age", cc)
	}
	if rec.Body.String() != string(openapiDoc) {
		t.Error("GET /openapi.json does not answer the embedded document")
	}
}

func TestSurfaceDocumentsServed(t *testing.T) {
	s := New(Services{}, nil)
	doc := []byte(`{"openapi":"3.1.0"}`)
	s.AddDocument("yaxi.json", doc)
	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/openapi/yaxi.json", 200, string(doc)},
		{"/openapi/cycle.json", 404, `"code":"not_found"`},
		{"/openapi/", 404, `"code":"not_found"`},
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("GET %s = %d %s, want %d with %s", c.path, rec.Code, rec.Body, c.status, c.body)
		}
	}
}
