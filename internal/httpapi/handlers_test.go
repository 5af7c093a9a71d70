package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
)

// The handlers only translate: these tests drive them over fakes of the
// services, with no store behind them.

type fakeAuth struct{ p *keyhub.Principal }

func (f fakeAuth) Authenticate(_ context.Context, token string, _ netip.Addr) (*keyhub.Principal, error) {
	if token != "good" {
		return nil, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_token", "bad")
	}
	return f.p, nil
}

// fakeKeys answers ListKeys with a fixed page and records what it was asked;
// UpdateKey refuses as the coverage rule does.
type fakeKeys struct {
	httpapi.KeyService
	got service.KeyQuery
}

func (f *fakeKeys) ListKeys(_ context.Context, c *keyhub.Caller, q service.KeyQuery) (service.Page[*keyhub.APIKey], error) {
	f.got = q
	return service.Page[*keyhub.APIKey]{Items: []*keyhub.APIKey{{ID: "key_01", TenantID: c.TenantID, Name: "k", Enabled: true}}, Next: "NEXT"}, nil
}

func (f *fakeKeys) UpdateKey(context.Context, *keyhub.Caller, string, service.KeyPatch) (*keyhub.APIKey, error) {
	return nil, keyhub.ErrNotCovered("payouts:write", "api key key_01")
}

func newFakeServer(keys *fakeKeys) *httpapi.Server {
	p := &keyhub.Principal{Actor: keyhub.Actor{Type: "api_key", ID: "key_me"}, TenantID: "ten_A", Scopes: []string{"read:api_keys"}}
	return httpapi.New(httpapi.Services{Auth: fakeAuth{p}, Keys: keys, Now: func() time.Time { return time.Unix(0, 0) }}, nil)
}

func TestListKeysTranslatesQueryAndPage(t *testing.T) {
	keys := &fakeKeys{}
	s := newFakeServer(keys)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/api-keys?limit=200&cursor=abc&state=active&environment=live&name=ci", nil)
	req.Header.Set("Authorization", "Bearer good")
	s.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := service.KeyQuery{PageRequest: service.PageRequest{Limit: 200, Cursor: "abc"}, State: "active", Environment: "live", NamePrefix: "ci"}
	if keys.got.PageRequest != want.PageRequest || keys.got.State != want.State || keys.got.Environment != want.Environment || keys.got.NamePrefix != want.NamePrefix {
		t.Fatalf("asked the service for %+v, want %+v", keys.got, want)
	}
	var body struct {
		Data       []map[string]any `json:"data"`
		NextCursor *string          `json:"next_cursor"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Data) != 1 || body.Data[0]["id"] != "key_01" || body.NextCursor == nil || *body.NextCursor != "NEXT" {
		t.Fatalf("answer %s", rec.Body)
	}
}

func TestBadLimitIsRefusedBeforeTheService(t *testing.T) {
	keys := &fakeKeys{}
	s := newFakeServer(keys)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/api-keys?limit=ten", nil)
	req.Header.Set("Authorization", "Bearer good")
	s.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"limit"`) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

func TestCoverageRefusalIs403WithChallenge(t *testing.T) {
	s := newFakeServer(&fakeKeys{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("PATCH", "/v1/api-keys/key_01", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer good")
	s.ServeHTTP(rec, req)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), `"scope":"payouts:write"`) {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if h := rec.Header().Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) || !strings.Contains(h, `scope="payouts:write"`) {
		t.Fatalf("challenge %q", h)
	}
}

func TestUnknownCredentialIs401(t *testing.T) {
	s := newFakeServer(&fakeKeys{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/api-keys", nil)
	req.Header.Set("Authorization", "Bearer nope")
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("status %d, challenge %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}
