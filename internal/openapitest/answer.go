package openapitest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// CheckAnswer checks a real answer against the document: operation
// "METHOD /path/{template}" must document status (or a default answer), and
// body must match its JSON schema as far as keyhub's documents use JSON
// Schema: types (with 3.1's [T, "null"]), const and enum, required and
// documented members (additionalProperties), items, allOf, oneOf and $ref.
// Patterns are checked; formats and lengths are the unit tests' business.
func CheckAnswer(t testing.TB, d Doc, operation string, status int, body []byte) {
	t.Helper()
	method, path, _ := strings.Cut(operation, " ")
	op := d.Obj(t, "paths", path, strings.ToLower(method))
	responses := Obj(t, op, "responses")
	r, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		if r, ok = responses["default"].(map[string]any); !ok {
			t.Errorf("%s answered %d, which the document does not list", operation, status)
			return
		}
	}
	r = d.resolve(t, r)
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			t.Errorf("%s %d: the document gives no body, the answer has %q", operation, status, body)
		}
		return
	}
	var schema map[string]any
	for _, mt := range content {
		schema, _ = mt.(map[string]any)["schema"].(map[string]any)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %d: the answer is not JSON: %v", operation, status, err)
		return
	}
	for _, p := range d.match(t, schema, v, "body") {
		t.Errorf("%s %d: %s\nanswer: %s", operation, status, p, body)
	}
}

// resolve follows a local $ref.
func (d Doc) resolve(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	for {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		p, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			t.Fatalf("$ref %q is not local", ref)
		}
		m = d.Obj(t, strings.Split(p, "/")...)
	}
}

// match returns how v fails schema, one line per problem, at where.
func (d Doc) match(t testing.TB, schema map[string]any, v any, where string) []string {
	t.Helper()
	if schema == nil {
		return nil
	}
	schema = d.resolve(t, schema)
	var out []string
	if types := schemaTypes(schema["type"]); len(types) > 0 && !anyType(types, v) {
		return []string{fmt.Sprintf("%s is %s, want %s", where, jsonType(v), strings.Join(types, " or "))}
	}
	if c, ok := schema["const"]; ok && c != v {
		out = append(out, fmt.Sprintf("%s is %v, want %v", where, v, c))
	}
	if enum, ok := schema["enum"].([]any); ok && !containsValue(enum, v) {
		out = append(out, fmt.Sprintf("%s is %v, not one of %v", where, v, enum))
	}
	if pat, ok := schema["pattern"].(string); ok {
		if s, isString := v.(string); isString && !compilePattern(t, pat).MatchString(s) {
			out = append(out, fmt.Sprintf("%s is %q, which does not match %s", where, s, pat))
		}
	}
	for _, sub := range list(schema["allOf"]) {
		out = append(out, d.match(t, sub, v, where)...)
	}
	if alts := list(schema["anyOf"]); len(alts) > 0 && !slices.ContainsFunc(alts, func(sub map[string]any) bool {
		return len(d.match(t, sub, v, where)) == 0
	}) {
		out = append(out, fmt.Sprintf("%s matches none of the anyOf schemas", where))
	}
	if one := list(schema["oneOf"]); len(one) > 0 {
		n := 0
		for _, sub := range one {
			if len(d.match(t, sub, v, where)) == 0 {
				n++
			}
		}
		if n != 1 {
			out = append(out, fmt.Sprintf("%s matches %d of the oneOf schemas, want 1", where, n))
		}
	}
	switch v := v.(type) {
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range v {
				out = append(out, d.match(t, items, e, fmt.Sprintf("%s[%d]", where, i))...)
			}
		}
	case map[string]any:
		out = append(out, d.matchObject(t, schema, v, where)...)
	}
	return out
}

// matchObject checks an object's members: required ones present, each
// documented one matching its schema, others allowed only by
// additionalProperties (or by a sibling of an allOf, which documents them).
func (d Doc) matchObject(t testing.TB, schema map[string]any, v map[string]any, where string) []string {
	t.Helper()
	var out []string
	for _, k := range StringList(t, where+".required", schema["required"]) {
		if _, ok := v[k]; !ok {
			out = append(out, fmt.Sprintf("%s lacks required member %q", where, k))
		}
	}
	props, _ := schema["properties"].(map[string]any)
	extra, extraOK := schema["additionalProperties"].(map[string]any)
	_, composed := schema["allOf"]
	for k, e := range v {
		if p, ok := props[k].(map[string]any); ok {
			out = append(out, d.match(t, p, e, where+"."+k)...)
			continue
		}
		switch {
		case extraOK:
			out = append(out, d.match(t, extra, e, where+"."+k)...)
		case props != nil && !composed:
			out = append(out, fmt.Sprintf("%s has member %q, which the schema does not document", where, k))
		}
	}
	return out
}

func list(v any) []map[string]any {
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func schemaTypes(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func anyType(types []string, v any) bool {
	got := jsonType(v)
	for _, want := range types {
		if want == got || want == "number" && got == "integer" {
			return true
		}
	}
	return false
}

// jsonType names v's JSON Schema type; whole numbers are integers.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func containsValue(enum []any, v any) bool {
	for _, e := range enum {
		if e == v {
			return true
		}
	}
	return false
}

// compilePattern compiles a schema's pattern. The documents keep to the
// syntax ECMA 262 and RE2 share, so one that Go cannot read is a fault of
// the document.
func compilePattern(t testing.TB, pat string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(pat)
	if err != nil {
		t.Fatalf("pattern %q: %v", pat, err)
	}
	return re
}
