//go:build !race

package verify_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// TestCacheHitAllocatesNothing holds the hot path to zero allocations, with
// and without metrics (DESIGN.md §8 allows 2; the race detector's
// instrumentation allocates, hence the build tag).
func TestCacheHitAllocatesNothing(t *testing.T) {
	for name, cfg := range map[string]verify.Config{"NoMetrics": {}, "Metrics": {Metrics: prometheus.NewRegistry()}} {
		t.Run(name, func(t *testing.T) {
			e := newEnvWith(t, openSQLite(t), cfg)
			_, key := e.create(t, service.KeyCreate{Scopes: []string{"payouts:write"}})
			req := verify.Request{Key: key, Scopes: []string{"payouts:write"}, Cost: 1}
			ctx := context.Background()
			e.verify(t, key, "payouts:write")
			allocs := testing.AllocsPerRun(1000, func() {
				if r, err := e.ver.Verify(ctx, req); err != nil || !r.Valid {
					t.Fatal(r.Code, err)
				}
			})
			if allocs != 0 {
				t.Errorf("a cache hit allocates %v times, want 0", allocs)
			}
		})
	}
}
