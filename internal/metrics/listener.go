package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub"
)

// Invalidations is what the cross-node change listener delivers to:
// verify.Invalidator, postgres.Invalidations.
type Invalidations interface {
	Invalidate(keyhub.Change)
	InvalidateAll()
	// Heard confirms that every change committed before at was applied.
	Heard(at time.Time)
}

// Listener counts what the PostgreSQL change listener delivers to the
// caches of this node before passing it on: changes by kind, and the times
// it dropped everything, which it does after reconnecting (changes may have
// been missed meanwhile) and for a notification it cannot read.
type Listener struct {
	inner   Invalidations
	changes map[keyhub.ChangeKind]prometheus.Counter
	other   prometheus.Counter
	resyncs prometheus.Counter
}

// NewListener wraps inner, registering its metrics on reg.
func NewListener(inner Invalidations, reg prometheus.Registerer) *Listener {
	changes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhub_notifications_total",
		Help: "Changes heard from the nodes on the same PostgreSQL (this one included), by kind of object changed.",
	}, []string{"kind"})
	resyncs := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyhub_notification_reconnects_total",
		Help: "Times the change listener reconnected to PostgreSQL (or read a notification it did not know) and so dropped every cache of this node.",
	})
	reg.MustRegister(changes, resyncs)
	return &Listener{
		inner: inner,
		changes: map[keyhub.ChangeKind]prometheus.Counter{
			keyhub.ChangedKey: changes.WithLabelValues("key"), keyhub.ChangedRole: changes.WithLabelValues("role"),
			keyhub.ChangedTenant: changes.WithLabelValues("tenant"), keyhub.ChangedClient: changes.WithLabelValues("client"),
		},
		other:   changes.WithLabelValues("other"),
		resyncs: resyncs,
	}
}

// Invalidate counts c and passes it on.
func (l *Listener) Invalidate(c keyhub.Change) {
	if n, ok := l.changes[c.Kind]; ok {
		n.Inc()
	} else {
		l.other.Inc()
	}
	l.inner.Invalidate(c)
}

// Heard passes the listener's heartbeat on.
func (l *Listener) Heard(at time.Time) { l.inner.Heard(at) }

// InvalidateAll counts a resync and passes it on.
func (l *Listener) InvalidateAll() {
	l.resyncs.Inc()
	l.inner.InvalidateAll()
}
