package cycle_test

import (
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

func TestErrors(t *testing.T) {
	e := setup(t)
	s := e.s
	id := e.do(201, "POST", base, map[string]any{"name": "mine", "role_id": e.role})["data"].(map[string]any)["id"].(string)

	t.Run("Bodies", func(t *testing.T) {
		// source is the JSON pointer Cycle's errors name a body member by.
		cases := []struct {
			name, method, path, body string
			status                   int
			code, source             string
		}{
			{"SampleObjectIDRole", "POST", base, `{"name": "string", "role_id": "651586fca6078e98982dbd90", "ips": []}`, 422, "422.invalid-argument", "/role_id"},
			{"RoleRequired", "POST", base, `{"name":"x"}`, 422, "422.missing-argument", "/role_id"},
			{"RoleEmpty", "POST", base, `{"name":"x","role_id":""}`, 422, "422.invalid-argument", "/role_id"},
			{"NameRequired", "POST", base, `{"role_id":"` + e.role + `"}`, 422, "422.missing-argument", "/name"},
			{"NameEmpty", "POST", base, `{"name":" ","role_id":"` + e.role + `"}`, 422, "422.invalid-argument", "/name"},
			{"BadIP", "POST", base, `{"name":"x","role_id":"` + e.role + `","ips":["10.0.0.1","nope"]}`, 422, "422.invalid-argument", "/ips/1"},
			{"UnknownField", "POST", base, `{"name":"x","role_id":"` + e.role + `","scopes":["*"]}`, 400, "400.invalid-syntax", "/scopes"},
			{"WrongType", "POST", base, `{"name":"x","role_id":"` + e.role + `","ips":"10.0.0.1"}`, 400, "400.invalid-syntax", "/ips"},
			{"Malformed", "POST", base, `{"name":`, 400, "400.invalid-syntax", ""},
			{"Empty", "POST", base, ``, 400, "400.invalid-syntax", ""},
			{"TooLarge", "POST", base, apitest.BigBody(), 422, "422.max-exceeded", ""},
			{"PatchUnknownField", "PATCH", base + "/" + id, `{"enabled":false}`, 400, "400.invalid-syntax", "/enabled"},
			{"PatchWrongType", "PATCH", base + "/" + id, `{"name":1}`, 400, "400.invalid-syntax", "/name"},
			{"PatchRoleRemoved", "PATCH", base + "/" + id, `{"role_id":null}`, 422, "422.invalid-argument", "/role_id"},
			{"PatchUnknownRole", "PATCH", base + "/" + id, `{"role_id":"role_01HX9KZMB3F7VNQP8R2WDGT4E6"}`, 422, "422.invalid-argument", "/role_id"},
			{"PatchTooLarge", "PATCH", base + "/" + id, apitest.BigBody(), 422, "422.max-exceeded", ""},
		}
		var scenarios []apitest.Scenario
		for _, c := range cases {
			scenarios = append(scenarios, apitest.Scenario{Name: c.name, Method: c.method, URL: c.path,
				Headers: apitest.Headers(e.auth...), Body: c.body, Status: c.status,
				Check: func(t *testing.T, r apitest.Resp) {
					er := errOf(t, r, c.status, c.code)
					if src, _ := er["source"].(string); src != c.source {
						t.Errorf("source %q, want %q: %v", src, c.source, er)
					}
				}})
		}
		s.Run(t, scenarios)
		if n := s.Native(200, "GET", "/v1/api-keys/"+id, s.Operator, e.hub, nil)["name"]; n != "mine" {
			t.Errorf("refused patches changed the key: %v", n)
		}
	})

	t.Run("Auth", func(t *testing.T) {
		errOf(t, s.Do("GET", base, nil, "X-Hub-Id: "+e.hub), 401, "401.auth-invalid")
		errOf(t, s.Do("GET", base, nil, "X-Hub-Id: "+e.hub, "Authorization: Bearer kh_live_nope"), 401, "401.auth-invalid")
		er := errOf(t, s.Do("GET", base, nil, e.auth[0]), 422, "422.missing-argument")
		if !strings.Contains(er["detail"].(string), "X-Hub-Id") {
			t.Errorf("detail: %v", er["detail"])
		}
	})

	t.Run("WrongHub", func(t *testing.T) {
		other := s.Tenant("other hub", nil)
		errOf(t, s.Do("GET", base, nil, e.auth[0], "X-Hub-Id: "+other), 403, "403.wrong-hub")
		errOf(t, s.Do("POST", base, `{"name":"x","role_id":"`+e.role+`"}`, e.auth[0], "X-Hub-Id: "+other), 403, "403.wrong-hub")
		// Keyhub-Tenant cannot smuggle another hub in either.
		errOf(t, s.Do("GET", base, nil, e.auth[0], "X-Hub-Id: "+other, "Keyhub-Tenant: "+e.hub), 403, "403.wrong-hub")
	})

	t.Run("Operator", func(t *testing.T) {
		op := "Authorization: Bearer " + s.Operator
		data := s.Must(200, "GET", base, nil, op, "X-Hub-Id: "+e.hub).Object(t)["data"].([]any)
		if len(data) < 2 {
			t.Errorf("operator sees %d keys", len(data))
		}
		errOf(t, s.Do("GET", base, nil, op), 422, "422.missing-argument")
		errOf(t, s.Do("GET", base, nil, op, "X-Hub-Id: ten_01HX9KZMB3F7VNQP8R2WDGT4E6"), 404, "404.hub")
		errOf(t, s.Do("GET", base, nil, op, "X-Hub-Id: 651586fca6078e98982dbd90"), 404, "404.hub")
	})

	t.Run("Permissions", func(t *testing.T) {
		_, ro := s.Key(e.hub, map[string]any{"name": "reader", "scopes": []string{"read:api_keys"}})
		h := []string{"Authorization: Bearer " + ro, "X-Hub-Id: " + e.hub}
		for _, c := range []struct{ method, path, body, scope string }{
			{"POST", base, `{"name":"x","role_id":"` + e.role + `"}`, "create:api_keys"},
			{"PATCH", base + "/" + id, `{"name":"x"}`, "update:api_keys"},
			{"DELETE", base + "/" + id, "", "delete:api_keys"},
		} {
			r := s.Do(c.method, c.path, c.body, h...)
			er := errOf(t, r, 403, "403.permissions")
			if x := er["extra"].(map[string]any); x["capability"] != "api-keys-manage" || !strings.Contains(er["detail"].(string), c.scope) {
				t.Errorf("%s: %v", c.method, er)
			}
			if wa := r.Header.Get("WWW-Authenticate"); !strings.Contains(wa, `scope="`+c.scope+`"`) {
				t.Errorf("%s: WWW-Authenticate %q", c.method, wa)
			}
		}
		// Including roles reads roles, which needs read:roles: the
		// capability hubs-roles-view.
		er := errOf(t, s.Do("GET", base+"/"+id+"?include=roles", nil, h...), 403, "403.permissions")
		if x := er["extra"].(map[string]any); x["capability"] != "hubs-roles-view" {
			t.Errorf("include extra: %v", x)
		}
		// No escalation: a role with scopes the caller lacks, which no
		// capability names.
		big := s.Role(e.hub, "admins", "billing:*")
		er = errOf(t, s.Do("POST", base, `{"name":"x","role_id":"`+big+`"}`, e.auth...), 403, "403.permissions")
		if _, ok := er["extra"]; ok || !strings.Contains(er["detail"].(string), "billing:*") {
			t.Errorf("escalation: %v", er)
		}
	})

	t.Run("OtherHubsKey", func(t *testing.T) {
		other := s.Tenant("third hub", nil)
		k, secret := s.Key(other, map[string]any{"name": "theirs"})
		oid := k["id"].(string)
		errOf(t, s.Do("GET", base+"/"+oid, nil, e.auth...), 404, "404.hub.api-key")
		errOf(t, s.Do("PATCH", base+"/"+oid, `{"name":"stolen"}`, e.auth...), 404, "404.hub.api-key")
		errOf(t, s.Do("DELETE", base+"/"+oid, nil, e.auth...), 404, "404.hub.api-key")
		errOf(t, s.Do("GET", base+"/not-an-id", nil, e.auth...), 404, "404.hub.api-key")
		got := s.Native(200, "GET", "/v1/api-keys/"+oid, s.Operator, other, nil)
		if got["name"] != "theirs" || got["state"] != "active" {
			t.Errorf("other hub's key changed: %v", got)
		}
		if v := s.Verify(secret, nil, ""); v["code"] != "VALID" {
			t.Errorf("other hub's key: %v", v)
		}
		if strings.Contains(string(s.Must(200, "GET", base, nil, e.auth...).Body), oid) {
			t.Error("other hub's key listed")
		}
	})

	t.Run("MethodNotAllowed", func(t *testing.T) {
		// Cycle's description has no 405: an unserved method is the
		// 404.uri of an unknown path, with Allow.
		r := s.Do("PUT", base+"/"+id, `{}`, e.auth...)
		errOf(t, r, 404, "404.uri")
		if r.Header.Get("Allow") != "DELETE, GET, PATCH" {
			t.Errorf("Allow %q", r.Header.Get("Allow"))
		}
		errOf(t, s.Do("GET", "/v1/hubs/current/containers", nil, e.auth...), 404, "404.uri")
		errOf(t, s.Do("GET", "/v1/hubs/current/api-keys/"+id+"/extra", nil, e.auth...), 404, "404.uri")
	})

	if strings.Contains(s.Log.String(), "level=ERROR") {
		t.Errorf("server logged errors:\n%s", s.Log)
	}
}
