package portal

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
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
