package verify_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// commitCounting counts write transactions and can fail them all.
type commitCounting struct {
	keyhub.Store
	updates atomic.Int64
	nows    atomic.Int64 // of updates, the spends outside a transaction
	fail    atomic.Bool
}

var errCommit = errors.New("commit failed")

func (c *commitCounting) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	c.updates.Add(1)
	if c.fail.Load() {
		return errCommit
	}
	return c.Store.Update(ctx, fn)
}

// SpendCreditsNow is a commit too.
func (c *commitCounting) SpendCreditsNow(ctx context.Context, id string, cost int64, period time.Time) (int64, bool, error) {
	c.updates.Add(1)
	c.nows.Add(1)
	if c.fail.Load() {
		return 0, false, errCommit
	}
	return spendNow(ctx, c.Store, id, cost, period)
}

// TestCreditsGroupCommit spends from two verifiers (two nodes) over one
// store with mixed costs: every remaining balance answered is one a
// sequence of the spends would leave, the credits spent are exactly the
// balance, and spends share transactions.
func TestCreditsGroupCommit(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			st := &commitCounting{Store: open(t)}
			e := newEnv(t, st)
			other := verify.New(st, verify.Config{Now: e.clk.Now})
			t.Cleanup(other.Close)
			const balance = 1000
			_, key := e.create(t, service.KeyCreate{Credits: &service.CreditsInput{Remaining: balance}})
			st.updates.Store(0)

			var mu sync.Mutex
			var spent, valid int64
			var remainders []int64
			var wg sync.WaitGroup
			for w := range 48 {
				ver := e.ver
				if w%2 == 1 {
					ver = other
				}
				cost := int64(w%3 + 1)
				wg.Go(func() {
					for range 2 * balance { // bounded; ends at the first refusal
						r, err := ver.Verify(context.Background(), verify.Request{Key: key, Cost: cost})
						if err != nil {
							t.Error(err)
							return
						}
						if r.Code == verify.UsageExceeded {
							if *r.CreditsRemaining >= cost {
								t.Errorf("refused a spend of %d with %d remaining", cost, *r.CreditsRemaining)
							}
							return
						}
						if r.Code != verify.Valid {
							t.Errorf("code %s", r.Code)
							return
						}
						mu.Lock()
						spent += cost
						valid++
						remainders = append(remainders, *r.CreditsRemaining)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			// Workers spending 1 go on until nothing is left.
			if spent != balance {
				t.Fatalf("spent %d of %d credits", spent, balance)
			}
			slices.Sort(remainders)
			if len(slices.Compact(remainders)) != len(remainders) {
				t.Errorf("two spends answered the same remaining balance")
			}
			if u := st.updates.Load(); u >= valid {
				t.Errorf("%d transactions for %d spends: none shared", u, valid)
			}
			// A store that can spend outside a transaction does so for the
			// groups of this one key the balance covers.
			if _, ok := st.Store.(keyhub.CreditSpender); ok && st.nows.Load() == 0 {
				t.Error("no group was spent outside a transaction")
			}
			t.Logf("%d spends in %d transactions (%d outside one)", valid, st.updates.Load(), st.nows.Load())
		})
	}
}

// TestCreditsFailedCommitIsNotValid: a spend whose transaction fails is an
// error, never VALID, and spends nothing.
func TestCreditsFailedCommitIsNotValid(t *testing.T) {
	st := &commitCounting{Store: openSQLite(t)}
	e := newEnv(t, st)
	_, key := e.create(t, service.KeyCreate{Credits: &service.CreditsInput{Remaining: 10}})
	st.fail.Store(true)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			r, err := e.ver.Verify(context.Background(), verify.Request{Key: key, Cost: 1})
			if !errors.Is(err, errCommit) || r.Valid {
				t.Errorf("failed commit: %v, valid %v", err, r.Valid)
			}
		})
	}
	wg.Wait()
	st.fail.Store(false)
	if r := e.verify(t, key); r.Code != verify.Valid || *r.CreditsRemaining != 9 {
		t.Fatalf("after the failures: %s %d", r.Code, *r.CreditsRemaining)
	}
}
