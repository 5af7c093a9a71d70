// Package forwardauth holds what keyhub's forward-auth endpoint reads
// besides the credential: the route table that maps a proxied request to
// the scopes it needs (--forward-auth-routes), and the original method and
// URI a proxy reports. Both come from outside (an operator's file, a
// proxy's headers), so both are parsed strictly and fuzzed.
package forwardauth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/keyhub/keyhub"
)

// What a request that matches no route gets.
const (
	// UnmatchedDeny refuses it: 403, before any credential is looked at.
	UnmatchedDeny = "deny"
	// UnmatchedAuthenticate lets through any valid credential, with no
	// scope required.
	UnmatchedAuthenticate = "authenticate"
)

// Table is a parsed route table: the first route that matches a request
// decides the scopes it needs.
type Table struct {
	Routes []Route
	// Unmatched is UnmatchedDeny or UnmatchedAuthenticate.
	Unmatched string
}

// Route requires Scopes of the requests whose method is one of Methods
// (any when empty) and whose path matches Path.
type Route struct {
	Methods []string
	Path    string
	Scopes  []string
	// segs is Path split on '/', without the leading empty segment.
	segs []string
}

// fileTable and fileRoute are the YAML form of a table.
type fileTable struct {
	Routes    []fileRoute `yaml:"routes"`
	Unmatched string      `yaml:"unmatched"`
}

type fileRoute struct {
	// Method is one method, a comma list, or "*" / empty for any.
	Method string   `yaml:"method"`
	Path   string   `yaml:"path"`
	Scopes []string `yaml:"scopes"`
}

// maxTableSize bounds a route table file; a table is a few hundred lines.
const maxTableSize = 1 << 20

// Load reads and parses the route table file.
func Load(file string) (*Table, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("forward-auth routes: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("forward-auth routes %s: %w", file, err)
	}
	return t, nil
}

// Parse parses a route table:
//
//	routes:
//	  - method: POST
//	    path: /payouts/**
//	    scopes: [payouts:write]
//	  - method: GET,HEAD
//	    path: /payouts/{id}
//	    scopes: [payouts:read]
//	unmatched: deny
//
// A path segment "*" or "{name}" matches any one segment; a last segment
// "**" matches any rest of the path, none included. Unknown fields are
// errors, so that a typo does not silently leave a route open.
func Parse(b []byte) (*Table, error) {
	if len(b) > maxTableSize {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxTableSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f fileTable
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not a route table: %v", err)
	}
	t := &Table{Unmatched: f.Unmatched}
	switch t.Unmatched {
	case "":
		t.Unmatched = UnmatchedDeny
	case UnmatchedDeny, UnmatchedAuthenticate:
	default:
		return nil, fmt.Errorf("unmatched: must be %q or %q, not %q", UnmatchedDeny, UnmatchedAuthenticate, f.Unmatched)
	}
	for i, fr := range f.Routes {
		r, err := parseRoute(fr)
		if err != nil {
			return nil, fmt.Errorf("routes[%d]: %v", i, err)
		}
		t.Routes = append(t.Routes, r)
	}
	return t, nil
}

func parseRoute(fr fileRoute) (Route, error) {
	r := Route{Path: fr.Path}
	if m := strings.TrimSpace(fr.Method); m != "" && m != "*" {
		for _, x := range strings.Split(m, ",") {
			x = strings.ToUpper(strings.TrimSpace(x))
			if x == "" || strings.IndexFunc(x, func(c rune) bool { return c < 'A' || c > 'Z' }) >= 0 {
				return r, fmt.Errorf("method: %q is not an HTTP method", x)
			}
			r.Methods = append(r.Methods, x)
		}
	}
	if !strings.HasPrefix(fr.Path, "/") {
		return r, fmt.Errorf("path: must start with /, got %q", fr.Path)
	}
	r.segs = strings.Split(fr.Path[1:], "/")
	for i, s := range r.segs {
		if s == "**" && i != len(r.segs)-1 {
			return r, fmt.Errorf("path: ** may only be the last segment of %q", fr.Path)
		}
		if strings.Contains(s, "*") && s != "*" && s != "**" {
			return r, fmt.Errorf("path: segment %q mixes * with text", s)
		}
		if s == "." || s == ".." {
			return r, fmt.Errorf("path: segment %q: give the clean path", s)
		}
	}
	for i, sc := range fr.Scopes {
		if err := keyhub.ValidateScope(sc); err != nil {
			return r, fmt.Errorf("scopes[%d]: %v", i, err)
		}
	}
	r.Scopes = append([]string{}, fr.Scopes...)
	return r, nil
}

// Match returns the scopes the first route matching method and p (a clean
// path, see Original) requires; ok is false when no route matches.
func (t *Table) Match(method, p string) (scopes []string, ok bool) {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := range t.Routes {
		r := &t.Routes[i]
		if len(r.Methods) > 0 && !contains(r.Methods, method) {
			continue
		}
		if r.matches(segs) {
			return r.Scopes, true
		}
	}
	return nil, false
}

func (r *Route) matches(segs []string) bool {
	for i, want := range r.segs {
		if want == "**" {
			return true
		}
		if i >= len(segs) {
			return false
		}
		wild := want == "*" || len(want) > 2 && want[0] == '{' && want[len(want)-1] == '}'
		if !wild && want != segs[i] {
			return false
		}
	}
	return len(segs) == len(r.segs)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Original is the request a proxy asks about.
type Original struct {
	Method string
	// Path is the URI's path, percent-decoded and cleaned as an upstream
	// would resolve it, so that /a/../admin is matched as /admin.
	Path string
}

// maxURI bounds the original URI a proxy may report.
const maxURI = 8 << 10

// ParseURI reads the original request-target (an origin-form path with an
// optional query, or an absolute URL) and returns its clean path.
func ParseURI(uri string) (string, error) {
	if uri == "" {
		return "", errors.New("is empty")
	}
	if len(uri) > maxURI {
		return "", fmt.Errorf("is longer than %d bytes", maxURI)
	}
	if strings.ContainsAny(uri, " \t\r\n\x00") {
		return "", errors.New("holds white space or control characters")
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return "", errors.New("is not a request URI")
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		return "", errors.New("has no absolute path")
	}
	// An encoded slash would be one segment here and two to many
	// upstreams: refuse rather than guess.
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		return "", errors.New("holds an encoded slash")
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean, nil
}
