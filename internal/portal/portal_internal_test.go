package portal

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/service"
)

// TestCookiesOverTLS: over TLS the session and CSRF cookies carry the
// __Host- prefix and Secure, and are read back only under that name.
func TestCookiesOverTLS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		cookie string
		secure bool
	}{
		{"PlainHTTP", false, "keyhub_session", false},
		{"TLS", true, "__Host-keyhub_session", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/portal/", nil)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			setCookie(w, r, sessionCookieName, "tok", time.Now().Add(time.Hour), 0)
			cs := w.Result().Cookies()
			if len(cs) != 1 || cs[0].Name != tc.cookie || cs[0].Secure != tc.secure || !cs[0].HttpOnly ||
				cs[0].SameSite != http.SameSiteLaxMode || cs[0].Path != "/" || cs[0].Domain != "" {
				t.Fatalf("cookie %+v: want %s, Secure %v, HttpOnly, SameSite=Lax, Path=/, no Domain", cs, tc.cookie, tc.secure)
			}
			// The other scheme's name is not read.
			back := httptest.NewRequest("GET", "/portal/", nil)
			back.TLS = r.TLS
			back.AddCookie(&http.Cookie{Name: "keyhub_session", Value: "plain"})
			back.AddCookie(&http.Cookie{Name: "__Host-keyhub_session", Value: "host"})
			want := map[bool]string{false: "plain", true: "host"}[tc.tls]
			if got := sessionCookie(back); got != want {
				t.Fatalf("session cookie read %q, want %q", got, want)
			}
		})
	}
}

// TestSafeNext: after sign-in the browser goes only to a page of the
// portal.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/portal/keys?state=active": "/portal/keys?state=active",
		"/portal/keys/key_1":        "/portal/keys/key_1",
		"":                          "/portal/",
		"https://evil.test/portal/": "/portal/",
		"//evil.test/portal/":       "/portal/",
		"/portal//evil.test":        "/portal/",
		"/portal/\\evil":            "/portal/",
		"/v1/api-keys":              "/portal/",
		"/portal/sign-in":           "/portal/",
		"javascript:alert(1)":       "/portal/",
		"/portal/keys\r\nX: y":      "/portal/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUsageChart: hourly counts land in the slot of their hour (24 h) or
// day (7 d), stacked in the order verification checks them, with a title
// per bar segment and a table row per slot holding the same numbers.
func TestUsageChart(t *testing.T) {
	now := time.Date(2030, 5, 6, 14, 30, 0, 0, time.UTC)
	buckets := []service.UsageBucket{
		{Hour: now.Truncate(time.Hour), Counts: map[string]int64{"VALID": 30, "REVOKED": 5}},
		{Hour: now.Truncate(time.Hour).Add(-2 * time.Hour), Counts: map[string]int64{"RATE_LIMITED": 2, "VALID": 8}},
		{Hour: now.Add(-30 * time.Hour), Counts: map[string]int64{"VALID": 1000}}, // outside 24 h
		{Hour: now.Add(-3 * 24 * time.Hour), Counts: map[string]int64{"VALID": 7, "FUTURE_CODE": 1}},
	}
	day := newUsageChart(buckets, windowOf("24h"), now)
	if len(day.Rows) != 24 || len(day.Bars) != 24 {
		t.Fatalf("24h chart has %d rows, %d bars", len(day.Rows), len(day.Bars))
	}
	if got := strings.Join(day.Legend, " "); got != "VALID REVOKED RATE_LIMITED" {
		t.Fatalf("legend %q, want the order of verification's checks", got)
	}
	last, twoAgo := day.Rows[23], day.Rows[21]
	if last.Total != 35 || last.Counts[0] != 30 || last.Counts[1] != 5 || twoAgo.Total != 10 || twoAgo.Counts[2] != 2 || day.Total != 45 {
		t.Fatalf("rows: last %+v, two hours ago %+v, total %d", last, twoAgo, day.Total)
	}
	if segs := day.Bars[23].Segs; len(segs) != 2 || segs[0].Class != "c-valid" || segs[1].Class != "c-revoked" ||
		!strings.Contains(segs[1].Title, "5 REVOKED") || !strings.Contains(segs[1].Title, "May 6 14:00 UTC") {
		t.Fatalf("last bar %+v", segs)
	}
	if day.YTicks[len(day.YTicks)-1].Label != "40" {
		t.Fatalf("y axis tops at %s for a peak of 35, want 40", day.YTicks[len(day.YTicks)-1].Label)
	}
	week := newUsageChart(buckets, windowOf("7d"), now)
	if len(week.Rows) != 7 || week.Total != 45+1000+8 {
		t.Fatalf("7d chart: %d rows, total %d", len(week.Rows), week.Total)
	}
	if got := strings.Join(week.Legend, " "); got != "VALID REVOKED RATE_LIMITED FUTURE_CODE" {
		t.Fatalf("7d legend %q: an unknown outcome goes last", got)
	}
	if windowOf("nonsense").Key != "24h" {
		t.Fatal("an unknown window is not the default")
	}
	empty := newUsageChart(nil, windowOf("30d"), now)
	if len(empty.Rows) != 30 || empty.Total != 0 || len(empty.Legend) != 0 {
		t.Fatalf("empty 30d chart %+v", empty)
	}
}

// TestDiffLines: audit diffs read as one line per field changed.
func TestDiffLines(t *testing.T) {
	got := diffLines([]byte(`{"name":{"from":"a","to":"b"},"scopes":{"to":["x:*"]},"ips":{"to":[]},"id":{"to":"key_1"},` +
		`"enabled":{"from":true,"to":false},"expires_at":{"from":"2030-01-01T00:00:00Z","to":null}}`))
	want := []diffLine{{"enabled", "true", "false"}, {"expires_at", `"2030-01-01T00:00:00Z"`, "null"}, {"name", `"a"`, `"b"`},
		{"scopes", "", `["x:*"]`}}
	if len(got) != len(want) {
		t.Fatalf("diffLines = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("diffLines[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if diffLines([]byte(`not json`)) != nil {
		t.Fatal("a diff that is not JSON has lines")
	}
}
