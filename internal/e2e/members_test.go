package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// TestMembersAPI: the members endpoints on both stores: create, read,
// search, change, remove; scopes held to the coverage rule; another
// tenant's member is not found; bad input names its field.
func TestMembersAPI(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid := s.Tenant("acme", nil)
		other := s.Tenant("globex", nil)
		_, admin := s.Key(tid, map[string]any{"name": "admin", "scopes": []string{"read:members", "manage:members", "labs:read"}})
		_, reader := s.Key(tid, map[string]any{"name": "reader", "scopes": []string{"read:members"}})
		h := apitest.Auth(admin, "")
		m := s.Native(201, "POST", "/v1/members", admin, "", map[string]any{"email": " Ada@ACME.test ", "name": "Ada", "scopes": []string{"labs:read"}})
		id := m["id"].(string)
		if m["email"] != "ada@acme.test" || m["tenant_id"] != tid || m["external_id"] != "" {
			t.Fatalf("created member %v", m)
		}
		s.Run(t, []apitest.Scenario{
			{Name: "Get", Method: "GET", URL: "/v1/members/" + id, Headers: apitest.Headers(h...), Status: 200, Contains: []string{`"email":"ada@acme.test"`}},
			{Name: "Search", Method: "GET", URL: "/v1/members?search=ACME", Headers: apitest.Headers(apitest.Auth(reader, "")...), Status: 200, Contains: []string{id}},
			{Name: "SearchNone", Method: "GET", URL: "/v1/members?search=nobody", Headers: apitest.Headers(h...), Status: 200, Contains: []string{`"data":[]`}},
			{Name: "ErrWider", Method: "POST", URL: "/v1/members", Headers: apitest.Headers(h...), Body: map[string]any{"email": "b@acme.test", "scopes": []string{"payouts:write"}},
				Status: 403, Contains: []string{`"scope":"payouts:write"`}},
			{Name: "ErrEmailTaken", Method: "POST", URL: "/v1/members", Headers: apitest.Headers(h...), Body: map[string]any{"email": "ADA@acme.test"},
				Status: 422, Contains: []string{`"field":"email"`}},
			{Name: "ErrBadEmail", Method: "POST", URL: "/v1/members", Headers: apitest.Headers(h...), Body: map[string]any{"email": "not an email"},
				Status: 422, Contains: []string{`"field":"email"`}},
			{Name: "ErrUnknownField", Method: "POST", URL: "/v1/members", Headers: apitest.Headers(h...), Body: map[string]any{"email": "c@acme.test", "role": "admin"},
				Status: 400, Contains: []string{`"field":"role"`}},
			{Name: "ErrReaderCreates", Method: "POST", URL: "/v1/members", Headers: apitest.Headers(apitest.Auth(reader, "")...), Body: map[string]any{"email": "c@acme.test"},
				Status: 403, Contains: []string{"manage:members"}},
			{Name: "OtherTenantNotFound", Method: "GET", URL: "/v1/members/" + id, Headers: apitest.Headers(apitest.Auth(s.Operator, other)...), Status: 404},
			{Name: "MalformedIDNotFound", Method: "GET", URL: "/v1/members/mem_x", Headers: apitest.Headers(h...), Status: 404},
			{Name: "Patch", Method: "PATCH", URL: "/v1/members/" + id, Headers: apitest.Headers(h...), Body: map[string]any{"name": "Ada L."},
				Status: 200, Contains: []string{`"name":"Ada L."`}},
			{Name: "ErrReaderRemoves", Method: "DELETE", URL: "/v1/members/" + id, Headers: apitest.Headers(apitest.Auth(reader, "")...), Status: 403},
		})
		s.Must(204, "DELETE", "/v1/members/"+id, nil, h...)
		s.Must(404, "GET", "/v1/members/"+id, nil, h...)
		events := s.Native(200, "GET", "/v1/audit-events?target_id="+id, s.Operator, tid, nil)["data"].([]any)
		var actions []string
		for _, e := range events {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		if strings.Join(actions, " ") != "member.deleted member.updated member.created" {
			t.Fatalf("audit of the member: %v", actions)
		}
	})
}

// noRedirect is an HTTP client that shows redirects instead of following.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// handoff opens the hand-off link and answers the session cookie.
func handoff(t *testing.T, link string) *http.Cookie {
	t.Helper()
	res, err := noRedirect.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "keyhub_session" && c.Value != "" {
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("hand-off answered %d", res.StatusCode)
			}
			return c
		}
	}
	t.Fatalf("hand-off answered %d without a session cookie", res.StatusCode)
	return nil
}

// portalStatus is the status of a portal page fetched with cookie.
func portalStatus(t *testing.T, base, path string, cookie *http.Cookie) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.AddCookie(cookie)
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// TestPortalSessionsAcrossNodesAndRemoval: a portal session is kept in the
// store, so a second node serves it; removing the member through the API
// ends it on every node at once.
func TestPortalSessionsAcrossNodesAndRemoval(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		n2 := s.Node(t)
		tid := s.Tenant("acme", nil)
		link := s.Native(201, "POST", "/v1/portal/sessions", s.Operator, tid, map[string]any{
			"user": map[string]any{"id": "u1", "email": "ada@acme.test"}, "scopes": []string{"read:api_keys"}})
		if link["expires_at"] == nil {
			t.Fatalf("hand-off answer %v", link)
		}
		cookie := handoff(t, link["url"].(string))
		for _, base := range []string{s.URL, n2.URL} {
			if st, loc := portalStatus(t, base, "/portal/keys", cookie); st != 200 {
				t.Fatalf("%s/portal/keys with the session: %d %s", base, st, loc)
			}
		}
		// The link is spent, on every node.
		if res, err := noRedirect.Get(strings.Replace(link["url"].(string), s.URL, n2.URL, 1)); err != nil || res.StatusCode != 401 {
			t.Fatalf("a used hand-off link on the other node: %v %v", res.StatusCode, err)
		}
		members := s.Native(200, "GET", "/v1/members", s.Operator, tid, nil)["data"].([]any)
		id := members[0].(map[string]any)["id"].(string)
		s.Must(204, "DELETE", "/v1/members/"+id, nil, apitest.Auth(s.Operator, tid)...)
		for _, base := range []string{n2.URL, s.URL} {
			if st, loc := portalStatus(t, base, "/portal/keys", cookie); st != 303 || !strings.HasPrefix(loc, "/portal/sign-in") {
				t.Fatalf("%s/portal/keys after the member's removal: %d %s", base, st, loc)
			}
		}
	})
}

// TestPortalOff: with --portal=false there are no pages and no
// hand-offs.
func TestPortalOff(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.NoPortal = true })
	tid := s.Tenant("acme", nil)
	s.Run(t, []apitest.Scenario{
		{Name: "NoPortal", Method: "GET", URL: "/portal/", Status: 404, Contains: []string{"not_found"}},
		{Name: "NoRoot", Method: "GET", URL: "/", Status: 404},
		{Name: "NoHandoff", Method: "POST", URL: "/v1/portal/sessions", Headers: apitest.Headers(apitest.Auth(s.Operator, tid)...),
			Body: map[string]any{"user": map[string]any{"id": "u", "email": "a@acme.test"}}, Status: 404, Contains: []string{"portal_disabled"}},
	})
	if n := len(s.Native(200, "GET", "/v1/members", s.Operator, tid, nil)["data"].([]any)); n != 0 {
		t.Fatalf("a refused hand-off made %d members", n)
	}
}
