package portal_test

import (
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestViewerIsOfferedNothingAndForgeryIsRefused: a Viewer sees no create
// button or action; a request the page never offered, forged with the
// page's own CSRF token, is refused with 403 like the API refuses it, and
// changes nothing.
func TestViewerIsOfferedNothingAndForgeryIsRefused(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid, b := tenantAdmin(t, s, "acme", "read:api_keys", "read:roles", "read:clients", "read:audit", "read:members")
	k, _ := s.Key(tid, map[string]any{"name": "prod", "scopes": []string{"labs:read"}})
	id := k["id"].(string)
	b.get("/portal/keys", 200)
	if b.has(`a[href="/portal/keys/new"]`) || strings.Contains(b.body(), "Create key") {
		t.Fatalf("a Viewer is offered to create a key: %.400s", b.body())
	}
	b.get("/portal/keys/"+id, 200)
	for _, sel := range []string{`a[href$="/rotate"]`, `form[action$="/disable"]`, `a[href$="/revoke"]`} {
		if b.has(sel) {
			t.Fatalf("a Viewer is offered %s on a key page", sel)
		}
	}
	for _, page := range []string{"/portal/roles", "/portal/clients", "/portal/members"} {
		b.get(page, 200)
		if b.has(`.head a.btn.primary`) {
			t.Fatalf("a Viewer is offered to create on %s", page)
		}
	}
	token := b.csrf()
	for _, forged := range []struct {
		path string
		form map[string]string
	}{
		{"/portal/keys", map[string]string{"csrf": token, "nonce": "n1", "name": "forged"}},
		{"/portal/keys/" + id + "/revoke", map[string]string{"csrf": token}},
		{"/portal/keys/" + id + "/disable", map[string]string{"csrf": token}},
		{"/portal/members", map[string]string{"csrf": token, "email": "eve@acme.test", "preset": "admin"}},
		{"/portal/roles", map[string]string{"csrf": token, "name": "forged"}},
		{"/portal/tenants", map[string]string{"csrf": token, "name": "forged"}},
	} {
		if status := b.post(forged.path, forged.form); status != 403 {
			t.Errorf("forged POST %s by a Viewer: %d, want 403", forged.path, status)
		}
	}
	after := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, tid, nil)
	if after["state"] != "active" || len(s.Native(200, "GET", "/v1/api-keys", s.Operator, tid, nil)["data"].([]any)) != 1 {
		t.Fatalf("a refused forgery changed keys: %v", after)
	}
	if n := len(s.Native(200, "GET", "/v1/members", s.Operator, tid, nil)["data"].([]any)); n != 1 {
		t.Fatalf("%d members after a refused forgery, want 1", n)
	}
}

// TestOtherTenantsKeyIsNotFound: a member of tenant A opening tenant B's
// key URL gets 404, as for an id that does not exist.
func TestOtherTenantsKeyIsNotFound(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	_, a := tenantAdmin(t, s, "acme")
	other := s.Tenant("globex", nil)
	k, _ := s.Key(other, map[string]any{"name": "globex-secret-project"})
	id := k["id"].(string)
	for _, path := range []string{"/portal/keys/" + id, "/portal/keys/" + id + "/revoke", "/portal/keys/" + id + "/rotate"} {
		a.get(path, 404)
		if strings.Contains(a.body(), "globex-secret-project") {
			t.Fatalf("%s shows the other tenant's key", path)
		}
	}
	unknown := "key_01ARZ3NDEKTSV4RRFFQ69G5FAV"
	a.get("/portal/keys/"+unknown, 404)
	if status := a.post("/portal/keys/"+id+"/revoke", map[string]string{"csrf": a.csrf()}); status != 404 {
		t.Fatalf("revoking another tenant's key: %d, want 404", status)
	}
	if v := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, other, nil); v["state"] != "active" {
		t.Fatalf("the other tenant's key: %v", v["state"])
	}
	a.get("/portal/no-such-page", 404)
}

// TestCSRF: a state-changing POST without the page's token, or with a
// wrong one, is 403 and changes nothing, for a member who may make it.
func TestCSRF(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid, b := tenantAdmin(t, s, "acme")
	k, _ := s.Key(tid, map[string]any{"name": "prod"})
	id := k["id"].(string)
	b.open("/portal/keys/" + id)
	good := b.csrf()
	for name, form := range map[string]map[string]string{
		"Missing": {},
		"Empty":   {"csrf": ""},
		"Wrong":   {"csrf": "x" + good[1:]},
		"Other":   {"csrf": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	} {
		if status := b.post("/portal/keys/"+id+"/revoke", form); status != 403 {
			t.Errorf("%s CSRF token: revoke answered %d, want 403", name, status)
		}
	}
	// Another session's token is wrong for this one.
	_, other := tenantAdmin(t, s, "globex")
	other.open("/portal/keys")
	if status := b.post("/portal/keys/"+id+"/revoke", map[string]string{"csrf": other.csrf()}); status != 403 {
		t.Errorf("another session's token: %d, want 403", status)
	}
	if v := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, tid, nil); v["state"] != "active" {
		t.Fatalf("a refused POST revoked the key")
	}
	// The sign-in forms have their own token, before any session.
	anon := newBrowser(t, s.URL)
	anon.open("/portal/sign-in")
	if status := anon.post("/portal/sign-in/key", map[string]string{"key": s.Operator}); status != 403 {
		t.Errorf("sign-in without its token: %d, want 403", status)
	}
	// The right token works.
	if status := b.post("/portal/keys/"+id+"/revoke", map[string]string{"csrf": good}); status != 303 {
		t.Fatalf("revoke with the page's token: %d, want 303", status)
	}
}

// TestNamesRenderAsText: a key, role and member named like markup show as
// that text; no script runs.
func TestNamesRenderAsText(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tid, b := tenantAdmin(t, s, "acme")
	evil := `<script>alert(1)</script>`
	k, _ := s.Key(tid, map[string]any{"name": evil, "meta": map[string]any{"x": `</pre><img src=x onerror=alert(2)>`}})
	s.Native(201, "POST", "/v1/roles", s.Operator, tid, map[string]any{"name": `"><svg onload=alert(3)>`})
	s.Native(201, "POST", "/v1/members", s.Operator, tid, map[string]any{"email": "x@acme.test", "name": `<b onmouseover=alert(4)>x</b>`})
	for _, path := range []string{"/portal/keys", "/portal/keys/" + k["id"].(string), "/portal/roles", "/portal/members", "/portal/audit"} {
		b.get(path, 200)
		if b.has("main script, main img, main svg[onload], main b[onmouseover]") {
			t.Fatalf("%s holds markup from a name", path)
		}
	}
	b.open("/portal/keys")
	if got := b.text("tbody td a"); got != evil {
		t.Fatalf("the key's name shows as %q, want the text %q", got, evil)
	}
	if n := b.dialogs.Load(); n != 0 {
		t.Fatalf("%d script dialogs opened", n)
	}
}
