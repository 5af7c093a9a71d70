package apitest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Client talks HTTP to a keyhub at URL, an in-process Server or a binary,
// and fails its test on a transport error or an answer a Must call did not
// want. The convenience calls (Tenant, Key, Role, OAuthClient, Verify) act
// with the Operator key.
type Client struct {
	// URL is the base URL, such as http://127.0.0.1:4321.
	URL string
	// Operator is the operator key the convenience calls use.
	Operator string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client

	t testing.TB
}

// NewClient returns a client of the keyhub at url for test t, acting with
// the operator key operator ("" when the test has none).
func NewClient(t testing.TB, url, operator string) *Client {
	return &Client{URL: strings.TrimRight(url, "/"), Operator: operator, t: t}
}

// For returns a copy of c that reports to t, for use in subtests.
func (c *Client) For(t testing.TB) *Client {
	d := *c
	d.t = t
	return &d
}

// Resp is an answer, its body read in full.
type Resp struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the answer's headers.
	Header http.Header
	// Body is the answer's body as sent.
	Body []byte
}

// Object decodes the body as a JSON object and fails t if it is not one.
func (r Resp) Object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil || m == nil {
		t.Fatalf("answer %d is not a JSON object: %s", r.Status, r.Body)
	}
	return m
}

// Array decodes the body as a JSON array and fails t if it is not one.
func (r Resp) Array(t testing.TB) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.Body, &a); err != nil || a == nil {
		t.Fatalf("answer %d is not a JSON array: %s", r.Status, r.Body)
	}
	return a
}

// Auth returns the headers of a call made with credential key acting on
// tenant, for Do's headers; either may be "" and is then left out.
func Auth(key, tenant string) []string {
	var h []string
	if key != "" {
		h = append(h, "Authorization: Bearer "+key)
	}
	if tenant != "" {
		h = append(h, "Keyhub-Tenant: "+tenant)
	}
	return h
}

// Headers turns "Name: value" lines, as Do takes them, into the map a
// Scenario takes; "" lines are skipped and a later line for a name wins.
func Headers(lines ...string) map[string]string {
	m := map[string]string{}
	for _, h := range lines {
		if h == "" {
			continue
		}
		k, v, _ := strings.Cut(h, ":")
		m[http.CanonicalHeaderKey(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return m
}

// Basic returns the Authorization value of HTTP Basic client
// authentication, id and secret form-encoded first as RFC 6749 §2.3.1
// asks.
func Basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// Send sends a request and reads the whole answer without failing the
// test, for calls that may meet a server being stopped. body is sent as is
// when a string or []byte, nothing when nil, else as JSON; any body is
// labelled application/json unless headers name a Content-Type. headers
// are "Name: value" lines; "" entries are skipped. err is non-nil when the
// request failed or its answer could not be read in full; in the latter
// case the Resp holds the status, the headers and what was read.
func (c *Client) Send(method, path string, body any, headers ...string) (Resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Resp{}, fmt.Errorf("%s %s: encoding the body: %w", method, path, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		return Resp{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		if h == "" {
			continue
		}
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return Resp{}, fmt.Errorf("%s %s: header %q is not a \"Name: value\" line", method, path, h)
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return Resp{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	r := Resp{Status: res.StatusCode, Header: res.Header, Body: raw}
	if err != nil {
		return r, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return r, nil
}

// Do is Send that fails the test when the request fails.
func (c *Client) Do(method, path string, body any, headers ...string) Resp {
	c.t.Helper()
	r, err := c.Send(method, path, body, headers...)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// Must is Do that also fails the test unless the answer has status want.
func (c *Client) Must(want int, method, path string, body any, headers ...string) Resp {
	c.t.Helper()
	r := c.Do(method, path, body, headers...)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Form posts v form-encoded to path, with HTTP Basic client
// authentication when basicID is not "", as OAuth clients do.
func (c *Client) Form(path string, v url.Values, basicID, basicSecret string) Resp {
	c.t.Helper()
	h := []string{"Content-Type: application/x-www-form-urlencoded"}
	if basicID != "" {
		h = append(h, "Authorization: "+Basic(basicID, basicSecret))
	}
	return c.Do("POST", path, v.Encode(), h...)
}
