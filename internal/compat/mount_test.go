package compat_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/compat/surfaces"
)

// TestMountTogether mounts every registered surface on the native router,
// as the server does by default: no pattern conflicts, each path reaches its
// surface and the native API is untouched.
func TestMountTogether(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tenant := s.Tenant("all", nil)
	_, key := s.Key(tenant, map[string]any{"name": "admin", "scopes": []string{"read:api_keys"}})
	auth := "Authorization: Bearer " + key

	// One probe per surface; a surface registered without one fails here,
	// so the registry and this test cannot drift apart.
	probes := map[string]func(t *testing.T){
		"yaxi": func(t *testing.T) {
			if a := s.Must(200, "GET", "/api/tenant/api-keys", nil, auth).Array(t); len(a) != 1 {
				t.Errorf("yaxi list: %v", a)
			}
		},
		"cycle": func(t *testing.T) {
			if m := s.Must(200, "GET", "/v1/hubs/current/api-keys", nil, auth, "X-Hub-Id: "+tenant).Object(t); len(m["data"].([]any)) != 1 {
				t.Errorf("cycle list: %v", m)
			}
		},
		"yativo": func(t *testing.T) {
			if m := s.Must(200, "GET", "/api/business/api-keys", nil, auth).Object(t); m["status"] != "success" {
				t.Errorf("yativo list: %v", m)
			}
		},
	}
	if got, want := slices.Sorted(maps.Keys(probes)), slices.Sorted(slices.Values(surfaces.Names())); !slices.Equal(got, want) {
		t.Fatalf("probes for %v, registered surfaces %v", got, want)
	}
	for _, name := range surfaces.Names() {
		t.Run(name, probes[name])
	}
	if m := s.Native(200, "GET", "/v1/api-keys", key, "", nil); len(m["data"].([]any)) != 1 {
		t.Errorf("native list: %v", m)
	}
	// Unknown paths keep the native 404.
	if r := s.Do("GET", "/api/nothing", nil, auth); r.Status != 404 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown path: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}
