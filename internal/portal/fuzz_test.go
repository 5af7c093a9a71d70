package portal

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzSafeNext: whatever a sign-in URL's next holds, the browser goes to a
// page of the portal on this host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/portal/keys", "//evil.test", "/portal//x", "https://x/portal/", "/portal/\\x", "/%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/portal/") ||
			strings.Contains(got, "//") || strings.Contains(got, "\\") || strings.ContainsAny(got, "\r\n") {
			t.Fatalf("safeNext(%q) = %q, which may leave the portal", s, got)
		}
	})
}

// FuzzFormFields: the form readers take any text without panicking, and
// what they read is a trimmed part of it.
func FuzzFormFields(f *testing.F) {
	for _, s := range []string{"a b,c\nd", "", "live=kh_live test=kh_test", "90d", "-5", "1_000", "=", "x=", "ü=ñ \t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := httptest.NewRequest("POST", "/portal/keys", strings.NewReader(url.Values{"v": {s}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return
		}
		fr := readForm(r)
		for _, item := range fr.list("v") {
			if item == "" || strings.ContainsAny(item, " ,\n\r\t") || !strings.Contains(s, item) {
				t.Fatalf("list(%q) holds %q", s, item)
			}
		}
		if n := fr.int("v", "v"); n != nil && strings.TrimSpace(s) == "" {
			t.Fatalf("int(%q) = %d from nothing", s, *n)
		}
		if e := fr.expiry("v", "v", time.Unix(0, 0)); e != nil && !e.After(time.Unix(0, 0)) {
			t.Fatalf("expiry(%q) = %v, not in the future", s, e.Time)
		}
		if m := prefixes(readForm(r), "v"); m != nil {
			for env := range m {
				if strings.ContainsAny(env, " ,\n\t") {
					t.Fatalf("prefixes(%q) has environment %q", s, env)
				}
			}
		}
	})
}

// FuzzDiffLines: any stored diff renders without panicking, in field order.
func FuzzDiffLines(f *testing.F) {
	f.Add(`{"a":{"from":1,"to":2}}`)
	f.Add(`{"b":{"to":"x"},"a":{"from":null}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		lines := diffLines([]byte(s))
		for i := 1; i < len(lines); i++ {
			if lines[i-1].Field > lines[i].Field {
				t.Fatalf("diffLines(%q) out of order: %+v", s, lines)
			}
		}
	})
}
