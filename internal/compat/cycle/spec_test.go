package cycle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/keyhub/keyhub/internal/compat/cycle"
)

// specFile is Cycle's own OpenAPI description of api-keys and roles.
const specFile = "testdata/cycle-api-keys.yaml"

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

// cycleSpec loads and checks Cycle's description once per test binary.
func cycleSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		specDoc, specErr = openapi3.NewLoader().LoadFromFile(specFile)
		if specErr != nil {
			return
		}
		if specErr = specDoc.Validate(context.Background()); specErr != nil {
			return
		}
		// Match paths whatever the host: the tests' server is not Cycle's.
		specDoc.Servers = nil
		specRouter, specErr = legacy.NewRouter(specDoc)
	})
	if specErr != nil {
		t.Fatalf("%s: %v", specFile, specErr)
	}
	return specDoc, specRouter
}

// specChecker is an http.RoundTripper that validates every answer of the
// Cycle surface against Cycle's description as the tests receive it: an
// operation of the description against its responses, any other path or
// method of the surface against the ErrorEnvelope schema.
type specChecker struct {
	t      testing.TB
	next   http.RoundTripper
	mu     sync.Mutex
	counts map[string]int // validated answers by operation
}

func newSpecChecker(t testing.TB) *specChecker {
	cycleSpec(t)
	c := &specChecker{t: t, next: http.DefaultTransport, counts: map[string]int{}}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.counts) == 0 && !t.Failed() {
			t.Error("no answer of the Cycle surface was validated")
		}
	})
	return c
}

func (c *specChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := c.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/v1/hubs/") {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	c.check(req, res, body)
	return res, nil
}

func (c *specChecker) check(req *http.Request, res *http.Response, body []byte) {
	c.t.Helper()
	doc, router := cycleSpec(c.t)
	what := req.Method + " " + req.URL.RequestURI() + " → " + res.Status
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Not an operation of the description: an unknown path or method,
		// which must answer Cycle's error envelope.
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			c.t.Errorf("%s: not JSON: %s", what, body)
			return
		}
		if err := doc.Components.Schemas["ErrorEnvelope"].Value.VisitJSON(v); err != nil {
			c.t.Errorf("%s does not match Cycle's ErrorEnvelope: %v\n%s", what, err, body)
		}
		c.count("ErrorEnvelope")
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s does not conform to Cycle's description (%s):\n%v\n%s", what, route.Operation.OperationID, err, body)
	}
	c.count(route.Operation.OperationID)
}

func (c *specChecker) count(op string) {
	c.mu.Lock()
	c.counts[op]++
	c.mu.Unlock()
	validated.Lock()
	validated.ops[op]++
	validated.Unlock()
}

// validated counts, over the whole test binary, the answers validated per
// operation, so TestMain can tell that every operation of the description
// was.
var validated = struct {
	sync.Mutex
	ops map[string]int
}{ops: map[string]int{}}

// TestMain checks, when every test ran, that each operation of Cycle's
// description had answers validated: success and error alike is the
// tests' business, reaching every operation is this check's.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		var t fakeT
		for _, op := range operations(&t) {
			if validated.ops[op] == 0 {
				fmt.Fprintf(os.Stderr, "no answer of operation %s was validated against %s\n", op, specFile)
				code = 1
			}
		}
		if validated.ops["ErrorEnvelope"] == 0 {
			fmt.Fprintln(os.Stderr, "no answer outside the description's operations was validated")
			code = 1
		}
	}
	os.Exit(code)
}

// fakeT lets TestMain load the description with the test helpers.
type fakeT struct{ testing.TB }

func (fakeT) Helper() {}
func (fakeT) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// operations are every operation of the description, by id.
func operations(t testing.TB) []string {
	doc, _ := cycleSpec(t)
	var out []string
	for _, p := range doc.Paths.Map() {
		for _, op := range p.Operations() {
			out = append(out, op.OperationID)
		}
	}
	slices.Sort(out)
	return out
}

// TestSpecCapabilities holds the surface's capability list to the
// description's Capability enum.
func TestSpecCapabilities(t *testing.T) {
	doc, _ := cycleSpec(t)
	var enum []string
	for _, v := range doc.Components.Schemas["Capability"].Value.Enum {
		enum = append(enum, v.(string))
	}
	if got := cycle.Capabilities(); !slices.Equal(got, enum) {
		t.Errorf("capabilities differ from the description's enum:\n got %v\nwant %v", got, enum)
	}
}
