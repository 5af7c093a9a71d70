package client

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// verifier is a stand-in of keyhub's verify endpoint that answers each key
// from a table and counts the questions.
type verifier struct {
	mu      sync.Mutex
	answers map[string]string
	asked   []VerifyRequest
}

func (v *verifier) serve(t *testing.T) *Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/keys/verify" || r.Header.Get("Authorization") != "Bearer verifier" {
			http.Error(w, "unexpected", 500)
			return
		}
		var in VerifyRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		v.mu.Lock()
		v.asked = append(v.asked, in)
		a, ok := v.answers[in.Key]
		v.mu.Unlock()
		if !ok {
			a = `{"valid":false,"code":"NOT_FOUND"}`
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, a)
	}))
	t.Cleanup(srv.Close)
	return New(srv.URL, "verifier", WithHTTPClient(srv.Client()))
}

func (v *verifier) count() int { v.mu.Lock(); defer v.mu.Unlock(); return len(v.asked) }

const validAnswer = `{"valid":true,"code":"VALID","key":{"id":"key_01","tenant_id":"ten_01","name":"backend",
"environment":"live","scopes":["payouts:*"],"role":null,"meta":{"plan":"pro"}},
"ratelimit":{"limit":10,"remaining":9,"reset":1893456000000}}`

func TestMiddlewareAnswers(t *testing.T) {
	v := &verifier{answers: map[string]string{
		"good":    validAnswer,
		"revoked": `{"valid":false,"code":"REVOKED","key":{"id":"key_02"}}`,
		"scope":   `{"valid":false,"code":"INSUFFICIENT_SCOPE","missing_scope":"payouts:write"}`,
		"ip":      `{"valid":false,"code":"FORBIDDEN_IP"}`,
		"limited": `{"valid":false,"code":"RATE_LIMITED","ratelimit":{"limit":10,"remaining":0,"reset":` + jsonInt(time.Now().Add(30*time.Second).UnixMilli()) + `}}`,
		"spent":   `{"valid":false,"code":"USAGE_EXCEEDED","credits":{"remaining":0}}`,
	}}
	kc := v.serve(t)
	var seen *http.Request
	h := Middleware(MiddlewareOptions{Client: kc, Header: "X-Custom-Key"})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		k, ok := KeyFromContext(r.Context())
		if !ok || k.ID != "key_01" {
			t.Errorf("key in context %+v %v", k, ok)
		}
	}))
	cases := []struct {
		name      string
		header    [2]string
		status    int
		challenge string
		retry     bool
	}{
		{"no credential", [2]string{"X-Other", "good"}, 401, `Bearer error="invalid_token"`, false},
		{"bearer", [2]string{"Authorization", "Bearer good"}, 200, "", false},
		{"bearer lower case", [2]string{"Authorization", "bearer good"}, 200, "", false},
		{"x-api-key", [2]string{"X-Api-Key", "good"}, 200, "", false},
		{"configured header", [2]string{"X-Custom-Key", "good"}, 200, "", false},
		{"basic is no credential", [2]string{"Authorization", "Basic Z29vZA=="}, 401, `Bearer error="invalid_token"`, false},
		{"garbage", [2]string{"X-Api-Key", "garbage"}, 401, `Bearer error="invalid_token"`, false},
		{"revoked", [2]string{"X-Api-Key", "revoked"}, 401, `Bearer error="invalid_token"`, false},
		{"missing scope", [2]string{"X-Api-Key", "scope"}, 403, `Bearer error="insufficient_scope", scope="payouts:write"`, false},
		{"forbidden ip", [2]string{"X-Api-Key", "ip"}, 403, "", false},
		{"rate limited", [2]string{"X-Api-Key", "limited"}, 429, "", true},
		{"usage exceeded", [2]string{"X-Api-Key", "spent"}, 429, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen = nil
			req := httptest.NewRequest("GET", "/x", nil)
			req.Header.Set(c.header[0], c.header[1])
			req.Header.Set(HeaderKeyID, "key_forged")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != c.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
			}
			if got := rec.Header().Get("Retry-After"); (got != "") != c.retry || got == "0" {
				t.Errorf("Retry-After %q", got)
			}
			if c.status != 200 {
				if seen != nil {
					t.Error("a refused request reached the handler")
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				return
			}
			if seen == nil {
				t.Fatal("the handler was not reached")
			}
			if got := seen.Header.Get(HeaderKeyID); got != "key_01" {
				t.Errorf("%s %q: a forged header must be replaced", HeaderKeyID, got)
			}
			if got := seen.Header.Get(HeaderScopes); got != "payouts:*" {
				t.Errorf("%s %q", HeaderScopes, got)
			}
			if m, err := DecodeMeta(seen.Header); err != nil || string(m) != `{"plan":"pro"}` {
				t.Errorf("meta %s %v", m, err)
			}
			if rec.Header().Get(HeaderRateLimitLimit) != "10" || rec.Header().Get(HeaderRateLimitRemaining) != "9" ||
				rec.Header().Get(HeaderRateLimitReset) != "1893456000" {
				t.Errorf("rate-limit headers %v", rec.Header())
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestMiddlewareCache(t *testing.T) {
	v := &verifier{answers: map[string]string{"good": validAnswer,
		"limited": `{"valid":false,"code":"RATE_LIMITED"}`}}
	h := Middleware(MiddlewareOptions{Client: v.serve(t), CacheTTL: time.Hour})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	call := func(key string) int {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Api-Key", key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for range 3 {
		if got := call("good"); got != 200 {
			t.Fatalf("status %d", got)
		}
		if got := call("garbage"); got != 401 {
			t.Fatalf("status %d", got)
		}
		if got := call("limited"); got != 429 {
			t.Fatalf("status %d", got)
		}
	}
	// good and garbage are asked once; a rate-limit answer every time.
	if got := v.count(); got != 2+3 {
		t.Errorf("keyhub asked %d times, want 5", got)
	}
}

func TestMiddlewareScopesAndCost(t *testing.T) {
	v := &verifier{answers: map[string]string{"good": validAnswer}}
	cost := int64(3)
	h := Middleware(MiddlewareOptions{Client: v.serve(t), Scopes: []string{"payouts:read"}, Cost: &cost,
		ClientIP: func(*http.Request) string { return "203.0.113.9" }})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Api-Key", "good")
	h.ServeHTTP(httptest.NewRecorder(), req)
	got := v.asked[0]
	if strings.Join(got.Scopes, ",") != "payouts:read" || got.IP != "203.0.113.9" || got.Cost == nil || *got.Cost != 3 {
		t.Errorf("asked %+v", got)
	}
}

func TestMiddlewareUnavailable(t *testing.T) {
	var told error
	kc := New("http://127.0.0.1:1", "verifier")
	h := Middleware(MiddlewareOptions{Client: kc, OnError: func(_ *http.Request, err error) { told = err }})(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("reached the handler") }))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Api-Key", "good")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 503 || told == nil {
		t.Errorf("status %d, error %v", rec.Code, told)
	}
}

func TestRequireScopes(t *testing.T) {
	v := &verifier{answers: map[string]string{"good": validAnswer}}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mw := Middleware(MiddlewareOptions{Client: v.serve(t)})
	for _, c := range []struct {
		scopes []string
		status int
	}{
		{[]string{"payouts:write"}, 200},
		{[]string{"payouts:write", "payouts:read"}, 200},
		{[]string{"refunds:write"}, 403},
		{[]string{"payouts:write", "refunds:write"}, 403},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-Api-Key", "good")
		rec := httptest.NewRecorder()
		mw(RequireScopes(c.scopes...)(ok)).ServeHTTP(rec, req)
		if rec.Code != c.status {
			t.Errorf("%v: status %d, want %d", c.scopes, rec.Code, c.status)
		}
	}
	rec := httptest.NewRecorder()
	RequireScopes("a")(ok).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 401 {
		t.Errorf("without Middleware: status %d", rec.Code)
	}
}

func TestCoveredBy(t *testing.T) {
	for _, c := range []struct {
		g, s string
		want bool
	}{
		{"payouts:write", "payouts:write", true},
		{"payouts:*", "payouts:write", true},
		{"payouts:*", "payouts:write:eu", true},
		{"*", "anything:at:all", true},
		{"payouts:*:eu", "payouts:write:eu", true},
		{"payouts:*:eu", "payouts:write:us", false},
		{"payouts:write", "payouts", false},
		{"payouts", "payouts:write", false},
		{"payouts:*:eu", "payouts:*", false},
	} {
		if got := CoveredBy([]string{c.g}, c.s); got != c.want {
			t.Errorf("CoveredBy(%q, %q) = %v, want %v", c.g, c.s, got, c.want)
		}
	}
}

func FuzzCredential(f *testing.F) {
	f.Add("Bearer abc", "", "")
	f.Add("bearer  ", "k", "x")
	f.Add("Basic abc", "", "y")
	f.Fuzz(func(t *testing.T, auth, apiKey, extra string) {
		h := http.Header{}
		h.Set("Authorization", auth)
		h.Set(APIKeyHeader, apiKey)
		h.Set("X-Extra", extra)
		got := Credential(h, "X-Extra")
		if got != strings.TrimSpace(got) {
			t.Errorf("credential %q is not trimmed", got)
		}
		if got != "" && !strings.Contains(auth, got) && !strings.Contains(apiKey, got) && !strings.Contains(extra, got) {
			t.Errorf("credential %q came from nowhere", got)
		}
	})
}
