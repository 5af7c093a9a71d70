package redislimit_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/redislimit"
	"github.com/keyhub/keyhub/internal/redislimit/redistest"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/verify"
)

// BenchmarkVerifyLimited is an in-process verification of a cached key
// with a rate limit (never reached), counted on this node alone and on the
// shared Redis, in one run: the difference is what --redis costs a limited
// verification (one script call on loopback). serial waits for each
// answer; parallel keeps 32 verifications in flight, as a busy node does.
// bench/RESULTS.md has the numbers.
func BenchmarkVerifyLimited(b *testing.B) {
	url, prefix := redistest.URL(b)
	for _, name := range []string{"local", "redis"} {
		b.Run("limiter="+name, func(b *testing.B) {
			var lim verify.Limiter
			if name == "redis" {
				l, err := redislimit.New(redislimit.Config{URL: url, Prefix: prefix, Timeout: 5 * time.Second})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { l.Close() })
				lim = l
			}
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "k.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			ver := verify.New(st, verify.Config{Limiter: lim})
			b.Cleanup(ver.Close)
			svc := service.New(verify.NewStore(st, ver))
			op := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_bench"}, Operator: true, Scopes: []string{"*"}}}
			ten, err := svc.CreateTenant(ctx, op, service.TenantCreate{Name: "acme"})
			if err != nil {
				b.Fatal(err)
			}
			op.TenantID = ten.ID
			_, key, err := svc.CreateKey(ctx, op, service.KeyCreate{Name: "k", RateLimit: &service.RateLimitInput{Limit: 1_000_000_000, Duration: "1h"}})
			if err != nil {
				b.Fatal(err)
			}
			req := verify.Request{Key: key, Cost: 1}
			if r, err := ver.Verify(ctx, req); err != nil || !r.Valid {
				b.Fatal(r.Code, err)
			}
			b.ReportAllocs()
			b.Run("serial", func(b *testing.B) {
				for b.Loop() {
					if r, err := ver.Verify(ctx, req); err != nil || !r.Valid {
						b.Fatal(r.Code, err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.SetParallelism(16) // 32 goroutines on 2 CPUs
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if r, err := ver.Verify(ctx, req); err != nil || !r.Valid {
							b.Error(r.Code, err)
							return
						}
					}
				})
			})
			if l, ok := lim.(*redislimit.Limiter); ok && l.Degraded() != "" {
				b.Fatalf("fell back during the run: %s", l.Degraded())
			}
		})
	}
}
