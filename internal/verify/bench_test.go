package verify_test

import (
	"context"
	"os"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// The in-process verify path. Targets (DESIGN.md §8): a cache hit within
// 1 µs and 2 allocations.

func BenchmarkVerifyCacheHit(b *testing.B) {
	e := newEnv(b, openSQLite(b))
	_, key := e.create(b, service.KeyCreate{Scopes: []string{"payouts:write", "payouts:read"}})
	req := verify.Request{Key: key, Scopes: []string{"payouts:write"}, Cost: 1}
	ctx := context.Background()
	if r, _ := e.ver.Verify(ctx, req); r.Code != verify.Valid {
		b.Fatal(r.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, err := e.ver.Verify(ctx, req); err != nil || !r.Valid {
				b.Fatal(r.Code, err)
			}
		}
	})
}

func BenchmarkVerifyCacheHitSerial(b *testing.B) {
	e := newEnv(b, openSQLite(b))
	_, key := e.create(b, service.KeyCreate{Scopes: []string{"payouts:write"}})
	req := verify.Request{Key: key, Scopes: []string{"payouts:write"}, Cost: 1}
	ctx := context.Background()
	e.ver.Verify(ctx, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, _ := e.ver.Verify(ctx, req); !r.Valid {
			b.Fatal(r.Code)
		}
	}
}

func BenchmarkVerifyNegativeHit(b *testing.B) {
	e := newEnv(b, openSQLite(b))
	req := verify.Request{Key: secret.NewKey("kh_live"), Cost: 1}
	ctx := context.Background()
	e.ver.Verify(ctx, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, _ := e.ver.Verify(ctx, req); r.Code != verify.NotFound {
			b.Fatal(r.Code)
		}
	}
}

func benchMiss(b *testing.B, st keyhub.Store) {
	e := newEnv(b, st)
	_, key := e.create(b, service.KeyCreate{Scopes: []string{"payouts:write"}})
	req := verify.Request{Key: key, Cost: 1}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.ver.InvalidateAll()
		if r, _ := e.ver.Verify(ctx, req); !r.Valid {
			b.Fatal(r.Code)
		}
	}
}

func BenchmarkVerifyMissSQLite(b *testing.B) { benchMiss(b, openSQLite(b)) }

func BenchmarkVerifyMissPostgres(b *testing.B) {
	if os.Getenv("KEYHUB_TEST_POSTGRES") == "" {
		b.Skip("KEYHUB_TEST_POSTGRES not set")
	}
	benchMiss(b, openPostgres(b))
}

// BenchmarkVerifyCacheHitTracked is a cache hit on a node whose watch
// tracks its listener, as on PostgreSQL: each hit also asks the watch.
func BenchmarkVerifyCacheHitTracked(b *testing.B) {
	e := newEnv(b, openSQLite(b))
	_, key := e.create(b, service.KeyCreate{Scopes: []string{"payouts:write"}})
	req := verify.Request{Key: key, Scopes: []string{"payouts:write"}, Cost: 1}
	ctx := context.Background()
	w := e.ver.Watch()
	w.Track()
	w.Heard(e.clk.Now())
	e.ver.Verify(ctx, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r, _ := e.ver.Verify(ctx, req); !r.Valid {
			b.Fatal(r.Code)
		}
	}
}
