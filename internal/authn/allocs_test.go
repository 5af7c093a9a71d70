//go:build !race

package authn_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/service"
)

// TestAuthenticateKeyAllocatesNothing: every call to keyhub's API, every
// verification among them, first authenticates its caller's key, so that
// must come from the cache without garbage, throttle check included (the
// race detector's instrumentation allocates, hence the build tag).
func TestAuthenticateKeyAllocatesNothing(t *testing.T) {
	c := apitest.NewCore(t, apitest.CoreOptions{})
	ctx := context.Background()
	_, key, err := c.Manage.CreateKey(ctx, c.Op, service.KeyCreate{Name: "verifier", Scopes: []string{"verify:api_keys"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []netip.Addr{netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8::7"), {}} {
		if _, err := c.Auth.Authenticate(ctx, key, ip); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := c.Auth.Authenticate(ctx, key, ip); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("authenticating a cached key from %v allocates %v times, want 0", ip, allocs)
		}
	}
}
