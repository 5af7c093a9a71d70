package openapitest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder keeps the failures a check reports instead of failing the test.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

const answerDoc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/k/{id}":{"get":{"operationId":"k",
"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/KeyWithSecret"}}}},
"default":{"description":"error","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}}}}}},
"components":{"schemas":{
"Key":{"type":"object","required":["id","state"],"properties":{"id":{"type":"string"},"state":{"type":"string","enum":["live","deleted"]},
 "exp":{"type":["string","null"]},"aud":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"string"},"minItems":2}]},
 "n":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}},"meta":{"type":"object","additionalProperties":{"type":"boolean"}},"secret":{"type":"string"}}},
"KeyWithSecret":{"allOf":[{"$ref":"#/components/schemas/Key"},{"required":["secret"]}]},
"Error":{"type":"object","required":["status"],"properties":{"status":{"const":"error"}}}}}}`

func TestCheckAnswer(t *testing.T) {
	d := Parse(t, []byte(answerDoc))
	cases := []struct {
		name   string
		status int
		body   string
		want   string // a failure it must report; "" for none
	}{
		{"OK", 200, `{"id":"k","state":"live","secret":"s","exp":null,"aud":"a","n":3,"tags":["x"],"meta":{"a":true}}`, ""},
		{"ErrMissingRequired", 200, `{"id":"k","state":"live"}`, `lacks required member "secret"`},
		{"ErrUndocumentedMember", 200, `{"id":"k","state":"live","secret":"s","colour":"red"}`, `member "colour"`},
		{"ErrType", 200, `{"id":7,"state":"live","secret":"s"}`, "body.id is integer, want string"},
		{"ErrNullable", 200, `{"id":"k","state":"live","secret":"s","exp":3}`, "want string or null"},
		{"ErrEnum", 200, `{"id":"k","state":"gone","secret":"s"}`, "not one of"},
		{"ErrInteger", 200, `{"id":"k","state":"live","secret":"s","n":1.5}`, "want integer"},
		{"ErrItems", 200, `{"id":"k","state":"live","secret":"s","tags":[1]}`, "body.tags[0]"},
		{"ErrAdditional", 200, `{"id":"k","state":"live","secret":"s","meta":{"a":"yes"}}`, "body.meta.a"},
		{"ErrOneOf", 200, `{"id":"k","state":"live","secret":"s","aud":7}`, "oneOf"},
		{"DefaultAnswer", 503, `{"status":"error"}`, ""},
		{"ErrConst", 500, `{"status":"success"}`, "want error"},
		{"ErrNotJSON", 200, `<html>`, "not JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{TB: t}
			CheckAnswer(r, d, "GET /k/{id}", c.status, []byte(c.body))
			got := strings.Join(r.errs, "\n")
			switch {
			case c.want == "" && got != "":
				t.Errorf("reported %s", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("reported %q, want a failure with %q", got, c.want)
			}
		})
	}
}

func TestCheckRoutes(t *testing.T) {
	d := Parse(t, []byte(`{"paths":{"/a/{id}":{"get":{},"delete":{"parameters":[{"name":"id","in":"path","required":true}]}},"/b":{"post":{}}}}`))
	r := &recorder{TB: t}
	CheckRoutes(r, d, map[string][]string{"/a/{id}": {"GET", "DELETE", "PATCH"}})
	got := strings.Join(r.errs, "\n")
	for _, want := range []string{"GET /a/{id}: path wildcards without a path parameter: [id]", "registered but missing from the document:\n\tPATCH /a/{id}", "documented but not registered:\n\tPOST /b"} {
		if !strings.Contains(got, want) {
			t.Errorf("failures %q lack %q", got, want)
		}
	}
}
