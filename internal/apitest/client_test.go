package apitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// echo answers every request with what it received.
func echo(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, secret, basic := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "uri": r.RequestURI, "body": string(body),
			"content_type": r.Header.Get("Content-Type"), "authorization": r.Header.Get("Authorization"),
			"tenant": r.Header.Get("Keyhub-Tenant"), "x": r.Header.Values("X-Test"),
			"basic": basic, "basic_id": id, "basic_secret": secret,
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSend(t *testing.T) {
	c := NewClient(t, echo(t).URL+"/", "op")
	cases := []struct {
		name    string
		body    any
		headers []string
		want    map[string]any
	}{
		{"NoBody", nil, nil, map[string]any{"body": "", "content_type": ""}},
		{"ValueAsJSON", map[string]any{"a": 1}, nil, map[string]any{"body": `{"a":1}`, "content_type": "application/json"}},
		{"StringAsIs", `{"a":`, nil, map[string]any{"body": `{"a":`, "content_type": "application/json"}},
		{"BytesAsIs", []byte("x=1"), []string{"Content-Type: text/plain"}, map[string]any{"body": "x=1", "content_type": "text/plain"}},
		{"HeaderLines", nil, []string{"X-Test:  a b ", "", "Keyhub-Tenant: ten_1"}, map[string]any{"x": []any{"a b"}, "tenant": "ten_1"}},
		{"Auth", nil, Auth("kh_x", "ten_2"), map[string]any{"authorization": "Bearer kh_x", "tenant": "ten_2"}},
		{"AuthEmpty", nil, Auth("", ""), map[string]any{"authorization": "", "tenant": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.For(t).Send("PATCH", "/p?q=1", tc.body, tc.headers...)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != http.StatusTeapot || r.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("answer %d %v", r.Status, r.Header)
			}
			got := r.Object(t)
			if got["method"] != "PATCH" || got["uri"] != "/p?q=1" {
				t.Errorf("request line %v %v", got["method"], got["uri"])
			}
			for k, v := range tc.want {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
	t.Run("BadHeaderLine", func(t *testing.T) {
		if _, err := c.Send("GET", "/", nil, "Authorization Bearer x"); err == nil || !strings.Contains(err.Error(), "Name: value") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Unencodable", func(t *testing.T) {
		if _, err := c.Send("POST", "/", map[string]any{"f": func() {}}); err == nil {
			t.Fatal("no error for a body that is not JSON")
		}
	})
	t.Run("FormWithBasic", func(t *testing.T) {
		r := c.For(t).Form("/token", url.Values{"a": {"b c"}}, "cli:1", "s&cret")
		got := r.Object(t)
		// The id and secret are form-encoded inside Basic (RFC 6749 §2.3.1).
		if got["content_type"] != "application/x-www-form-urlencoded" || got["body"] != "a=b+c" ||
			got["basic"] != true || got["basic_id"] != "cli%3A1" || got["basic_secret"] != "s%26cret" {
			t.Fatalf("form request %v", got)
		}
	})
}

func TestHeaders(t *testing.T) {
	got := Headers(append(Auth("kh_k", "ten_1"), "", "x-test: a", "X-Test:b: c ")...)
	want := map[string]string{"Authorization": "Bearer kh_k", "Keyhub-Tenant": "ten_1", "X-Test": "b: c"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Headers = %v, want %v", got, want)
	}
}

func TestSendCutShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, `{"valid":`)
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	r, err := NewClient(t, srv.URL, "").Send("GET", "/", nil)
	if err == nil || r.Status != 200 || string(r.Body) != `{"valid":` {
		t.Fatalf("cut-short answer: %d %q, err %v; want status, partial body and an error", r.Status, r.Body, err)
	}
	if _, err := NewClient(t, "http://127.0.0.1:1", "").Send("GET", "/", nil); err == nil {
		t.Fatal("no error when nothing listens")
	}
}

// recorder is a testing.TB that records failures instead of failing; its
// Fatal calls end the goroutine, as testing's do.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...); runtime.Goexit() }
func (r *recorder) Fatal(a ...any)            { r.errs = append(r.errs, fmt.Sprint(a...)); runtime.Goexit() }

// failures runs f with a recorder and returns what it reported.
func failures(f func(tb testing.TB)) []string {
	r := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r.errs
}

func TestMustAndDecoding(t *testing.T) {
	url := echo(t).URL
	if errs := failures(func(tb testing.TB) { NewClient(tb, url, "").Must(200, "GET", "/", nil) }); len(errs) != 1 || !strings.Contains(errs[0], "status 418, want 200") {
		t.Errorf("Must with the wrong status reported %q", errs)
	}
	if errs := failures(func(tb testing.TB) { NewClient(tb, url, "").Must(418, "GET", "/", nil) }); len(errs) != 0 {
		t.Errorf("Must with the right status reported %q", errs)
	}
	if errs := failures(func(tb testing.TB) { NewClient(tb, "http://127.0.0.1:1", "").Do("GET", "/", nil) }); len(errs) != 1 {
		t.Errorf("Do without a server reported %q", errs)
	}
	for _, c := range []struct {
		body   string
		object bool
		array  bool
	}{{`{"a":1}`, true, false}, {`[1]`, false, true}, {`null`, false, false}, {`{"a":`, false, false}, {``, false, false}} {
		r := Resp{Status: 200, Body: []byte(c.body)}
		if errs := failures(func(tb testing.TB) { r.Object(tb) }); (len(errs) == 0) != c.object {
			t.Errorf("Object(%q) reported %q", c.body, errs)
		}
		if errs := failures(func(tb testing.TB) { r.Array(tb) }); (len(errs) == 0) != c.array {
			t.Errorf("Array(%q) reported %q", c.body, errs)
		}
	}
}

func TestShape(t *testing.T) {
	want := map[string]string{"id": "string", "n": "number|null", "tags": "array", "meta": "object", "ok": "boolean"}
	good := map[string]any{"id": "x", "n": nil, "tags": []any{}, "meta": map[string]any{}, "ok": true}
	if errs := failures(func(tb testing.TB) { Shape(tb, "good", good, want) }); len(errs) != 0 {
		t.Errorf("good object reported %q", errs)
	}
	bad := map[string]any{"id": 1.0, "n": 2.0, "tags": []any{}, "meta": map[string]any{}, "extra": "x"}
	errs := failures(func(tb testing.TB) { Shape(tb, "bad", bad, want) })
	for _, w := range []string{`bad: id is number (1), want string`, `bad: unexpected member "extra"`, `bad: missing member "ok"`} {
		found := false
		for _, e := range errs {
			found = found || e == w
		}
		if !found {
			t.Errorf("missing report %q in %q", w, errs)
		}
	}
	if len(errs) != 3 {
		t.Errorf("want 3 reports, got %q", errs)
	}
	if TypeOf(int(1)) != "?" || TypeOf(1.0) != "number" {
		t.Errorf("TypeOf")
	}
}

func TestBigBody(t *testing.T) {
	b := BigBody()
	var m map[string]string
	if err := json.Unmarshal([]byte(b), &m); err != nil || len(b) <= 1<<20 {
		t.Fatalf("BigBody is %d bytes, valid JSON: %v", len(b), err)
	}
}
