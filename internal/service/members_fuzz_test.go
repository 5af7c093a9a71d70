package service

import (
	"net/url"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
)

// FuzzValidEmail: an accepted email is one bare, lower-case address that
// every store can hold and no mail header can be split by.
func FuzzValidEmail(f *testing.F) {
	for _, s := range []string{"ada@acme.test", "Ada <ada@acme.test>", "a@b", "a\r\nBcc: x@y.z", " A@B.C ", "\"q\"@x.y", "a@[127.0.0.1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v keyhub.Validation
		e := validEmail(&v, "email", s)
		if v.Err() != nil {
			if e != "" {
				t.Fatalf("validEmail(%q) refused but answered %q", s, e)
			}
			return
		}
		if e != strings.ToLower(e) || strings.ContainsAny(e, " \r\n<>\x00") || keyhub.CheckText(e) != nil ||
			strings.Count(e, "@") < 1 || len(e) > MaxEmailLen {
			t.Fatalf("validEmail(%q) accepted %q", s, e)
		}
	})
}

// FuzzValidReturnURL: an accepted return URL is an absolute http(s) URL
// without credentials or control characters.
func FuzzValidReturnURL(f *testing.F) {
	for _, s := range []string{"https://p.test/x?y=1", "javascript:alert(1)", "//evil", "http://u:p@h/", "https://h/\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v keyhub.Validation
		got := validReturnURL(&v, "return_url", s)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			strings.ContainsAny(got, " \r\n\t\x00") {
			t.Fatalf("validReturnURL(%q) accepted %q", s, got)
		}
	})
}
