package apitest

import (
	"strings"
	"testing"
)

// Scenario is one table-driven API call and what its answer must show,
// in the shape of PocketBase's tests.ApiScenario.
type Scenario struct {
	// Name names the subtest.
	Name string
	// Method and URL are the request's; URL is a path and query relative
	// to the client's base URL.
	Method, URL string
	// Headers are sent as given, replacing the default Content-Type.
	Headers map[string]string
	// Body is sent as Client.Send sends bodies; nil sends none.
	Body any
	// Status is the status the answer must have; it is required.
	Status int
	// Contains are substrings the answer's body must hold.
	Contains []string
	// NotContains are substrings the answer's body must not hold.
	NotContains []string
	// Check, when set, checks the answer further once its status is right.
	Check func(t *testing.T, r Resp)
}

// Run runs each scenario as a subtest of t against c.
func (c *Client) Run(t *testing.T, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			t.Helper()
			if sc.Status == 0 {
				t.Fatal("scenario has no expected Status")
			}
			h := make([]string, 0, len(sc.Headers))
			for k, v := range sc.Headers {
				h = append(h, k+": "+v)
			}
			r := c.For(t).Do(sc.Method, sc.URL, sc.Body, h...)
			if r.Status != sc.Status {
				t.Fatalf("%s %s: status %d, want %d: %s", sc.Method, sc.URL, r.Status, sc.Status, r.Body)
			}
			body := string(r.Body)
			for _, s := range sc.Contains {
				if !strings.Contains(body, s) {
					t.Errorf("%s %s: answer lacks %q: %s", sc.Method, sc.URL, s, r.Body)
				}
			}
			for _, s := range sc.NotContains {
				if strings.Contains(body, s) {
					t.Errorf("%s %s: answer holds %q: %s", sc.Method, sc.URL, s, r.Body)
				}
			}
			if sc.Check != nil {
				sc.Check(t, r)
			}
		})
	}
}
