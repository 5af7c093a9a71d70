package httpapi

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/oauthapi"
	"github.com/keyhub/keyhub/internal/openapitest"
)

// notCreating are the POSTs that create nothing: asking again is asking
// again (a verification replayed from a day ago would be a stale answer),
// revoking twice is revoking once, a leak reported twice is the same leak,
// a delivery queued for retry twice is queued once, and a ticket checked or
// a payload signed twice is checked or signed again; forward auth is a
// verification.
var notCreating = []string{"POST /v1/keys/verify", "POST /v1/keys/revoke",
	"POST /oauth2/token", "POST /oauth2/introspect", "POST /oauth2/revoke",
	"POST /v1/leaks", "POST /v1/leaks/github", "POST /v1/webhooks/{id}/deliveries/{delivery}/retry",
	"POST /v1/tickets/verify", "POST /v1/signing-keys/{id}/sign", "POST /forward-auth"}

// TestEveryCreateIsIdempotent holds the routes and the document to one
// list: every native POST but those that create nothing is Idempotent, and
// exactly those operations document the Idempotency-Key parameter and the
// 409 of a key in use.
func TestEveryCreateIsIdempotent(t *testing.T) {
	s := New(Services{}, nil)
	oauthapi.New(nil, nil).Mount(s)
	doc := loadOpenAPI(t)
	wildcard := regexp.MustCompile(`\{[^}]+\}`)
	for path, methods := range s.router.Paths() {
		if !slices.Contains(methods, "POST") {
			continue
		}
		name := "POST " + path
		h, _ := s.mux.Handler(httptest.NewRequest("POST", wildcard.ReplaceAllString(path, "x"), nil))
		_, marked := h.(Idempotent)
		if want := !slices.Contains(notCreating, name); marked != want {
			t.Errorf("%s: Idempotent is %v, want %v", name, marked, want)
		}
		op := doc.Obj(t, "paths", path, "post")
		params, _ := op["parameters"].([]any)
		documented := slices.ContainsFunc(params, func(p any) bool {
			ref, _ := p.(map[string]any)["$ref"].(string)
			return ref == "#/components/parameters/IdempotencyKey"
		})
		if documented != marked {
			t.Errorf("%s: openapi.json documents Idempotency-Key: %v; the route honours it: %v", name, documented, marked)
		}
		if _, ok := openapitest.Obj(t, op, "responses")["409"]; marked && !ok {
			t.Errorf("%s: openapi.json lacks the 409 of a key in use", name)
		}
	}
}

// FuzzIdempotencyKey: whatever a client sends as Idempotency-Key, it is
// taken as it is when it is 1 to 255 visible ASCII characters, and refused
// with a 400 naming the header otherwise.
func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{"", "a", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "has space", "caf\u00e9", strings.Repeat("k", 256), "\x00", "~!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		r := httptest.NewRequest("POST", "/v1/api-keys", nil)
		r.Header[IdempotencyKeyHeader] = []string{key}
		got, err := idempotencyKey(r)
		visible := len(key) >= 1 && len(key) <= 255 && !strings.ContainsFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e })
		switch {
		case visible && (err != nil || got != key):
			t.Fatalf("key %q refused or changed: %q, %v", key, got, err)
		case !visible && err == nil:
			t.Fatalf("key %q accepted", key)
		case !visible:
			if p := problemOf(err); p.Status != http.StatusBadRequest || p.Code != "invalid_idempotency_key" ||
				len(p.Errors) != 1 || p.Errors[0].Field != IdempotencyKeyHeader {
				t.Fatalf("key %q: %+v", key, p)
			}
		}
	})
}

// TestIdempotencyKeyOnce: a request may carry one key only.
func TestIdempotencyKeyOnce(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/api-keys", nil)
	r.Header[IdempotencyKeyHeader] = []string{"a", "b"}
	if _, err := idempotencyKey(r); !keyhub.IsKind(err, keyhub.KindBadRequest) {
		t.Fatalf("two keys: %v, want a bad request", err)
	}
}
