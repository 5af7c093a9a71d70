package portal_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/keyhub/keyhub/internal/apitest"
)

// tenantAdmin makes a tenant and a member who may manage its keys, signed
// in by hand-off in a fresh browser.
func tenantAdmin(t *testing.T, s *apitest.Server, name string, scopes ...string) (string, *browser) {
	t.Helper()
	tid := s.Tenant(name, nil)
	if scopes == nil {
		scopes = []string{"*"}
	}
	link := s.Native(201, "POST", "/v1/portal/sessions", s.Operator, tid, map[string]any{
		"user": map[string]any{"id": "u_" + name, "email": "admin@" + name + ".test", "name": name + " admin"}, "scopes": scopes})
	b := newBrowser(t, s.URL)
	b.open(strings.TrimPrefix(link["url"].(string), s.URL))
	if !strings.HasPrefix(b.path(), "/portal/") || strings.HasPrefix(b.path(), "/portal/sign-in") || strings.HasPrefix(b.path(), "/portal/handoff") {
		t.Fatalf("hand-off did not sign in: %s %.300s", b.path(), b.body())
	}
	return tid, b
}

// TestCreateKeySecretOnceThenRevoke: a key made in the browser shows its
// secret once; a reload shows it no more; the key verifies VALID over the
// API; revoked in the browser, it verifies REVOKED. All of it with
// JavaScript off: the flow needs none.
func TestCreateKeySecretOnceThenRevoke(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	_, b := tenantAdmin(t, s, "acme")
	b.noScript()
	b.visit("/portal/keys", 200)
	b.click(`.head a[href="/portal/keys/new"]`)
	b.a11y()
	b.typeInto("#name", "billing-backend")
	b.typeInto("#scopes", "payouts:write labs:read")
	b.typeInto("#expires_in", "90d")
	b.typeInto("#meta", `{"plan":"pro"}`)
	resp := b.click(`form[action="/portal/keys"] button[type=submit]`)
	if resp.Status != 201 || resp.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("create: status %d, Cache-Control %q: %.300s", resp.Status, resp.Headers["Cache-Control"], b.body())
	}
	b.a11y()
	secret := b.text("#secret")
	if !strings.HasPrefix(secret, "kh_live_") || !strings.Contains(b.body(), "You will not be able to see it again") {
		t.Fatalf("secret page: %.400s", b.body())
	}
	if strings.Contains(b.url(), secret) {
		t.Fatal("the secret is in the URL")
	}
	if v := s.Verify(secret, []string{"payouts:write"}, ""); v["code"] != "VALID" {
		t.Fatalf("the new key verifies %v", v["code"])
	}

	// A reload submits the form again: nothing is made, no secret shown.
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.body(), secret) || b.has("#secret") {
		t.Fatalf("a reload shows the secret again: %.300s", b.body())
	}
	if !strings.Contains(b.body(), "shown once") {
		t.Fatalf("after a reload: %.300s", b.body())
	}
	list := s.Native(200, "GET", "/v1/api-keys", s.Operator, b.tenantOf(s), nil)["data"].([]any)
	if len(list) != 1 {
		t.Fatalf("%d keys after a reload of the create page, want 1", len(list))
	}
	id := list[0].(map[string]any)["id"].(string)

	b.visit("/portal/keys/"+id, 200)
	if !strings.Contains(b.text("h1"), "billing-backend") || b.text(".state") != "active" {
		t.Fatalf("key page: %.300s", b.body())
	}
	b.click(`a[href="/portal/keys/` + id + `/revoke"]`)
	b.a11y()
	if !strings.Contains(b.text("h1"), "billing-backend") {
		t.Fatalf("the confirmation does not name the key: %q", b.text("h1"))
	}
	b.click(`form[action="/portal/keys/` + id + `/revoke"] button`)
	b.wantOn("/portal/keys/" + id)
	if b.text(".state") != "revoked" || !strings.Contains(b.text(".flash"), "revoked") {
		t.Fatalf("after revoking: %.300s", b.body())
	}
	if v := s.Verify(secret, nil, ""); v["code"] != "REVOKED" {
		t.Fatalf("the revoked key verifies %v", v["code"])
	}
	if strings.Contains(s.Log.String(), secret) {
		t.Fatal("the new key's secret is in the log")
	}
}

// TestKeyFormErrorsBesideFields: the service's field errors show next to
// the field they name, and the form keeps what was typed.
func TestKeyFormErrorsBesideFields(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	_, b := tenantAdmin(t, s, "acme")
	b.open("/portal/keys/new")
	b.typeInto("#name", "ci")
	b.typeInto("#scopes", "good:scope bad scope!")
	b.typeInto("#ips", "10.0.0.0/8\nnot-an-ip")
	b.typeInto("#rl-limit", "many")
	resp := b.click(`form[action="/portal/keys"] button[type=submit]`)
	if resp.Status != 422 {
		t.Fatalf("status %d, want 422", resp.Status)
	}
	if got := b.text("#rl-limit ~ p, fieldset .error"); !strings.Contains(got, "whole number") {
		t.Fatalf("rate limit error %q", got)
	}
	// The number fixed, the service names the bad scope and address.
	b.typeInto("#rl-limit", "100")
	b.typeInto("#rl-window", "1m")
	resp = b.click(`form[action="/portal/keys"] button[type=submit]`)
	if resp.Status != 422 {
		t.Fatalf("status %d, want 422", resp.Status)
	}
	b.a11y()
	if got := b.text("#scopes-err"); !strings.Contains(got, `"scope!"`) {
		t.Fatalf("scopes error %q", got)
	}
	if got := b.text("#ips-err"); !strings.Contains(got, "not-an-ip") {
		t.Fatalf("ips error %q", got)
	}
	if got := eval[string](b, `document.querySelector("#name").value`); got != "ci" {
		t.Fatalf("the form lost the name: %q", got)
	}
	if got := eval[string](b, `document.querySelector("#scopes").value`); got != "good:scope bad scope!" {
		t.Fatalf("the form lost the scopes: %q", got)
	}
	// With JavaScript on, the scope field says what is wrong as you type.
	if got := b.text("#scopes-check"); !strings.Contains(got, "scope!") {
		t.Fatalf("the scope check as you type says %q", got)
	}
}

// TestRotateAndDisable: rotate with grace shows the new secret once; the
// old key keeps working; disable and enable round-trip.
func TestRotateAndDisable(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid, b := tenantAdmin(t, s, "acme")
	k, secret := s.Key(tid, map[string]any{"name": "ci", "scopes": []string{"labs:read"}})
	id := k["id"].(string)
	b.visit("/portal/keys/"+id, 200)
	b.click(`.actions form[action$="/disable"] button`)
	if b.text(".state") != "disabled" {
		t.Fatalf("after disable: %.300s", b.body())
	}
	if v := s.Verify(secret, nil, ""); v["code"] != "DISABLED" {
		t.Fatalf("disabled key verifies %v", v["code"])
	}
	b.click(`.actions form[action$="/enable"] button`)
	if b.text(".state") != "active" {
		t.Fatalf("after enable: %.300s", b.body())
	}
	b.click(`a[href="/portal/keys/` + id + `/rotate"]`)
	b.a11y()
	b.typeInto("#grace_period", "1h")
	resp := b.click(`form[action$="/rotate"] button[type=submit]`)
	if resp.Status != 201 {
		t.Fatalf("rotate: %d %.300s", resp.Status, b.body())
	}
	fresh := b.text("#secret")
	if fresh == "" || fresh == secret {
		t.Fatalf("rotated secret %q", fresh)
	}
	if v := s.Verify(fresh, nil, ""); v["code"] != "VALID" {
		t.Fatalf("the new key verifies %v", v["code"])
	}
	if v := s.Verify(secret, nil, ""); v["code"] != "VALID" {
		t.Fatalf("the old key within its grace verifies %v", v["code"])
	}
}

// tenantOf is the tenant the browser's header names, by the operator's
// list.
func (b *browser) tenantOf(s *apitest.Server) string {
	b.t.Helper()
	name := b.text(".tenant-name")
	for _, t := range s.Native(200, "GET", "/v1/tenants?limit=200", s.Operator, "", nil)["data"].([]any) {
		if m := t.(map[string]any); m["name"] == name {
			return m["id"].(string)
		}
	}
	b.t.Fatalf("no tenant named %q", name)
	return ""
}
