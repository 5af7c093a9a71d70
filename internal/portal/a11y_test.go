package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestAccessibilityOfEveryPage: axe-core finds no serious or critical
// violation on any page of the portal, with data and empty, light and
// dark, wide and phone-sized.
func TestAccessibilityOfEveryPage(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid := s.Tenant("acme", nil)
	s.Native(201, "POST", "/v1/scopes", s.Operator, "", map[string]any{"name": "payouts:write", "description": "Send payouts"})
	role := s.Role(tid, "payouts", "payouts:write")
	k, secret := s.Key(tid, map[string]any{"name": "billing", "scopes": []string{"payouts:write"}, "role_id": role,
		"ips": []string{"10.0.0.0/8"}, "ratelimit": map[string]any{"limit": 100, "duration": "1m"},
		"credits": map[string]any{"remaining": 1000, "refill": map[string]any{"amount": 1000, "interval": "daily"}}})
	s.Verify(secret, []string{"payouts:write"}, "10.1.2.3")
	s.Verify(secret, []string{"refunds:write"}, "10.1.2.3")
	key := k["id"].(string)
	client, _ := s.OAuthClient(tid, map[string]any{"name": "deploy-bot", "scopes": []string{"payouts:write"}})
	member := s.Native(201, "POST", "/v1/members", s.Operator, tid, map[string]any{"email": "ada@acme.test", "name": "Ada"})["id"].(string)

	b := newBrowser(t, s.URL)
	b.visit("/portal/sign-in", 200)
	b.signInWithKey(s.Operator)
	b.visit("/portal/keys", 200) // pick a tenant
	b.visit("/portal/tenants", 200)
	b.visit("/portal/tenants/"+tid, 200)
	b.visit("/portal/scopes", 200)
	b.visit("/portal/signing-keys", 200)
	b.click(`form[action="/portal/signing-keys/rotate"] button`)
	b.a11y()
	b.post("/portal/tenant", map[string]string{"csrf": b.csrf(), "tenant_id": tid})
	pages := []string{
		"/portal/keys", "/portal/keys?state=revoked", "/portal/keys/new", "/portal/keys/" + key, "/portal/keys/" + key + "?window=7d",
		"/portal/keys/" + key + "?window=30d", "/portal/keys/" + key + "/rotate", "/portal/keys/" + key + "/revoke",
		"/portal/roles", "/portal/roles/new", "/portal/roles/" + role, "/portal/roles/" + role + "/delete",
		"/portal/clients", "/portal/clients/new", "/portal/clients/" + client, "/portal/clients/" + client + "/rotate-secret",
		"/portal/clients/" + client + "/delete", "/portal/members", "/portal/members?q=nobody", "/portal/members/new",
		"/portal/members/" + member, "/portal/members/" + member + "/remove", "/portal/audit", "/portal/audit?action=nothing",
	}
	for _, p := range pages {
		b.visit(p, 200)
	}
	b.visit("/portal/keys/key_01ARZ3NDEKTSV4RRFFQ69G5FAV", 404)
	// A form refused, with errors beside its fields; a secret shown once.
	b.open("/portal/clients/new")
	b.typeInto("#name", "x")
	b.typeInto("#token_ttl", "1s")
	if resp := b.click(`form[action="/portal/clients"] button[type=submit]`); resp.Status != 422 {
		t.Fatalf("refused client form: %d", resp.Status)
	}
	b.a11y()
	b.open("/portal/clients/new")
	b.typeInto("#name", "ci-bot")
	if resp := b.click(`form[action="/portal/clients"] button[type=submit]`); resp.Status != 201 {
		t.Fatalf("client create: %d %.300s", resp.Status, b.body())
	}
	b.a11y()
	if !strings.HasPrefix(b.text(".secret h1"), "Your new OAuth client") || b.text("#secret") == "" {
		t.Fatalf("client secret page: %.300s", b.body())
	}

	// Dark mode and a phone.
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	}))
	for _, p := range []string{"/portal/keys", "/portal/keys/" + key, "/portal/keys/new", "/portal/audit"} {
		b.visit(p, 200)
	}
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range []string{"/portal/keys", "/portal/keys/" + key, "/portal/members/new"} {
		b.visit(p, 200)
	}
}
