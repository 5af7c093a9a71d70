package verify_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// The record step of verification alone (issue 14: usage recording costs
// nothing per request beyond an atomic increment), on one hot key and
// spread over many keys, from every core at once.

func BenchmarkRecordUseHotKey(b *testing.B) { benchRecordUse(b, 1) }

func BenchmarkRecordUseManyKeys(b *testing.B) { benchRecordUse(b, 256) }

func benchRecordUse(b *testing.B, keys int) {
	e := newEnv(b, openSQLite(b))
	ctx := context.Background()
	recs := make([]*verify.Record, keys)
	for i := range recs {
		_, key := e.create(b, service.KeyCreate{Scopes: []string{"payouts:write"}})
		rec, code, err := e.ver.Lookup(ctx, key)
		if err != nil || code != verify.Valid {
			b.Fatal(code, err)
		}
		recs[i] = rec
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1))
		for pb.Next() {
			e.ver.RecordUse(recs[i%keys])
			i++
		}
	})
}
