package redislimit

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub"
)

// Nodes counts the live nodes of the service from a heartbeat in the store,
// which every node writes: it still answers while Redis is down, which is
// when the per-node policy needs it.
type Nodes struct {
	store keyhub.Store
	id    string
	every time.Duration
	log   *slog.Logger
	n     atomic.Int64
}

// NodesSilence is how many heartbeat intervals a node may miss before the
// others stop counting it.
const NodesSilence = 3

// NewNodes returns the heartbeat of this node, beating every interval
// (2s when 0). Until its first beat it counts this node alone.
func NewNodes(store keyhub.Store, every time.Duration, log *slog.Logger) *Nodes {
	if every <= 0 {
		every = 2 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	n := &Nodes{store: store, id: "node_" + rand.Text(), every: every, log: log}
	n.n.Store(1)
	return n
}

// Count is the number of live nodes at the last beat, this one included.
func (n *Nodes) Count() int { return int(n.n.Load()) }

// Beat writes this node's heartbeat once and reads the count.
func (n *Nodes) Beat(ctx context.Context) error {
	now := time.Now()
	var count int
	err := n.store.Update(ctx, func(tx keyhub.Tx) (err error) {
		count, err = tx.BeatNode(ctx, n.id, now, now.Add(-NodesSilence*n.every))
		return err
	})
	if err != nil {
		return err
	}
	n.n.Store(int64(max(count, 1)))
	return nil
}

// Run beats until ctx ends. A failed beat keeps the last count: the store
// being away says nothing of how many nodes there are.
func (n *Nodes) Run(ctx context.Context) {
	t := time.NewTicker(n.every)
	defer t.Stop()
	for {
		bctx, cancel := context.WithTimeout(ctx, n.every)
		if err := n.Beat(bctx); err != nil && ctx.Err() == nil {
			n.log.Debug("node heartbeat failed; keeping the last node count", "nodes", n.Count(), "error", err.Error())
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Collector is the gauge keyhub_nodes: the live nodes at the last beat.
func (n *Nodes) Collector() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "keyhub_nodes",
		Help: "Live nodes of the service, this one included, as the store's heartbeat counted them last (with --redis).",
	}, func() float64 { return float64(n.Count()) })
}
