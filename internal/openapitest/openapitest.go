// Package openapitest holds keyhub's OpenAPI documents to the code that
// serves them. Every document (the native one in internal/httpapi and one per
// compat surface) is written by hand; the tests of the package that serves it
// call these checks, so that a route, a path parameter or a json tag cannot
// change without its document: the routes registered and the operations
// documented are the same set, each path's parameters are its wildcards, and
// each object schema has exactly the members of the Go type it describes.
package openapitest

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
)

// Doc is a parsed OpenAPI document.
type Doc map[string]any

// Parse parses doc, failing t when it is not a JSON object.
func Parse(t testing.TB, doc []byte) Doc {
	t.Helper()
	var d Doc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("OpenAPI document is not JSON: %v", err)
	}
	return d
}

// Obj returns the object at path, failing t when there is none.
func (d Doc) Obj(t testing.TB, path ...string) map[string]any {
	t.Helper()
	return Obj(t, d, path...)
}

// Obj returns the object at path below m, failing t when there is none.
func Obj(t testing.TB, m map[string]any, path ...string) map[string]any {
	t.Helper()
	cur := m
	for i, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			t.Fatalf("OpenAPI document: %s is not an object", strings.Join(path[:i+1], "."))
		}
		cur = next
	}
	return cur
}

// StringList returns v as a list of strings ([] for nil); where names v in
// failures.
func StringList(t testing.TB, where string, v any) []string {
	t.Helper()
	if v == nil {
		return []string{}
	}
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("OpenAPI document: %s is not an array", where)
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			t.Fatalf("OpenAPI document: %s holds %v, not a string", where, e)
		}
		out = append(out, s)
	}
	return out
}

// Difference returns the elements of a missing from b, sorted; nil when
// there are none.
func Difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// HTTPMethods are the operation keys of an OpenAPI path item.
var HTTPMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true}

// Operation is one documented operation.
type Operation struct {
	// Name is "METHOD /path", as the router registers it.
	Name string
	Path string
	// Item is the path item, Op the operation object.
	Item, Op map[string]any
}

// Operations returns every operation of d, sorted by name.
func (d Doc) Operations(t testing.TB) []Operation {
	t.Helper()
	var out []Operation
	for path, v := range d.Obj(t, "paths") {
		item, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("paths.%s is not an object", path)
		}
		for method, op := range item {
			if !HTTPMethods[method] {
				continue
			}
			o, ok := op.(map[string]any)
			if !ok {
				t.Fatalf("paths.%s.%s is not an object", path, method)
			}
			out = append(out, Operation{Name: strings.ToUpper(method) + " " + path, Path: path, Item: item, Op: o})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CheckDocument checks what every document must hold: OpenAPI 3.1, a
// title and a version, local $refs that resolve, no union of types (which
// code generators refuse; [T, "null"] is 3.1's nullable T and is
// accepted), and operations with a unique operationId and a 2XX answer.
func CheckDocument(t testing.TB, d Doc) {
	t.Helper()
	if v, _ := d["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info := d.Obj(t, "info")
	if s, _ := info["title"].(string); s == "" {
		t.Error("info.title is empty")
	}
	if s, _ := info["version"].(string); s == "" {
		t.Error("info.version is empty")
	}
	// data is set below example and examples: values there are data, not
	// schemas, though an example object may still be a $ref.
	var walk func(where string, v any, data bool)
	walk = func(where string, v any, data bool) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok && !resolves(d, ref) {
				t.Errorf("%s: $ref %q resolves to nothing", where, ref)
			}
			if types, ok := v["type"].([]any); ok && !data && (len(types) != 2 || !slices.Contains(types, any("null"))) {
				t.Errorf("%s: type %v is a union; use oneOf, or [T, \"null\"] for a nullable T", where, types)
			}
			for k, e := range v {
				walk(where+"/"+k, e, data || k == "example" || k == "examples")
			}
		case []any:
			for _, e := range v {
				walk(where, e, data)
			}
		}
	}
	walk("#", map[string]any(d), false)

	ids := map[string]string{}
	for _, op := range d.Operations(t) {
		id, _ := op.Op["operationId"].(string)
		switch prev, dup := ids[id]; {
		case id == "":
			t.Errorf("%s has no operationId", op.Name)
		case dup:
			t.Errorf("operationId %s is used by %s and %s", id, prev, op.Name)
		default:
			ids[id] = op.Name
		}
		resp, _ := op.Op["responses"].(map[string]any)
		ok := false
		for code := range resp {
			ok = ok || strings.HasPrefix(code, "2")
		}
		if !ok {
			t.Errorf("%s documents no 2XX answer", op.Name)
		}
	}
}

// resolves reports whether the local JSON pointer ref names a value of d.
func resolves(d Doc, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = map[string]any(d)
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

// wildcard matches a path wildcard of a pattern or a template.
var wildcard = regexp.MustCompile(`\{([^}]+)\}`)

// CheckRoutes checks that the operations of d and the routes registered
// (each path with its methods, as httpapi.Routes.Paths returns them) are
// the same set, and that each operation's path parameters are its path's
// wildcards, each required.
func CheckRoutes(t testing.TB, d Doc, registered map[string][]string) {
	t.Helper()
	var routes, documented []string
	for path, methods := range registered {
		for _, m := range methods {
			routes = append(routes, m+" "+path)
		}
	}
	for _, op := range d.Operations(t) {
		documented = append(documented, op.Name)
		var want []string
		for _, m := range wildcard.FindAllStringSubmatch(op.Path, -1) {
			want = append(want, strings.TrimSuffix(m[1], "..."))
		}
		got := pathParams(t, d, op.Item["parameters"], op.Op["parameters"])
		if d1, d2 := Difference(want, got), Difference(got, want); d1 != nil || d2 != nil {
			t.Errorf("%s: path wildcards without a path parameter: %v; path parameters without a wildcard: %v", op.Name, d1, d2)
		}
	}
	if diff := Difference(routes, documented); diff != nil {
		t.Errorf("routes registered but missing from the document:\n\t%s", strings.Join(diff, "\n\t"))
	}
	if diff := Difference(documented, routes); diff != nil {
		t.Errorf("operations documented but not registered:\n\t%s", strings.Join(diff, "\n\t"))
	}
}

// pathParams returns the names of the "in: path" parameters of a path item
// and an operation, following $refs.
func pathParams(t testing.TB, d Doc, lists ...any) []string {
	t.Helper()
	var out []string
	for _, l := range lists {
		ps, _ := l.([]any)
		for _, p := range ps {
			pm, _ := p.(map[string]any)
			if ref, ok := pm["$ref"].(string); ok {
				name, _ := strings.CutPrefix(ref, "#/components/parameters/")
				pm = d.Obj(t, "components", "parameters", name)
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

// JSONFields returns the JSON member names of struct type typ, and which
// of them are always present (no omitempty or omitzero). Embedded structs
// without a tag contribute their fields, as encoding/json does.
func JSONFields(typ reflect.Type) (names []string, always map[string]bool) {
	always = map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if f.Anonymous && !hasTag && f.Type.Kind() == reflect.Struct {
			n, a := JSONFields(f.Type)
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

// Type is the Go type an object schema describes.
type Type struct {
	Go reflect.Type
	// Request marks request bodies, which must refuse unknown members as
	// httpapi.Decode does.
	Request bool
	// Extra are members the type writes beyond its json tags (a custom
	// MarshalJSON's).
	Extra []string
}

// TypeOf is the Type of T: an answer, or a request body when request is set.
func TypeOf[T any](request bool, extra ...string) Type {
	return Type{Go: reflect.TypeFor[T](), Request: request, Extra: extra}
}

// CheckSchemas checks every schema of d: each named in types has exactly
// the members of its Go type (CheckSchema); the others must be listed in
// others (ids, strings with rules, compositions checked on their own).
func CheckSchemas(t *testing.T, d Doc, types map[string]Type, others []string) {
	t.Helper()
	schemas := d.Obj(t, "components", "schemas")
	for name := range schemas {
		if _, ok := types[name]; !ok && !slices.Contains(others, name) {
			t.Errorf("schema %s is tied to no Go type: add it to the types or to the others of its test", name)
		}
	}
	for name, typ := range types {
		t.Run(name, func(t *testing.T) {
			if _, ok := schemas[name]; !ok {
				t.Fatalf("schema %s (for %v) is missing from the document", name, typ.Go)
			}
			CheckSchema(t, Obj(t, schemas, name), name, typ)
		})
	}
}

// CheckSchema checks that schema has exactly the members typ encodes or
// decodes; that an answer's schema requires exactly the members always
// present; and that a request's refuses unknown members.
func CheckSchema(t testing.TB, schema map[string]any, name string, typ Type) {
	t.Helper()
	fields, always := JSONFields(typ.Go)
	fields = append(fields, typ.Extra...)
	var documented []string
	for p := range Obj(t, schema, "properties") {
		documented = append(documented, p)
	}
	if diff := Difference(fields, documented); diff != nil {
		t.Errorf("schema %s lacks json fields of %v: %v", name, typ.Go, diff)
	}
	if diff := Difference(documented, fields); diff != nil {
		t.Errorf("schema %s has properties that %v does not have: %v", name, typ.Go, diff)
	}
	required := StringList(t, name+".required", schema["required"])
	if diff := Difference(required, fields); diff != nil {
		t.Errorf("schema %s requires properties it does not have: %v", name, diff)
	}
	if typ.Request {
		if schema["additionalProperties"] != false {
			t.Errorf("request schema %s must set additionalProperties: false (decode refuses unknown fields)", name)
		}
		return
	}
	var want []string
	for f, a := range always {
		if a {
			want = append(want, f)
		}
	}
	if diff := Difference(want, required); diff != nil {
		t.Errorf("schema %s: %v always encodes %v, which are not required", name, typ.Go, diff)
	}
	if diff := Difference(required, want); diff != nil {
		t.Errorf("schema %s requires %v, which %v omits when empty", name, diff, typ.Go)
	}
}

// CheckMembers checks an answer's body against the named schema of d: each
// member is a property of it, and each required property is there.
func CheckMembers(t testing.TB, d Doc, where, schema string, body map[string]any) {
	t.Helper()
	s := d.Obj(t, "components", "schemas", schema)
	props, _ := s["properties"].(map[string]any)
	for k := range body {
		if _, ok := props[k]; !ok {
			t.Errorf("%s answers member %q, which schema %s lacks", where, k, schema)
		}
	}
	for _, k := range StringList(t, schema+".required", s["required"]) {
		if _, ok := body[k]; !ok {
			t.Errorf("%s answers no %q, which schema %s requires", where, k, schema)
		}
	}
}

// CheckScopes checks that every operation names the scopes it needs in
// x-required-scopes, each one of keyhub's management scopes, and asks for
// exactly those of a bearer credential; operations that need none say so
// with security: [].
func CheckScopes(t testing.TB, d Doc, isScope func(string) bool) {
	t.Helper()
	for _, op := range d.Operations(t) {
		if _, ok := op.Op["x-required-scopes"]; !ok {
			t.Errorf("%s lacks x-required-scopes", op.Name)
			continue
		}
		scopes := StringList(t, op.Name+".x-required-scopes", op.Op["x-required-scopes"])
		for _, sc := range scopes {
			if !isScope(sc) {
				t.Errorf("%s requires %q, which is not a management scope", op.Name, sc)
			}
		}
		sec, _ := op.Op["security"].([]any)
		if len(sec) == 0 {
			if len(scopes) != 0 {
				t.Errorf("%s requires scopes %v but no credential", op.Name, scopes)
			}
			continue
		}
		req, _ := sec[0].(map[string]any)
		if len(sec) != 1 || len(req) != 1 {
			t.Errorf("%s: want one security requirement (bearer), have %v", op.Name, sec)
			continue
		}
		if bearer := StringList(t, op.Name+".security.bearer", req["bearer"]); !slices.Equal(bearer, scopes) {
			t.Errorf("%s: security bearer %v differs from x-required-scopes %v", op.Name, bearer, scopes)
		}
	}
}

// CheckIdempotencyKeys checks that exactly the POST operations whose
// handlers on mux honour Idempotency-Key (honours says which) document the
// header, and that their success answers document Idempotent-Replayed.
func CheckIdempotencyKeys(t testing.TB, d Doc, mux *http.ServeMux, honours func(http.Handler) bool) {
	t.Helper()
	for _, op := range d.Operations(t) {
		method, _, _ := strings.Cut(op.Name, " ")
		if method != http.MethodPost {
			continue
		}
		h, _ := mux.Handler(httptest.NewRequest(method, wildcard.ReplaceAllString(op.Path, "x"), nil))
		marked := honours(h)
		documented := false
		for _, l := range []any{op.Item["parameters"], op.Op["parameters"]} {
			ps, _ := l.([]any)
			for _, p := range ps {
				pm, _ := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					name, _ := strings.CutPrefix(ref, "#/components/parameters/")
					pm = d.Obj(t, "components", "parameters", name)
				}
				documented = documented || pm["in"] == "header" && pm["name"] == "Idempotency-Key"
			}
		}
		if documented != marked {
			t.Errorf("%s: the document lists Idempotency-Key: %v; the route honours it: %v", op.Name, documented, marked)
		}
		if !marked {
			continue
		}
		for status, r := range Obj(t, op.Op, "responses") {
			if !strings.HasPrefix(status, "2") {
				continue
			}
			rm := d.resolve(t, r.(map[string]any))
			if _, ok := rm["headers"].(map[string]any)["Idempotent-Replayed"]; !ok {
				t.Errorf("%s %s: the answer does not document Idempotent-Replayed", op.Name, status)
			}
		}
	}
}
