// Package redislimit makes rate limits exact across nodes: every node
// counts a key's uses in one Redis counter per window, with one atomic
// script call per limited verification. When Redis does not answer within
// its timeout the limiter follows its Policy until a background probe finds
// Redis again.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/verify"
)

// Policy is what a node does with a limited key while Redis is unreachable.
type Policy string

// The policies; PerNode is the default.
const (
	// PerNode counts on this node alone, allowing each node limit/nodes
	// (rounded down) per window, nodes being the live nodes of the
	// heartbeat: together they stay within the limit.
	PerNode Policy = "per-node"
	// FailClosed refuses every use of a limited key (RATE_LIMITED).
	FailClosed Policy = "fail-closed"
	// FailOpen allows every use of a limited key, counting none.
	FailOpen Policy = "fail-open"
)

// ParsePolicy reads a policy by name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PerNode, FailClosed, FailOpen:
		return p, nil
	}
	return "", fmt.Errorf("%q is not per-node, fail-closed or fail-open", s)
}

// DefaultTimeout bounds one Redis call unless Config says otherwise.
const DefaultTimeout = 50 * time.Millisecond

// Config configures a Limiter.
type Config struct {
	// URL is the redis:// (or rediss://) URL of the server.
	URL string
	// Timeout bounds each Redis call, dialling included (DefaultTimeout).
	Timeout time.Duration
	// Policy applies while Redis is unreachable (PerNode when "").
	Policy Policy
	// Nodes answers how many nodes share the service, for PerNode; nil or
	// an answer below 1 counts this node alone.
	Nodes func() int
	// Prefix starts every Redis key the limiter writes ("keyhub:rl:").
	Prefix string
	// Probe is how often Redis is tried again while it is down (1s).
	Probe time.Duration
	Log   *slog.Logger
	// Metrics, when set, receives keyhub_ratelimit_fallbacks_total and
	// keyhub_ratelimit_redis_up.
	Metrics prometheus.Registerer
}

// Limiter is a verify.Limiter on Redis with a fallback. Call Run to probe
// Redis in the background while it is down, and Close at the end.
type Limiter struct {
	// rdb is replaced by a new client at each recovery: the old one's
	// pooled connections may all be dead (a restarted Redis).
	rdb     atomic.Pointer[redis.Client]
	opts    *redis.Options
	timeout time.Duration
	policy  Policy
	nodes   func() int
	prefix  string
	probe   time.Duration
	log     *slog.Logger
	local   *verify.LocalLimiter

	down   atomic.Bool
	mu     sync.Mutex // guards reason and used
	reason string
	// used counts the uses the per-node fallback allowed, per window, to
	// be added to Redis when it is back.
	used      map[window]int64
	wake      chan struct{}
	fallbacks *prometheus.CounterVec
}

// The scripts keep a window's counter and its expiry in one atomic step:
// a use is counted only when it is within the limit, so the counter never
// passes the limit whatever the number of nodes. The expiry is the window's
// end plus a margin for clocks a little apart.
var (
	takeScript = redis.NewScript(`
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c >= tonumber(ARGV[1]) then return {0, c} end
c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return {1, c}`)
	pushScript = redis.NewScript(`
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 0`)
	refundScript = redis.NewScript(`
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c > 0 then redis.call('DECR', KEYS[1]) end
return 0`)
)

// window is one counter on Redis: a key's window, in unix nanoseconds.
type window struct {
	id         string
	start, end int64
}

// expiryMargin keeps a window's counter past its end, for nodes whose
// clocks are behind.
const expiryMargin = 5 * time.Second

// CheckURL tells whether u is a Redis URL New accepts. Its error never
// repeats the URL, which may hold a password.
func CheckURL(u string) error {
	_, err := parseURL(u)
	return err
}

func parseURL(u string) (*redis.Options, error) {
	opts, err := redis.ParseURL(u)
	if err != nil {
		return nil, errors.New("not a redis:// or rediss:// URL, such as redis://host:6379/0")
	}
	return opts, nil
}

// New returns a limiter on the Redis server of cfg.URL. It does not
// connect: the first call does, and a Redis down from the start is only a
// fallback, never a failure to start.
func New(cfg Config) (*Limiter, error) {
	opts, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Policy == "" {
		cfg.Policy = PerNode
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "keyhub:rl:"
	}
	if cfg.Probe <= 0 {
		cfg.Probe = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	// A call waits for its timeout once, and then the limiter falls back
	// until the probe finds Redis: no retries, which would multiply it.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = cfg.Timeout, cfg.Timeout, cfg.Timeout
	opts.PoolTimeout = cfg.Timeout
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	l := &Limiter{opts: opts, timeout: cfg.Timeout, policy: cfg.Policy, nodes: cfg.Nodes,
		prefix: cfg.Prefix, probe: cfg.Probe, log: cfg.Log, local: verify.NewLocalLimiter(), wake: make(chan struct{}, 1), used: map[window]int64{},
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyhub_ratelimit_fallbacks_total",
			Help: "Rate-limit decisions made without Redis, because it did not answer in time, by the policy applied.",
		}, []string{"policy"})}
	l.rdb.Store(redis.NewClient(opts))
	for _, p := range []Policy{PerNode, FailClosed, FailOpen} {
		l.fallbacks.WithLabelValues(string(p))
	}
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(l.fallbacks, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "keyhub_ratelimit_redis_up",
			Help: "1 while this node's rate limits are counted on Redis, 0 while it falls back.",
		}, func() float64 {
			if l.down.Load() {
				return 0
			}
			return 1
		}))
	}
	return l, nil
}

// Take implements verify.Limiter: one script call on Redis, or the policy.
func (l *Limiter) Take(ctx context.Context, id string, rl *keyhub.RateLimit, now time.Time) (bool, verify.RateLimitState) {
	start, d := verify.WindowStart(rl, now)
	st := verify.RateLimitState{Limit: rl.Limit, Reset: time.Unix(0, start+d).UTC()}
	if !l.down.Load() {
		cctx, cancel := context.WithTimeout(ctx, l.timeout)
		res, err := takeScript.Run(cctx, l.rdb.Load(), []string{l.key(id, start)},
			rl.Limit, (start+d+int64(expiryMargin))/int64(time.Millisecond)).Int64Slice()
		cancel()
		if err == nil && len(res) == 2 {
			st.Remaining = max(rl.Limit-res[1], 0)
			if l.policy == PerNode {
				// Should Redis fail, this node's share is then what is
				// left of the window, not the whole limit.
				n := int64(l.liveNodes())
				l.local.Note(id, rl, now, (res[1]+n-1)/n)
			}
			return res[0] == 1, st
		}
		if ctx.Err() == nil {
			l.fail(err)
		}
	}
	return l.fallback(ctx, id, rl, now, st)
}

// fallback decides by the policy while Redis is unreachable.
func (l *Limiter) fallback(ctx context.Context, id string, rl *keyhub.RateLimit, now time.Time, st verify.RateLimitState) (bool, verify.RateLimitState) {
	l.fallbacks.WithLabelValues(string(l.policy)).Inc()
	switch l.policy {
	case FailOpen:
		st.Remaining = rl.Limit
		return true, st
	case FailClosed:
		return false, st
	}
	share := *rl
	share.Limit = rl.Limit / int64(l.liveNodes())
	ok, lst := l.local.Take(ctx, id, &share, now)
	if ok {
		start, d := verify.WindowStart(rl, now)
		l.mu.Lock()
		l.used[window{id, start, start + d}]++
		l.mu.Unlock()
	}
	return ok, lst
}

func (l *Limiter) liveNodes() int {
	if l.nodes == nil {
		return 1
	}
	return max(l.nodes(), 1)
}

// Refund implements verify.Limiter, with a second Redis call, made only
// for a use that credits refused or the store failed. The use is given back
// where the limiter counts now: on Redis, or on this node while it falls
// back. A refund that fails is dropped, which refuses a use too many rather
// than allowing one; only a use taken on Redis just before it failed can
// be given back to the fallback's count instead.
func (l *Limiter) Refund(ctx context.Context, id string, st verify.RateLimitState, rl *keyhub.RateLimit) {
	if l.down.Load() {
		if l.policy == PerNode {
			l.local.Refund(ctx, id, st, rl)
			_, d := verify.WindowStart(rl, st.Reset)
			w := window{id, st.Reset.UnixNano() - d, st.Reset.UnixNano()}
			l.mu.Lock()
			if l.used[w] > 0 {
				l.used[w]--
			}
			l.mu.Unlock()
		}
		return
	}
	_, d := verify.WindowStart(rl, st.Reset)
	// The request may be ending with an error: the refund still goes out.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	if err := refundScript.Run(cctx, l.rdb.Load(), []string{l.key(id, st.Reset.UnixNano()-d)}).Err(); err != nil {
		l.fail(err)
	}
}

// key names the counter of key id's window starting at start (unix ns).
func (l *Limiter) key(id string, start int64) string {
	return l.prefix + id + ":" + strconv.FormatInt(start/int64(time.Millisecond), 10)
}

// fail marks Redis down and wakes the probe.
func (l *Limiter) fail(err error) {
	if l.down.Swap(true) {
		return
	}
	reason := "redis did not answer in time"
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		reason = "redis is unreachable"
	}
	l.mu.Lock()
	l.reason = reason
	l.mu.Unlock()
	l.log.Warn("rate limits fall back while Redis is down", "reason", reason, "policy", string(l.policy))
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Degraded says why rate limits are not counted on Redis now; "" while
// they are.
func (l *Limiter) Degraded() string {
	if !l.down.Load() {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%s: rate limits follow the %s policy", l.reason, l.policy)
}

// Sweep drops the fallback's ended windows.
func (l *Limiter) Sweep(now time.Time) { l.local.Sweep(now) }

// Run probes Redis while it is down, every Probe, and counts on it again
// once it answers; it returns when ctx ends.
func (l *Limiter) Run(ctx context.Context) {
	t := time.NewTicker(l.probe)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-t.C:
		}
		if !l.down.Load() {
			continue
		}
		fresh := redis.NewClient(l.opts)
		pctx, cancel := context.WithTimeout(ctx, l.timeout)
		err := fresh.Ping(pctx).Err()
		cancel()
		if err != nil || l.push(ctx, fresh) != nil {
			fresh.Close()
			continue
		}
		// Nothing calls Redis while it is down, so the old client is idle.
		l.rdb.Swap(fresh).Close()
		l.down.Store(false)
		// Uses allowed while the first push was under way.
		_ = l.push(ctx, fresh)
		l.log.Info("rate limits are counted on Redis again")
	}
}

// push adds the uses the fallback allowed in windows not yet over to their
// counters on Redis, in one pipelined round trip, so that the window Redis
// comes back in counts them. What cannot be pushed is kept for the next try.
func (l *Limiter) push(ctx context.Context, rdb *redis.Client) error {
	l.mu.Lock()
	used := l.used
	l.used = map[window]int64{}
	l.mu.Unlock()
	now := time.Now().UnixNano()
	pctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	pipe := rdb.Pipeline()
	for w, n := range used {
		if w.end > now && n > 0 {
			// Eval, not EvalSha: a Redis back from a restart has no scripts.
			pushScript.Eval(pctx, pipe, []string{l.key(w.id, w.start)}, n, (w.end+int64(expiryMargin))/int64(time.Millisecond))
		}
	}
	if pipe.Len() == 0 {
		return nil
	}
	if _, err := pipe.Exec(pctx); err != nil {
		l.mu.Lock()
		for w, n := range used {
			l.used[w] += n
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

// Close closes the connections to Redis.
func (l *Limiter) Close() error { return l.rdb.Load().Close() }

// Fallbacks is the counter of decisions made by policy p without Redis.
func (l *Limiter) Fallbacks(p Policy) prometheus.Counter {
	return l.fallbacks.WithLabelValues(string(p))
}
