package verify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyhub/keyhub"
)

// maxGroup bounds how many spends one transaction commits, so that one
// commit's latency stays bounded however deep the queue gets.
const maxGroup = 1024

// spendTimeout bounds one group's transaction. It does not come from any
// caller's context: a caller that gives up must not fail the others.
const spendTimeout = 10 * time.Second

// spender commits credit spends in groups. Spends arriving while a group
// is being committed wait and are committed together in the next
// transaction, so under load a commit (a write to SQLite's WAL, a round
// trip and WAL flush in PostgreSQL) is shared by every spend that queued
// behind it, while an idle node commits a lone spend at once: the group
// is as long as the previous commit took, no timer adds latency.
//
// Each caller is answered only after the transaction holding its spend has
// committed, so a VALID answer is never given for a credit a crash could
// hand out again. Inside the transaction every spend is still the store's
// one conditional statement (or, for several spends of one key, one
// statement for their sum, falling back to one each when the sum is more
// than the balance), so the balance never goes below zero and no credit is
// spent twice, across connections and nodes.
type spender struct {
	store keyhub.Store

	mu      sync.Mutex
	pending []*spendReq
	running bool // a goroutine is committing; it takes pending when done
}

// spendReq is one caller's spend and, once done is closed, its answer.
type spendReq struct {
	id     string
	cost   int64
	period time.Time

	remaining int64
	ok        bool
	err       error
	done      chan struct{}
}

// spend takes cost credits from key id, refilling first when a refill is
// due at period (zero: no refill), and answers once that is committed. A
// caller whose ctx ends first gets ctx's error; its spend may still commit,
// which can only err on the side of not answering VALID.
func (s *spender) spend(ctx context.Context, id string, cost int64, period time.Time) (int64, bool, error) {
	r := &spendReq{id: id, cost: cost, period: period, done: make(chan struct{})}
	s.mu.Lock()
	s.pending = append(s.pending, r)
	if !s.running {
		s.running = true
		go s.commitLoop()
	}
	s.mu.Unlock()
	select {
	case <-r.done:
		return r.remaining, r.ok, r.err
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
}

// commitLoop commits groups until nothing is pending.
func (s *spender) commitLoop() {
	for {
		s.mu.Lock()
		n := min(len(s.pending), maxGroup)
		if n == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		group := slices.Clone(s.pending[:n])
		s.pending = slices.Delete(s.pending, 0, n)
		s.mu.Unlock()
		s.commit(group)
		for _, r := range group {
			close(r.done)
		}
	}
}

// commit spends group in one transaction. Spends are ordered by key, so
// that two nodes committing groups lock rows in the same order.
func (s *spender) commit(group []*spendReq) {
	slices.SortStableFunc(group, func(a, b *spendReq) int {
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return a.period.Compare(b.period)
	})
	ctx, cancel := context.WithTimeout(context.Background(), spendTimeout)
	defer cancel()
	if sp, ok := s.store.(keyhub.CreditSpender); ok && oneKey(group) && spendNow(ctx, sp, group) {
		return
	}
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		for rest := group; len(rest) > 0; {
			n := 1
			for n < len(rest) && rest[n].id == rest[0].id && rest[n].period.Equal(rest[0].period) {
				n++
			}
			if err := spendKey(ctx, tx, rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	if err != nil {
		// Nothing of the group was committed, or it is unknown whether it
		// was: no caller may take its spend for done.
		for _, r := range group {
			r.remaining, r.ok, r.err = 0, false, err
		}
	}
}

// oneKey reports whether every spend of group is of one key and period.
func oneKey(group []*spendReq) bool {
	for _, r := range group[1:] {
		if r.id != group[0].id || !r.period.Equal(group[0].period) {
			return false
		}
	}
	return true
}

// spendNow commits the spends of one key and period as one statement
// outside any transaction, when the balance covers them all, and answers
// each; a lone spend is answered whatever the balance. It reports false,
// having changed nothing, for several spends the balance does not cover:
// those go through a transaction one by one, in order.
func spendNow(ctx context.Context, sp keyhub.CreditSpender, rs []*spendReq) bool {
	remaining, ok, err := sp.SpendCreditsNow(ctx, rs[0].id, total(rs), rs[0].period)
	switch {
	case err != nil:
		if err := keyErr(rs, err); err != nil {
			for _, r := range rs {
				r.remaining, r.ok, r.err = 0, false, err
			}
		}
	case ok:
		answerSpent(rs, remaining)
	case len(rs) == 1:
		rs[0].remaining, rs[0].ok, rs[0].err = remaining, false, nil
	default:
		return false
	}
	return true
}

func total(rs []*spendReq) int64 {
	var n int64
	for _, r := range rs {
		n += r.cost
	}
	return n
}

// answerSpent answers spends committed together: each caller sees the
// balance its own spend left, as if the spends had been made one after
// another in their order.
func answerSpent(rs []*spendReq, remaining int64) {
	for i := len(rs) - 1; i >= 0; i-- {
		rs[i].remaining, rs[i].ok, rs[i].err = remaining, true, nil
		remaining += rs[i].cost
	}
}

// spendKey spends the requests of one key and period, in their order. The
// common case, a balance enough for all of them, is one statement.
func spendKey(ctx context.Context, tx keyhub.Tx, rs []*spendReq) error {
	if len(rs) > 1 {
		remaining, ok, err := tx.SpendCredits(ctx, rs[0].id, total(rs), rs[0].period)
		if err != nil {
			return keyErr(rs, err)
		}
		if ok {
			answerSpent(rs, remaining)
			return nil
		}
	}
	for _, r := range rs {
		remaining, ok, err := tx.SpendCredits(ctx, r.id, r.cost, r.period)
		if err != nil {
			return keyErr(rs, err)
		}
		r.remaining, r.ok, r.err = remaining, ok, nil
	}
	return nil
}

// keyErr answers err to the requests of one key when it concerns that key
// only (the key is gone or has no credits any more: the statement changed
// nothing and the transaction goes on), and returns any other error, which
// fails the group.
func keyErr(rs []*spendReq, err error) error {
	if !keyhub.IsKind(err, keyhub.KindNotFound) && !errors.Is(err, keyhub.ErrNoCredits) {
		return err
	}
	for _, r := range rs {
		r.remaining, r.ok, r.err = 0, false, err
	}
	return nil
}
