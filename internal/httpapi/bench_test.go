package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// BenchmarkVerifyHandler is POST /v1/keys/verify through the router and
// handler, without the network: what keyhub adds to net/http per verify.
func BenchmarkVerifyHandler(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "k.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	core := app.NewCore(st, app.CoreConfig{})
	defer core.Close()
	svc := core.Manage
	op, err := svc.BootstrapOperator(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_b"}, Operator: true, Scopes: []string{"*"}}}
	ten, _ := svc.CreateTenant(ctx, c, service.TenantCreate{Name: "acme"})
	c.TenantID = ten.ID
	_, key, err := svc.CreateKey(ctx, c, service.KeyCreate{Name: "k", Scopes: []string{"payouts:write"}, Meta: []byte(`{"plan":"pro"}`)})
	if err != nil {
		b.Fatal(err)
	}
	h := httpapi.New(core.Services(), nil)
	body := `{"key":"` + key + `","scopes":["payouts:write"],"ip":"203.0.113.7"}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/keys/verify", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+op)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"valid":true`) {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkForwardAuthHandler is GET /forward-auth?scope=… as nginx asks
// it, with a verifier key, through the router and handler.
func BenchmarkForwardAuthHandler(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "k.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	core := app.NewCore(st, app.CoreConfig{})
	defer core.Close()
	svc := core.Manage
	c := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_b"}, Operator: true, Scopes: []string{"*"}}}
	ten, _ := svc.CreateTenant(ctx, c, service.TenantCreate{Name: "acme"})
	c.TenantID = ten.ID
	_, key, err := svc.CreateKey(ctx, c, service.KeyCreate{Name: "k", Scopes: []string{"payouts:write"}, Meta: []byte(`{"plan":"pro"}`)})
	if err != nil {
		b.Fatal(err)
	}
	_, verifier, err := svc.CreateKey(ctx, c, service.KeyCreate{Name: "proxy", Scopes: []string{"verify:api_keys"}})
	if err != nil {
		b.Fatal(err)
	}
	h := httpapi.New(core.Services(), nil)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/forward-auth?scope=payouts:write", nil)
		req.Header.Set("Keyhub-Verifier", verifier)
		req.Header.Set("X-Api-Key", key)
		req.Header.Set("X-Original-URI", "/payouts/1")
		req.Header.Set("X-Real-IP", "203.0.113.7")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
