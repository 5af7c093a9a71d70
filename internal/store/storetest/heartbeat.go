package storetest

import (
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var heartbeatCases = []testCase{
	{"CountsLiveNodes", testBeatCounts},
	{"ForgetsSilentNodes", testBeatForgets},
	{"NeverMovesBack", testBeatMonotonic},
}

func beat(t *testing.T, s keyhub.Store, id string, at, since time.Time) int {
	t.Helper()
	var n int
	mustUpdate(t, s, func(tx keyhub.Tx) (err error) {
		n, err = tx.BeatNode(ctx, id, at, since)
		return err
	})
	return n
}

func testBeatCounts(t *testing.T, s keyhub.Store) {
	now := baseTime()
	since := now.Add(-10 * time.Second)
	steps := []struct {
		id   string
		want int
	}{
		{"node-a", 1},
		{"node-b", 2},
		{"node-a", 2}, // a node beating again is still one node
		{"node-c", 3},
	}
	for i, st := range steps {
		if got := beat(t, s, st.id, at(now, i), since); got != st.want {
			t.Errorf("step %d (%s): %d nodes, want %d", i, st.id, got, st.want)
		}
	}
}

func testBeatForgets(t *testing.T, s keyhub.Store) {
	now := baseTime()
	beat(t, s, "old", now.Add(-time.Minute), now.Add(-2*time.Minute))
	beat(t, s, "recent", now.Add(-time.Second), now.Add(-2*time.Minute))
	// A node last seen before since is gone, and stays gone for a later
	// count with an earlier since.
	if got := beat(t, s, "me", now, now.Add(-10*time.Second)); got != 2 {
		t.Errorf("after pruning: %d nodes, want 2 (me and recent)", got)
	}
	if got := beat(t, s, "me", now, now.Add(-2*time.Minute)); got != 2 {
		t.Errorf("a pruned node came back: %d nodes, want 2", got)
	}
	// The beating node counts itself, even with a clock behind since.
	if got := beat(t, s, "late", now.Add(-time.Hour), now.Add(-10*time.Second)); got != 3 {
		t.Errorf("a node behind since: %d nodes, want 3", got)
	}
}

func testBeatMonotonic(t *testing.T, s keyhub.Store) {
	now := baseTime()
	beat(t, s, "a", now, now.Add(-time.Minute))
	// A late beat from a slow transaction does not make the node look
	// older than it is.
	beat(t, s, "a", now.Add(-30*time.Second), now.Add(-time.Minute))
	if got := beat(t, s, "b", now, now.Add(-10*time.Second)); got != 2 {
		t.Errorf("%d nodes, want 2: node a's late beat moved it back", got)
	}
}
