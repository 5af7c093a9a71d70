package e2e

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestRequestID: every answer carries X-Request-Id, the caller's when it
// is sane, else a new one; problem bodies and the request's log lines
// carry it too.
func TestRequestID(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	for _, tc := range []struct {
		name, method, path string
		body               any
		auth               bool
		status             int
		problem            bool
	}{
		{"OK", "GET", "/v1/tenants", nil, true, 200, false},
		{"Invalid", "POST", "/v1/tenants", map[string]any{"name": ""}, true, 422, true},
		{"Unauthenticated", "GET", "/v1/tenants", nil, false, 401, true},
		{"NotFound", "GET", "/v1/nothing-here", nil, true, 404, true},
		{"MethodNotAllowed", "PUT", "/v1/tenants", nil, true, 405, true},
		{"BadJSON", "POST", "/v1/tenants", "{", true, 400, true},
		{"Health", "GET", "/healthz", nil, false, 200, false},
		{"OAuth", "POST", "/oauth2/token", url.Values{}.Encode(), false, 401, false},
	} {
		for _, sent := range []string{"trace-" + strings.ToLower(tc.name) + "-1", "not sane", ""} {
			t.Run(tc.name+"/"+map[bool]string{true: "Kept", false: "New"}[!strings.Contains(sent, " ") && sent != ""], func(t *testing.T) {
				h := []string{}
				if tc.auth {
					h = append(h, apitest.Auth(s.Operator, "")...)
				}
				if sent != "" {
					h = append(h, "X-Request-Id: "+sent)
				}
				if tc.name == "OAuth" {
					h = append(h, "Content-Type: application/x-www-form-urlencoded")
				}
				r := s.For(t).Must(tc.status, tc.method, tc.path, tc.body, h...)
				id := r.Header.Get("X-Request-Id")
				switch {
				case sent != "" && !strings.Contains(sent, " "):
					if id != sent {
						t.Fatalf("X-Request-Id = %q, want the caller's %q", id, sent)
					}
				case id == "" || id == sent:
					t.Fatalf("X-Request-Id = %q for %q, want a new one", id, sent)
				}
				if tc.problem {
					var p map[string]any
					if err := json.Unmarshal(r.Body, &p); err != nil || p["request_id"] != id {
						t.Fatalf("problem request_id = %v, want %q: %s", p["request_id"], id, r.Body)
					}
				}
				if !strings.Contains(s.Log.String(), "request_id="+id) {
					t.Fatalf("no log line with request_id=%s", id)
				}
			})
		}
	}
}
