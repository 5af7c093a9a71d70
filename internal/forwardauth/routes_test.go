package forwardauth

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const table = `
routes:
  - method: POST
    path: /payouts/**
    scopes: [payouts:write]
  - method: get, HEAD
    path: /payouts/{id}
    scopes: [payouts:read]
  - path: /health
    scopes: []
  - method: "*"
    path: /admin/*/users
    scopes: [admin:users, admin:read]
unmatched: deny
`

func TestMatch(t *testing.T) {
	tab, err := Parse([]byte(table))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		scopes       string
		ok           bool
	}{
		{"POST", "/payouts", "payouts:write", true},
		{"POST", "/payouts/1/approve", "payouts:write", true},
		{"GET", "/payouts/1", "payouts:read", true},
		{"HEAD", "/payouts/1", "payouts:read", true},
		{"GET", "/payouts/1/x", "", false},
		{"GET", "/payouts", "", false},
		{"DELETE", "/payouts/1", "", false},
		{"GET", "/health", "", true},
		{"PATCH", "/health", "", true},
		{"GET", "/health/", "", false},
		{"PUT", "/admin/eu/users", "admin:users admin:read", true},
		{"PUT", "/admin/users", "", false},
		{"GET", "/", "", false},
	} {
		got, ok := tab.Match(c.method, c.path)
		if ok != c.ok || strings.Join(got, " ") != c.scopes {
			t.Errorf("%s %s: %v %v, want %q %v", c.method, c.path, got, ok, c.scopes, c.ok)
		}
	}
	if tab.Unmatched != UnmatchedDeny {
		t.Errorf("unmatched %q", tab.Unmatched)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown field", "routes:\n  - path: /a\n    scope: [a]\n", "field scope not found"},
		{"bad unmatched", "unmatched: allow\n", `unmatched: must be "deny" or "authenticate"`},
		{"relative path", "routes:\n  - path: a\n", "routes[0]: path: must start with /"},
		{"inner **", "routes:\n  - path: /a/**/b\n", "routes[0]: path: ** may only be the last"},
		{"mixed *", "routes:\n  - path: /a*\n", "mixes * with text"},
		{"dot dot", "routes:\n  - path: /a/../b\n", "give the clean path"},
		{"bad method", "routes:\n  - method: GE T\n    path: /a\n", "routes[0]: method:"},
		{"bad scope", "routes:\n  - path: /a\n    scopes: ['a::b']\n", "routes[0]: scopes[0]:"},
		{"not yaml", "routes: [\n", "not a route table"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestEmptyTableDenies(t *testing.T) {
	tab, err := Parse(nil)
	if err != nil || tab.Unmatched != UnmatchedDeny || len(tab.Routes) != 0 {
		t.Fatalf("%+v %v", tab, err)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(f, []byte("unmatched: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("error %v", err)
	}
}

func TestParseURI(t *testing.T) {
	for _, c := range []struct{ uri, want, err string }{
		{"/payouts/1?x=y", "/payouts/1", ""},
		{"/a/../admin", "/admin", ""},
		{"/a/./b/", "/a/b/", ""},
		{"//a//b", "/a/b", ""},
		{"/caf%C3%A9", "/café", ""},
		{"/a%2e%2e/x", "/a../x", ""},
		{"/%2e%2e/admin", "/admin", ""},
		{"https://api.example.com/payouts?x", "/payouts", ""},
		{"/a%2Fb", "", "encoded slash"},
		{"", "", "is empty"},
		{"payouts", "", "not a request URI"},
		{"/a b", "", "white space"},
		{"/%zz", "", "not a request URI"},
		{"/" + strings.Repeat("a", maxURI), "", "longer than"},
	} {
		got, err := ParseURI(c.uri)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %q %v, want error %q", c.uri, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %q %v, want %q", c.uri, got, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(table))
	f.Add([]byte("routes:\n  - path: /a/{b}/**\n"))
	f.Add([]byte("unmatched: authenticate\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := Parse(b)
		if err != nil {
			return
		}
		if tab.Unmatched != UnmatchedDeny && tab.Unmatched != UnmatchedAuthenticate {
			t.Fatalf("unmatched %q", tab.Unmatched)
		}
		for _, r := range tab.Routes {
			if !strings.HasPrefix(r.Path, "/") {
				t.Fatalf("route path %q", r.Path)
			}
			// A route matches its own literal path when it has no wildcard.
			if !strings.Contains(r.Path, "*") && !strings.Contains(r.Path, "{") && len(r.Methods) == 0 {
				if _, ok := tab.Match("GET", r.Path); !ok {
					t.Fatalf("no route matches %q", r.Path)
				}
			}
		}
	})
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"/a/../b?c", "/%2e%2e/x", "http://h/p", "/a%2Fb", "//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, err := ParseURI(uri)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") {
			t.Fatalf("%q: path %q is not absolute", uri, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("%q: path %q is not clean", uri, p)
			}
		}
		// Parsing the clean path again changes nothing.
		if p2, err := ParseURI((&url.URL{Path: p}).EscapedPath()); err == nil && p2 != p {
			t.Fatalf("%q: %q then %q", uri, p, p2)
		}
	})
}
