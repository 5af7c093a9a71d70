package cycle_test

import (
	"slices"
	"strings"
	"testing"
)

const roles = "/v1/hubs/current/roles"

func specific(r map[string]any) []string {
	var out []string
	for _, c := range r["capabilities"].(map[string]any)["specific"].([]any) {
		out = append(out, c.(string))
	}
	return out
}

// TestRoleAndKeyFlow is the README's Cycle flow: a role with the
// capability api-keys-manage, made on the Cycle surface, lets its keys
// manage keys there; the rank rule is the coverage rule.
func TestRoleAndKeyFlow(t *testing.T) {
	e := setup(t)
	s := e.s
	op := []string{"Authorization: Bearer " + s.Operator, "X-Hub-Id: " + e.hub}
	mk := func(body string) map[string]any {
		t.Helper()
		return s.Must(201, "POST", roles, body, op...).Object(t)["data"].(map[string]any)
	}

	km := mk(`{"name":"Key Managers","identifier":"key-managers","rank":3,
		"capabilities":{"all":false,"specific":["api-keys-manage","hubs-roles-view","servers-view"]}}`)
	if km["identifier"] != "key-managers" || km["name"] != "Key Managers" || km["root"] != false || km["rank"] != float64(0) ||
		km["creator"].(map[string]any)["type"] != "employee" || km["hub_id"] != e.hub {
		t.Errorf("created role: %v", km)
	}
	if got := specific(km); !slices.Equal(got, []string{"api-keys-manage", "hubs-roles-view", "servers-view"}) {
		t.Errorf("capabilities %v", got)
	}
	nat := s.Native(200, "GET", "/v1/roles/"+km["id"].(string), s.Operator, e.hub, nil)
	want := []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys", "read:roles", "servers-view"}
	if got := toStrings(nat["scopes"]); !slices.Equal(got, want) {
		t.Errorf("native scopes %v, want %v", got, want)
	}

	// A key of the role manages keys, on the Cycle surface and natively.
	k := s.Must(201, "POST", base, `{"name":"manager","role_id":"`+km["id"].(string)+`"}`, op...).Object(t)["data"].(map[string]any)
	mine := []string{"Authorization: Bearer " + k["secret"].(string), "X-Hub-Id: " + e.hub}
	s.Must(200, "GET", base, nil, mine...)
	made := s.Must(201, "POST", base, `{"name":"made by manager","role_id":"`+km["id"].(string)+`"}`, mine...).Object(t)
	s.Must(200, "DELETE", base+"/"+made["data"].(map[string]any)["id"].(string), nil, mine...)
	s.Must(200, "GET", roles, nil, mine...)
	// It cannot make roles: that is hubs-roles-manage.
	er := errOf(t, s.Do("POST", roles, `{"identifier":"x","rank":1}`, mine...), 403, "403.permissions")
	if er["extra"].(map[string]any)["capability"] != "hubs-roles-manage" {
		t.Errorf("missing capability: %v", er)
	}

	// Ranks are the coverage rule: a lead edits roles its own covers, and
	// no other, nor gives a role more than it holds.
	lead := mk(`{"name":"Leads","identifier":"leads","rank":6,"capabilities":{"all":false,
		"specific":["hubs-roles-manage","api-keys-manage","servers-view","servers-manage"]}}`)
	billing := mk(`{"identifier":"billing","rank":2,"capabilities":{"all":false,"specific":["billing-invoices-pay"]}}`)
	if billing["name"] != "billing" {
		t.Errorf("a role named by its identifier: %v", billing)
	}
	lk := s.Must(201, "POST", base, `{"name":"lead key","role_id":"`+lead["id"].(string)+`"}`, op...).Object(t)["data"].(map[string]any)
	leadAuth := []string{"Authorization: Bearer " + lk["secret"].(string), "X-Hub-Id: " + e.hub}
	edited := s.Must(200, "PATCH", roles+"/"+km["id"].(string), `{"identifier":"key-managers","rank":3,
		"capabilities":{"all":false,"specific":["api-keys-manage","servers-manage"]}}`, leadAuth...).Object(t)["data"].(map[string]any)
	if got := specific(edited); !slices.Equal(got, []string{"api-keys-manage", "servers-manage"}) {
		t.Errorf("edited capabilities %v", got)
	}
	errOf(t, s.Do("PATCH", roles+"/"+billing["id"].(string), `{"identifier":"billing","rank":1}`, leadAuth...), 403, "403.permissions")
	errOf(t, s.Do("PATCH", roles+"/"+km["id"].(string), `{"identifier":"key-managers","rank":3,
		"capabilities":{"all":false,"specific":["billing-invoices-pay"]}}`, leadAuth...), 403, "403.permissions")
	errOf(t, s.Do("POST", roles, `{"identifier":"root","rank":10,"capabilities":{"all":true,"specific":[]}}`, leadAuth...), 403, "403.permissions")
	if got := specific(s.Must(200, "GET", roles+"/"+billing["id"].(string), nil, op...).Object(t)["data"].(map[string]any)); !slices.Equal(got, []string{"billing-invoices-pay"}) {
		t.Errorf("a refused edit changed the role: %v", got)
	}

	// meta=counts, on a get and a list, and paging.
	g := s.Must(200, "GET", roles+"/"+km["id"].(string)+"?meta=counts", nil, op...).Object(t)["data"].(map[string]any)
	if c := g["meta"].(map[string]any)["counts"].(map[string]any); c["api_keys"] != float64(2) || c["members"] != float64(0) {
		t.Errorf("counts %v", g["meta"])
	}
	all := s.Must(200, "GET", roles+"?meta=counts", nil, op...).Object(t)["data"].([]any)
	var ids []string
	for _, r := range all {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	if len(ids) != 4 {
		t.Fatalf("listed %d roles: %v", len(ids), ids)
	}
	for n, want := range map[string][]string{"1": ids[:2], "2": ids[2:], "3": nil} {
		var got []string
		for _, r := range s.Must(200, "GET", roles+"?page[size]=2&page[number]="+n, nil, op...).Object(t)["data"].([]any) {
			got = append(got, r.(map[string]any)["id"].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("page %s: %v, want %v", n, got, want)
		}
	}

	// Delete: refused while keys belong to the role, then a job descriptor.
	errOf(t, s.Do("DELETE", roles+"/"+km["id"].(string), nil, op...), 403, "403.invalid-state")
	del := s.Must(202, "DELETE", roles+"/"+billing["id"].(string), nil, op...).Object(t)
	if del["data"].(map[string]any)["action"] != "delete" {
		t.Errorf("delete: %v", del)
	}
	errOf(t, s.Do("GET", roles+"/"+billing["id"].(string), nil, op...), 404, "404.hub.role")
	errOf(t, s.Do("DELETE", roles+"/"+billing["id"].(string), nil, op...), 404, "404.hub.role")
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestRoleShapes covers what a Cycle role shows of keyhub roles: ranks
// from the default ladder, root for "*", native scopes kept by a Cycle
// edit, and the defaults without authentication.
func TestRoleShapes(t *testing.T) {
	e := setup(t)
	s := e.s
	op := []string{"Authorization: Bearer " + s.Operator, "X-Hub-Id: " + e.hub}

	d := s.Must(200, "GET", roles+"/defaults", nil).Object(t)
	data := d["data"].([]any)
	ranks := d["meta"].(map[string]any)["ranks"].(map[string]any)
	if len(data) != 6 || ranks["owner"] != float64(10) || ranks["developer"] != float64(4) {
		t.Fatalf("defaults: %v", d)
	}
	for _, it := range data {
		dr := it.(map[string]any)
		made := s.Must(201, "POST", roles, map[string]any{"name": dr["name"], "identifier": dr["identifier"],
			"rank": ranks[dr["identifier"].(string)], "capabilities": dr["capabilities"]}, op...).Object(t)["data"].(map[string]any)
		if made["rank"] != ranks[dr["identifier"].(string)] || made["root"] != dr["root"] {
			t.Errorf("%v made from its default ranks %v, root %v", dr["identifier"], made["rank"], made["root"])
		}
		if !slices.Equal(specific(made), specific(dr)) {
			t.Errorf("%v: capabilities %v, default's %v", dr["identifier"], specific(made), specific(dr))
		}
	}

	// A native role's scopes that no capability stands for survive a Cycle
	// edit of its capabilities; a Cycle view shows only capabilities.
	id := s.Role(e.hub, "mixed", "servers-view", "payouts:write")
	v := s.Must(200, "GET", roles+"/"+id, nil, op...).Object(t)["data"].(map[string]any)
	if got := specific(v); !slices.Equal(got, []string{"servers-view"}) || v["identifier"] != "mixed" {
		t.Errorf("mixed role: %v", v)
	}
	s.Must(200, "PATCH", roles+"/"+id, `{"identifier":"mixed","rank":1,"capabilities":{"all":false,"specific":["containers-view"]}}`, op...)
	if got := toStrings(s.Native(200, "GET", "/v1/roles/"+id, s.Operator, e.hub, nil)["scopes"]); !slices.Equal(got, []string{"containers-view", "payouts:write"}) {
		t.Errorf("scopes after a Cycle edit: %v", got)
	}
	// Renaming through name: the identifier follows.
	r := s.Must(200, "PATCH", roles+"/"+id, `{"name":"Mixed Bag","identifier":"mixed-bag","rank":1}`, op...).Object(t)["data"].(map[string]any)
	if r["name"] != "Mixed Bag" || r["identifier"] != "mixed-bag" {
		t.Errorf("renamed: %v", r)
	}

	cases := []struct{ name, method, path, body, code, source string }{
		{"IdentifierRequired", "POST", roles, `{"rank":1}`, "422.missing-argument", "/identifier"},
		{"RankRequired", "POST", roles, `{"identifier":"x"}`, "422.missing-argument", "/rank"},
		{"RankRange", "POST", roles, `{"identifier":"x","rank":11}`, "422.invalid-argument", "/rank"},
		{"RankNotWhole", "POST", roles, `{"identifier":"x","rank":1.5}`, "400.invalid-syntax", "/rank"},
		{"BadIdentifier", "POST", roles, `{"identifier":"Not An Identifier","rank":1}`, "422.invalid-argument", "/identifier"},
		{"IdentifierNotOfName", "POST", roles, `{"name":"Deployers","identifier":"deploy","rank":1}`, "422.invalid-argument", "/identifier"},
		{"UnknownCapability", "POST", roles, `{"identifier":"x","rank":1,"capabilities":{"all":false,"specific":["servers-view","servers:read"]}}`, "422.invalid-argument", "/capabilities/specific/1"},
		{"NotInCatalogue", "POST", roles, `{"identifier":"x","rank":1,"capabilities":{"all":false,"specific":["servers-view","dns-view"]}}`, "422.invalid-argument", "/capabilities/specific/1"},
		{"Extra", "POST", roles, `{"identifier":"x","rank":1,"extra":{"team":"a"}}`, "422.invalid-argument", "/extra"},
		{"UnknownField", "POST", roles, `{"identifier":"x","rank":1,"scopes":["*"]}`, "400.invalid-syntax", "/scopes"},
		{"PatchUnknownRole", "PATCH", roles + "/role_01HX9KZMB3F7VNQP8R2WDGT4E6", `{"identifier":"x","rank":1}`, "404.hub.role", ""},
		{"UnknownSort", "GET", roles + "?sort=name", ``, "422.invalid-argument", ""},
		{"Filter", "GET", roles + "?filter[search]=x", ``, "422.invalid-argument", ""},
		{"UnknownMeta", "GET", roles + "?meta=members", ``, "422.invalid-argument", ""},
	}
	// A catalogue that holds servers-view only, so dns-view is refused.
	s.Native(201, "POST", "/v1/scopes", s.Operator, "", map[string]any{"name": "servers-view"})
	s.Native(201, "POST", "/v1/scopes", s.Operator, "", map[string]any{"name": "servers-manage"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do(c.method, c.path, c.body, op...)
			er := errOf(t, r, map[string]int{"422": 422, "400": 400, "404": 404}[c.code[:3]], c.code)
			if src, _ := er["source"].(string); src != c.source {
				t.Errorf("source %q, want %q: %s", src, c.source, r.Body)
			}
		})
	}
	if strings.Contains(s.Log.String(), "level=ERROR") {
		t.Errorf("server logged errors:\n%s", s.Log)
	}
}
