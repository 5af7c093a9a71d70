package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/oauthapi"
	"github.com/keyhub/keyhub/internal/service"
)

// The tests below hold the hand-written openapi.json to the code: the routes
// registered in routes() and by the OAuth endpoints (internal/oauthapi), and the json tags of every type a request body
// decodes into or an answer encodes from.

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true}

// openapiSchemas names, for every object schema in the document, the Go type
// it describes. request marks request bodies, which must refuse unknown
// fields as decode does.
var openapiSchemas = map[string]struct {
	typ     reflect.Type
	request bool
}{
	"TenantCreate":        {reflect.TypeFor[service.TenantCreate](), true},
	"TenantPatch":         {reflect.TypeFor[service.TenantPatch](), true},
	"ScopeCreate":         {reflect.TypeFor[service.ScopeCreate](), true},
	"KeyCreate":           {reflect.TypeFor[service.KeyCreate](), true},
	"KeyPatch":            {reflect.TypeFor[service.KeyPatch](), true},
	"RoleCreate":          {reflect.TypeFor[service.RoleCreate](), true},
	"RolePatch":           {reflect.TypeFor[service.RolePatch](), true},
	"VerifyRequest":       {reflect.TypeFor[authn.VerifyRequest](), true},
	"RotateRequest":       {reflect.TypeFor[service.RotateRequest](), true},
	"ClientCreate":        {reflect.TypeFor[service.ClientCreate](), true},
	"ClientPatch":         {reflect.TypeFor[service.ClientPatch](), true},
	"SecretRotation":      {reflect.TypeFor[service.SecretRotation](), true},
	"RevokeRequest":       {reflect.TypeFor[revokeRequest](), true},
	"RateLimitInput":      {reflect.TypeFor[service.RateLimitInput](), true},
	"CreditsInput":        {reflect.TypeFor[service.CreditsInput](), true},
	"CreditsPatch":        {reflect.TypeFor[service.CreditsPatch](), true},
	"RefillInput":         {reflect.TypeFor[service.RefillInput](), true},
	"MemberCreate":        {reflect.TypeFor[service.MemberCreate](), true},
	"MemberPatch":         {reflect.TypeFor[service.MemberPatch](), true},
	"PortalUser":          {reflect.TypeFor[service.PortalUser](), true},
	"PortalSessionCreate": {reflect.TypeFor[service.PortalSessionCreate](), true},

	"Tenant":          {reflect.TypeFor[keyhub.Tenant](), false},
	"ScopeEntry":      {reflect.TypeFor[keyhub.ScopeEntry](), false},
	"Role":            {reflect.TypeFor[keyhub.Role](), false},
	"Actor":           {reflect.TypeFor[keyhub.Actor](), false},
	"AuditEvent":      {reflect.TypeFor[keyhub.AuditEvent](), false},
	"Refill":          {reflect.TypeFor[keyhub.Refill](), false},
	"FieldError":      {reflect.TypeFor[keyhub.FieldError](), false},
	"Problem":         {reflect.TypeFor[Problem](), false},
	"KeyView":         {reflect.TypeFor[KeyView](), false},
	"RateLimitView":   {reflect.TypeFor[rateLimitView](), false},
	"CreditsView":     {reflect.TypeFor[creditsView](), false},
	"ClientView":      {reflect.TypeFor[ClientView](), false},
	"VerifyAnswer":    {reflect.TypeFor[verifyAnswer](), false},
	"VerifyKeyInfo":   {reflect.TypeFor[verifyKeyInfo](), false},
	"VerifyRole":      {reflect.TypeFor[verifyRole](), false},
	"VerifyRateLimit": {reflect.TypeFor[verifyRateLimit](), false},
	"VerifyCredits":   {reflect.TypeFor[verifyCredits](), false},
	"UsageBucket":     {reflect.TypeFor[service.UsageBucket](), false},
	"SigningKey":      {reflect.TypeFor[signingKeyView](), false},
	"TenantList":      {reflect.TypeFor[list[*keyhub.Tenant]](), false},
	"ScopeList":       {reflect.TypeFor[list[*keyhub.ScopeEntry]](), false},
	"RoleList":        {reflect.TypeFor[list[*keyhub.Role]](), false},
	"KeyList":         {reflect.TypeFor[list[KeyView]](), false},
	"ClientList":      {reflect.TypeFor[list[ClientView]](), false},
	"AuditEventList":  {reflect.TypeFor[list[*keyhub.AuditEvent]](), false},
	"Member":          {reflect.TypeFor[keyhub.Member](), false},
	"MemberList":      {reflect.TypeFor[list[*keyhub.Member]](), false},
	"PortalLink":      {reflect.TypeFor[service.PortalLink](), false},
}

// openapiOtherSchemas are the schemas that describe no Go struct: ids,
// strings with rules, and compositions checked on their own.
var openapiOtherSchemas = []string{"TenantId", "KeyId", "RoleId", "ClientId", "EventId", "MemberId", "Scope", "Duration",
	"KeyState", "VerifyCode", "KeyWithSecret", "ClientWithSecret", "UsageList",
	// The OAuth endpoints (internal/oauthapi). Their form requests are read
	// parameter by parameter, introspection and metadata answer maps, and
	// the JWK Set is go-jose's: no struct to hold them to.
	// OAuthTokenResponse and OAuthError describe the unexported
	// tokenResponse and oauthError, which internal/oauthapi's own
	// openapi_test.go checks against these schemas (as it does the metadata
	// the handler writes).
	"OAuthTokenRequest", "OAuthIntrospectionRequest", "OAuthRevocationRequest", "OAuthIntrospection",
	"JWKSet", "JWK", "AuthorizationServerMetadata", "OAuthTokenResponse", "OAuthError"}

// problemExtensions are the RFC 9457 extension members the code sets through
// keyhub.Error.Extra, which no json tag shows.
var problemExtensions = []string{"scope", "member_count"}

// loadOpenAPI parses the embedded document.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// obj returns m[key] as an object, failing the test when it is not one.
func obj(t *testing.T, m map[string]any, path ...string) map[string]any {
	t.Helper()
	cur := m
	for i, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			t.Fatalf("openapi.json: %s is not an object", strings.Join(path[:i+1], "."))
		}
		cur = next
	}
	return cur
}

// stringList returns v as a list of strings ([] for nil).
func stringList(t *testing.T, where string, v any) []string {
	t.Helper()
	if v == nil {
		return []string{}
	}
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("openapi.json: %s is not an array", where)
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			t.Fatalf("openapi.json: %s holds %v, not a string", where, e)
		}
		out = append(out, s)
	}
	return out
}

// difference returns the elements of a missing from b, sorted.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// jsonFields returns the JSON member names of struct type t, and which of
// them are always present (no omitempty or omitzero).
func jsonFields(t reflect.Type) (names []string, always map[string]bool) {
	always = map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && !hasTag && f.Type.Kind() == reflect.Struct {
			n, a := jsonFields(f.Type)
			names = append(names, n...)
			for k, v := range a {
				always[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		always[name] = !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,")
	}
	return names, always
}

func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info := obj(t, doc, "info")
	if info["title"] == "" || info["version"] == "" {
		t.Errorf("info lacks title or version: %v", info)
	}
	if s := obj(t, doc, "components", "securitySchemes", "bearer"); s["type"] != "http" || s["scheme"] != "bearer" {
		t.Errorf("security scheme bearer = %v, want http bearer", s)
	}
	if s := obj(t, doc, "components", "securitySchemes", "clientBasic"); s["type"] != "http" || s["scheme"] != "basic" {
		t.Errorf("security scheme clientBasic = %v, want http basic", s)
	}

	// Every $ref must resolve inside the document.
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(doc, ref) {
					t.Errorf("%s: $ref %q resolves to nothing", where, ref)
				}
			}
			for k, e := range v {
				walk(where+"/"+k, e)
			}
		case []any:
			for _, e := range v {
				walk(where, e)
			}
		}
	}
	walk("#", doc)
}

// resolves reports whether the local JSON pointer ref names a value of doc.
func resolves(doc map[string]any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, k := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		k = strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~")
		if cur, ok = m[k]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPIRoutes checks that the document and the router (routes() and
// the OAuth endpoints mounted on it) name the same operations, and that each
// path's parameters are the path's wildcards. The compat surfaces are not
// part of the document.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	s := New(Services{}, nil)
	oauthapi.New(nil, nil).Mount(s)

	var registered, documented []string
	for path, methods := range s.router.Paths() {
		for _, m := range methods {
			registered = append(registered, m+" "+path)
		}
	}
	wildcard := regexp.MustCompile(`\{([^}]+)\}`)
	for path, v := range obj(t, doc, "paths") {
		item, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("paths.%s is not an object", path)
		}
		var want []string
		for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
			want = append(want, strings.TrimSuffix(m[1], "..."))
		}
		for method, op := range item {
			if !httpMethods[method] {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			got := pathParams(t, doc, item["parameters"], op.(map[string]any)["parameters"])
			if d1, d2 := difference(want, got), difference(got, want); d1 != nil || d2 != nil {
				t.Errorf("%s %s: path wildcards without a path parameter: %v; path parameters without a wildcard: %v",
					strings.ToUpper(method), path, d1, d2)
			}
		}
	}
	if d := difference(registered, documented); d != nil {
		t.Errorf("routes registered in routes() or by oauthapi but missing from openapi.json:\n\t%s", strings.Join(d, "\n\t"))
	}
	if d := difference(documented, registered); d != nil {
		t.Errorf("operations in openapi.json that neither routes() nor oauthapi registers:\n\t%s", strings.Join(d, "\n\t"))
	}
}

// pathParams returns the names of the "in: path" parameters of a path item
// and an operation, following $refs.
func pathParams(t *testing.T, doc map[string]any, lists ...any) []string {
	t.Helper()
	var out []string
	for _, l := range lists {
		ps, _ := l.([]any)
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				name, _ := strings.CutPrefix(ref, "#/components/parameters/")
				pm = obj(t, doc, "components", "parameters", name)
			}
			if pm["in"] == "path" {
				if pm["required"] != true {
					t.Errorf("path parameter %v is not required", pm["name"])
				}
				out = append(out, pm["name"].(string))
			}
		}
	}
	return out
}

// TestOpenAPISchemasMatchJSONTags checks that each object schema has exactly
// the members its Go type encodes or decodes, that answers require exactly
// the members always present, and that request bodies refuse unknown
// members.
func TestOpenAPISchemasMatchJSONTags(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas := obj(t, doc, "components", "schemas")
	for name := range schemas {
		if _, ok := openapiSchemas[name]; !ok && !slices.Contains(openapiOtherSchemas, name) {
			t.Errorf("schema %s is tied to no Go type: add it to openapiSchemas or openapiOtherSchemas", name)
		}
	}
	for name, tt := range openapiSchemas {
		t.Run(name, func(t *testing.T) {
			if _, ok := schemas[name]; !ok {
				t.Fatalf("schema %s (for %v) is missing from openapi.json", name, tt.typ)
			}
			checkSchemaAgainstType(t, obj(t, schemas, name), name, tt.typ, tt.request)
		})
	}
}

func checkSchemaAgainstType(t *testing.T, schema map[string]any, name string, typ reflect.Type, request bool) {
	t.Helper()
	fields, always := jsonFields(typ)
	if typ == reflect.TypeFor[Problem]() {
		fields = append(fields, problemExtensions...)
	}
	props := obj(t, schema, "properties")
	var documented []string
	for p := range props {
		documented = append(documented, p)
	}
	if d := difference(fields, documented); d != nil {
		t.Errorf("schema %s lacks json fields of %v: %v", name, typ, d)
	}
	if d := difference(documented, fields); d != nil {
		t.Errorf("schema %s has properties that %v does not have: %v", name, typ, d)
	}
	required := stringList(t, name+".required", schema["required"])
	if d := difference(required, fields); d != nil {
		t.Errorf("schema %s requires properties it does not have: %v", name, d)
	}
	if request {
		if schema["additionalProperties"] != false {
			t.Errorf("request schema %s must set additionalProperties: false (decode refuses unknown fields)", name)
		}
		return
	}
	// An answer always holds a member without omitempty, and may lack one
	// with it: required must say exactly that.
	var want []string
	for f, a := range always {
		if a {
			want = append(want, f)
		}
	}
	if d := difference(want, required); d != nil {
		t.Errorf("schema %s: %v always encodes %v, which are not required", name, typ, d)
	}
	if d := difference(required, want); d != nil {
		t.Errorf("schema %s requires %v, which %v omits when empty", name, d, typ)
	}
}

// TestOpenAPIKeyView checks the KeyView schema on its own, as it is the
// answer most clients read: same members as the struct, and key (the
// secret) only in the answers to create and rotate.
func TestOpenAPIKeyView(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas := obj(t, doc, "components", "schemas")
	kv := obj(t, schemas, "KeyView")
	fields, _ := jsonFields(reflect.TypeFor[KeyView]())
	var props []string
	for p := range obj(t, kv, "properties") {
		props = append(props, p)
	}
	if d := difference(fields, props); d != nil {
		t.Errorf("KeyView json tags missing from the KeyView schema: %v", d)
	}
	if d := difference(props, fields); d != nil {
		t.Errorf("KeyView schema properties that KeyView lacks: %v", d)
	}
	if slices.Contains(stringList(t, "KeyView.required", kv["required"]), "key") {
		t.Error("KeyView schema requires key, which only create and rotate answer")
	}

	for schema, secret := range map[string]string{"KeyWithSecret": "key", "ClientWithSecret": "client_secret"} {
		all, _ := obj(t, schemas, schema)["allOf"].([]any)
		var refs, req []string
		for _, a := range all {
			m, _ := a.(map[string]any)
			if r, ok := m["$ref"].(string); ok {
				refs = append(refs, r)
			}
			req = append(req, stringList(t, schema+".allOf.required", m["required"])...)
		}
		base := strings.TrimSuffix(schema, "WithSecret") + "View"
		if !slices.Equal(refs, []string{"#/components/schemas/" + base}) || !slices.Equal(req, []string{secret}) {
			t.Errorf("%s must be allOf [%s, {required: [%s]}]; refs %v, required %v", schema, base, secret, refs, req)
		}
	}

	paths := obj(t, doc, "paths")
	for _, op := range []string{"/v1/api-keys post", "/v1/api-keys/{id}/rotate post"} {
		path, method, _ := strings.Cut(op, " ")
		ref := obj(t, paths, path, method, "responses", "201", "content", "application/json", "schema")["$ref"]
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
	public := []string{"GET /healthz", "GET /readyz", "GET /openapi.json",
		"GET /.well-known/jwks.json", "GET /.well-known/oauth-authorization-server"}
	ids := map[string]string{}
	for path, v := range obj(t, doc, "paths") {
		for method, o := range v.(map[string]any) {
			if !httpMethods[method] {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			op := o.(map[string]any)
			if id, _ := op["operationId"].(string); id == "" {
				t.Errorf("%s has no operationId", name)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("operationId %s is used by %s and %s", id, prev, name)
			} else {
				ids[id] = name
			}
			scopes := stringList(t, name+".x-required-scopes", op["x-required-scopes"])
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
			if len(sec) != 1 {
				t.Errorf("%s: want one security requirement (bearer), have %v", name, op["security"])
				continue
			}
			bearer := stringList(t, name+".security.bearer", sec[0].(map[string]any)["bearer"])
			if !slices.Equal(bearer, scopes) {
				t.Errorf("%s: security bearer %v differs from x-required-scopes %v", name, bearer, scopes)
			}
			resp := obj(t, op, "responses")
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
			bearer = stringList(t, name+".security.bearer", req["bearer"])
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
	if _, ok := obj(t, op, "requestBody", "content")["application/x-www-form-urlencoded"]; !ok {
		t.Errorf("%s: the request body must be application/x-www-form-urlencoded", name)
	}
	resp := obj(t, op, "responses")
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
		if s := obj(t, rm, "content", "application/json", "schema")["$ref"]; s != "#/components/schemas/OAuthError" {
			t.Errorf("%s answers %s with %v, want OAuthError", name, code, s)
		}
	}
}

// TestOpenAPITokenExample checks that the token endpoint shows the YAXI Hub
// document's request and answer, which keyhub serves unchanged.
func TestOpenAPITokenExample(t *testing.T) {
	doc := loadOpenAPI(t)
	op := obj(t, doc, "paths", "/oauth2/token", "post")
	req := obj(t, op, "requestBody", "content", "application/x-www-form-urlencoded", "example")
	want := map[string]any{"grant_type": "client_credentials", "client_id": "YOUR_CLIENT_ID", "client_secret": "YOUR_CLIENT_SECRET",
		"audience": "hub:api", "scope": "read:api_keys create:api_keys delete:api_keys"}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("token request example = %v, want %v", req, want)
	}
	answer := obj(t, op, "responses", "200", "content", "application/json", "example")
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
