package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestPagingAtTheMaximum: with 205 objects, every list answers 200 items
// and a cursor at limit=200, then the rest; limit 1 pages one at a time;
// 0 and 201 are refused. The compat lists see all 205 as well.
func TestPagingAtTheMaximum(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		const n = 205
		tid := s.Tenant("acme", nil)
		for i := range n - 1 {
			s.Tenant(fmt.Sprintf("t%d", i), nil)
		}
		for i := range n {
			s.Key(tid, map[string]any{"name": fmt.Sprintf("k%d", i)})
			s.Native(201, "POST", "/v1/roles", s.Operator, tid, map[string]any{"name": fmt.Sprintf("r%d", i)})
			s.OAuthClient(tid, map[string]any{"name": fmt.Sprintf("c%d", i)})
		}
		lists := []struct {
			path, tenant string
			total        int // at least
		}{
			{"/v1/tenants", "", n},
			{"/v1/api-keys", tid, n},
			{"/v1/roles", tid, n},
			{"/v1/clients", tid, n},
			{"/v1/audit-events", tid, 3*n + 1},
		}
		for _, l := range lists {
			t.Run(l.path, func(t *testing.T) {
				seen := map[string]bool{}
				cursor, pages := "", 0
				for {
					q := url.Values{"limit": {"200"}}
					if cursor != "" {
						q.Set("cursor", cursor)
					}
					m := s.Native(200, "GET", l.path+"?"+q.Encode(), s.Operator, l.tenant, nil)
					data := m["data"].([]any)
					pages++
					for _, o := range data {
						obj := o.(map[string]any)
						id, _ := obj["id"].(string)
						if id == "" {
							id, _ = obj["client_id"].(string)
						}
						if seen[id] {
							t.Fatalf("%s listed twice", id)
						}
						seen[id] = true
					}
					next, _ := m["next_cursor"].(string)
					if pages == 1 && (len(data) != 200 || next == "") {
						t.Fatalf("first page: %d items, next %q", len(data), next)
					}
					if next == "" {
						break
					}
					cursor = next
				}
				if len(seen) < l.total || pages < 2 {
					t.Fatalf("%d objects in %d pages, want at least %d", len(seen), pages, l.total)
				}
				one := s.Native(200, "GET", l.path+"?limit=1", s.Operator, l.tenant, nil)
				if len(one["data"].([]any)) != 1 || one["next_cursor"] == nil {
					t.Fatalf("limit=1: %v", one)
				}
				for _, bad := range []string{"0", "201", "-1", "x"} {
					if r := s.Do("GET", l.path+"?limit="+bad, nil, apitest.Auth(s.Operator, l.tenant)...); r.Status != 400 {
						t.Fatalf("limit=%s: %d", bad, r.Status)
					}
				}
			})
		}
		t.Run("compat", func(t *testing.T) {
			h := "Authorization: Bearer " + s.Operator
			if r := s.Do("GET", "/api/tenant/api-keys", nil, h, "Keyhub-Tenant: "+tid); r.Status != 200 || len(arrayOf(t, r)) != n {
				t.Fatalf("yaxi: %d, %d keys", r.Status, len(arrayOf(t, r)))
			}
			if r := s.Do("GET", "/api/business/api-keys", nil, h, "Keyhub-Tenant: "+tid); r.Status != 200 || len(r.Object(t)["data"].([]any)) != n {
				t.Fatalf("yativo: %d", r.Status)
			}
			got := 0
			for page := 1; page <= 3; page++ {
				r := s.Do("GET", fmt.Sprintf("/v1/hubs/current/api-keys?page[size]=100&page[number]=%d", page), nil, h, "X-Hub-Id: "+tid)
				if r.Status != 200 {
					t.Fatalf("cycle page %d: %d %s", page, r.Status, r.Body)
				}
				got += len(r.Object(t)["data"].([]any))
			}
			if got != n {
				t.Fatalf("cycle: %d keys in three pages of 100", got)
			}
		})
	})
}

func arrayOf(t *testing.T, r apitest.Resp) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("not a JSON array (%d): %s", r.Status, r.Body)
	}
	return a
}
