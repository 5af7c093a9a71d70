package verify_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// flakyStore fails every third write once failing is set, to drive a
// usage flush through its retry.
type flakyStore struct {
	keyhub.Store
	failing atomic.Bool
	writes  atomic.Int64
}

var errFlaky = errors.New("flaky store: write refused")

func (f *flakyStore) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	if f.failing.Load() && f.writes.Add(1)%3 == 0 {
		return errFlaky
	}
	return f.Store.Update(ctx, fn)
}

// TestUsageConcurrentExact: verifications from many goroutines, with
// flushes running meanwhile (a third of them failing), records evicted from
// a cache far smaller than the keys used and the clock crossing hours
// between rounds, reach the store with exactly the counts answered, per
// key, hour and outcome, and the last valid use as last_used_at.
func TestUsageConcurrentExact(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			const (
				keys       = 24
				goroutines = 8
				perRound   = 150
				rounds     = 4
			)
			fs := &flakyStore{Store: open(t)}
			e := newEnvWith(t, fs, verify.Config{Cache: verify.CacheConfig{Size: 4}, Log: slog.New(slog.DiscardHandler)})
			ctx := context.Background()
			ids := make([]string, keys)
			secrets := make([]string, keys)
			for i := range keys {
				k, key := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}})
				ids[i], secrets[i] = k.ID, key
			}
			fs.failing.Store(true)

			type count struct {
				hour time.Time
				code verify.Code
			}
			want := make([]map[count]int64, keys)
			for i := range want {
				want[i] = map[count]int64{}
			}
			lastUse := make([]time.Time, keys)
			for range rounds {
				hour := e.clk.Now().Truncate(time.Hour)
				stop := make(chan struct{})
				flushed := make(chan struct{})
				go func() {
					defer close(flushed)
					for {
						select {
						case <-stop:
							return
						default:
							_ = e.ver.Flush(ctx)
						}
					}
				}()
				var mu sync.Mutex
				var wg sync.WaitGroup
				for g := range goroutines {
					wg.Go(func() {
						rnd := rand.New(rand.NewPCG(uint64(g), 7))
						local := make([]map[verify.Code]int64, keys)
						for i := range local {
							local[i] = map[verify.Code]int64{}
						}
						for range perRound {
							i := rnd.IntN(keys)
							scope := "a:read"
							if rnd.IntN(4) == 0 {
								scope = "b:write"
							}
							r, err := e.ver.Verify(ctx, verify.Request{Key: secrets[i], Scopes: []string{scope}})
							if err != nil {
								t.Error(err)
								return
							}
							local[i][r.Code]++
						}
						mu.Lock()
						defer mu.Unlock()
						for i, m := range local {
							for code, n := range m {
								want[i][count{hour, code}] += n
							}
						}
					})
				}
				wg.Wait()
				close(stop)
				<-flushed
				for i := range keys {
					if want[i][count{hour, verify.Valid}] > 0 {
						lastUse[i] = e.clk.Now()
					}
				}
				e.clk.Add(25 * time.Minute)
			}
			fs.failing.Store(false)
			if err := e.ver.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			for i, id := range ids {
				got := map[count]int64{}
				buckets, err := e.svc.KeyUsage(ctx, e.op, id, time.Time{}, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				for _, b := range buckets {
					for code, n := range b.Counts {
						got[count{b.Hour, verify.Code(code)}] = n
					}
				}
				for c, n := range want[i] {
					if got[c] != n {
						t.Errorf("key %d, %s at %s: %d in the store, %d answered", i, c.code, c.hour.Format(time.Kitchen), got[c], n)
					}
				}
				for c, n := range got {
					if _, ok := want[i][c]; !ok {
						t.Errorf("key %d, %s at %s: %d in the store, none answered", i, c.code, c.hour.Format(time.Kitchen), n)
					}
				}
				k, err := e.svc.GetKey(ctx, e.op, id)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case lastUse[i].IsZero() && k.LastUsedAt != nil:
					t.Errorf("key %d never valid, last used %v", i, k.LastUsedAt)
				case !lastUse[i].IsZero() && (k.LastUsedAt == nil || !k.LastUsedAt.Equal(lastUse[i])):
					t.Errorf("key %d last used %v, want %v", i, k.LastUsedAt, lastUse[i])
				}
			}
		})
	}
}
