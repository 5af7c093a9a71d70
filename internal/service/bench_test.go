package service_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// BenchmarkCreateKey creates keys as the bench/load create scenario does,
// through the node's whole core (the store that keeps caches true
// included), from 32 goroutines at once: the figure issue 14 sets a target
// for on PostgreSQL.
func BenchmarkCreateKey(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"))
		if err != nil {
			b.Fatal(err)
		}
		benchCreateKey(b, st)
	})
	b.Run("Postgres", func(b *testing.B) {
		st, err := postgres.Open(context.Background(), pgtest.URL(b))
		if err != nil {
			b.Fatal(err)
		}
		benchCreateKey(b, st)
	})
}

func benchCreateKey(b *testing.B, st keyhub.Store) {
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	core := app.NewCore(st, app.CoreConfig{Log: slog.New(slog.DiscardHandler), Master: make([]byte, 32)})
	b.Cleanup(core.Close)
	op := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_bench"}, Operator: true, Scopes: []string{"*"}}}
	ten, err := core.Manage.CreateTenant(ctx, op, service.TenantCreate{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	op.TenantID = ten.ID
	in := service.KeyCreate{Name: "created", Scopes: []string{"payouts:write"}}
	b.SetParallelism(16) // 32 goroutines on 2 CPUs, as bench/load's c=32
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, key, err := core.Manage.CreateKey(ctx, op, in); err != nil || key == "" {
				b.Error(err)
				return
			}
		}
	})
}
