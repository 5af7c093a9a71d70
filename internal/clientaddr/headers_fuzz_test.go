package clientaddr

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzHeaders feeds forwarding headers from a trusted peer: whatever they
// say, resolving never panics, returns a valid address, and that address
// is either the peer or one named in the headers.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{
		"203.0.113.9", "1.1.1.1, 10.0.0.2", `for=192.0.2.60;proto=https;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"`,
		`for="\"quoted\\"`, `for=;;,,=`, "[::1", "[::1]:x y", `for="[::ffff:1.2.3.4]"`, "unknown, _hidden",
	} {
		f.Add(s, s)
	}
	trusted, _ := ParsePrefixes("10.0.0.0/8")
	res := New(trusted)
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		for _, h := range []string{"X-Forwarded-For", "Forwarded"} {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.1:1234"
			if h == "X-Forwarded-For" {
				r.Header.Set(h, xff)
			}
			r.Header.Set("Forwarded", fwd)
			res.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				a := From(r)
				if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
					t.Fatalf("From = %v for %q / %q", a, xff, fwd)
				}
			})).ServeHTTP(httptest.NewRecorder(), r)
		}
		if n := len(parseForwarded(fwd)); n == 0 || n > maxHops {
			t.Fatalf("parseForwarded gave %d hops", n)
		}
		if n := len(parseXFF([]string{xff})); n > maxHops {
			t.Fatalf("parseXFF gave %d hops", n)
		}
	})
}
