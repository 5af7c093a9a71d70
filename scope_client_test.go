package keyhub_test

import (
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/client"
)

// FuzzSDKCovers holds the SDK's copy of the scope rule, which its
// RequireScopes checks locally, to the server's keyhub.Covers.
func FuzzSDKCovers(f *testing.F) {
	for _, c := range [][2]string{
		{"payouts:write", "payouts:write"}, {"payouts:*", "payouts:write:eu"}, {"*", "a"},
		{"payouts:*:eu", "payouts:*"}, {"a:*:c", "a:b:c"}, {"a:b", "a"}, {"a", "a:b"}, {"*:*", "a:*"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, g, s string) {
		if got, want := client.CoveredBy([]string{g}, s), keyhub.Covers(g, s); got != want {
			t.Errorf("client.CoveredBy(%q, %q) = %v, keyhub.Covers says %v", g, s, got, want)
		}
	})
}
