package main

import (
	"bytes"
	"context"
	"fmt"
	"math/bits"
	"net/http"
	"sync"
	"time"
)

// scenario is one kind of request the generator sends.
type scenario struct {
	name string
	// request builds the seq-th request of a worker.
	request func(ctx context.Context, worker, seq int) (*http.Request, error)
	// ok judges a 2xx answer's body; nil accepts every 2xx answer.
	ok func(body []byte) bool
}

// generator runs a scenario with conc closed-loop workers: each sends its
// next request as soon as the previous answer is read.
type generator struct {
	conc   int
	dur    time.Duration
	warmup time.Duration
	// serverCPU, when set, reads the CPU time the server has used, for
	// ServerCPUus of the keyhub scenarios.
	serverCPU func() time.Duration
}

// result is what one scenario measured.
type result struct {
	Scenario string  `json:"scenario"`
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"`
	// HelloRPS is the mean of the hello-world runs just before and just
	// after this scenario; Ratio is RPS over it.
	HelloRPS float64 `json:"hello_rps"`
	Ratio    float64 `json:"ratio"`
	P50ms    float64 `json:"p50_ms"`
	P90ms    float64 `json:"p90_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	// HelloP99ms is the larger p99 of the two hello-world runs around.
	HelloP99ms float64 `json:"hello_p99_ms"`
	Errors     int64   `json:"errors"`
	// RSSMB is the keyhub process's resident set after the scenario, and
	// RSSAnonMB its anonymous part (without mapped files).
	RSSMB     float64 `json:"rss_mb"`
	RSSAnonMB float64 `json:"rss_anon_mb"`
	// ServerCPUus is the CPU time keyhub spent per request of the measured
	// window, in µs (separate-process runs only).
	ServerCPUus float64 `json:"server_cpu_us_per_request,omitempty"`
	FirstError  string  `json:"first_error,omitempty"`
	Skipped     bool    `json:"skipped,omitempty"`
	Note        string  `json:"note,omitempty"`
}

// workerStats are one worker's counts; only that worker writes them.
type workerStats struct {
	hist     histogram
	n, errs  int64
	firstErr string
}

// run warms up for g.warmup, then measures for g.dur. A request counts in
// the window it completes in; every worker stops at the end of the window.
// With cpu set, the server's CPU time over the window is read too.
func (g generator) run(ctx context.Context, sc scenario) result { return g.runCPU(ctx, sc, nil) }

// runServer is run with the server's CPU time measured.
func (g generator) runServer(ctx context.Context, sc scenario) result {
	return g.runCPU(ctx, sc, g.serverCPU)
}

func (g generator) runCPU(ctx context.Context, sc scenario, cpu func() time.Duration) result {
	tr := &http.Transport{
		Proxy:               nil, // traffic stays on 127.0.0.1
		MaxIdleConns:        2 * g.conc,
		MaxIdleConnsPerHost: 2 * g.conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	from := time.Now().Add(g.warmup)
	end := from.Add(g.dur)
	ctx, cancel := context.WithDeadline(ctx, end.Add(10*time.Second))
	defer cancel()

	stats := make([]workerStats, g.conc)
	var wg sync.WaitGroup
	for w := range stats {
		wg.Go(func() { g.work(ctx, client, sc, w, from, end, &stats[w]) })
	}
	var cpuUsed time.Duration
	if cpu != nil {
		wg.Go(func() {
			time.Sleep(time.Until(from))
			c0 := cpu()
			time.Sleep(time.Until(end))
			cpuUsed = cpu() - c0
		})
	}
	wg.Wait()

	var h histogram
	res := result{Scenario: sc.name}
	for i := range stats {
		h.merge(&stats[i].hist)
		res.Requests += stats[i].n
		res.Errors += stats[i].errs
		if res.FirstError == "" {
			res.FirstError = stats[i].firstErr
		}
	}
	res.RPS = float64(res.Requests) / g.dur.Seconds()
	if cpu != nil && res.Requests > 0 {
		res.ServerCPUus = float64(cpuUsed) / float64(time.Microsecond) / float64(res.Requests)
	}
	res.P50ms = ms(h.quantile(0.50))
	res.P90ms = ms(h.quantile(0.90))
	res.P99ms = ms(h.quantile(0.99))
	res.MaxMs = ms(h.quantile(1))
	return res
}

func (g generator) work(ctx context.Context, client *http.Client, sc scenario, w int, from, end time.Time, st *workerStats) {
	var body bytes.Buffer
	for seq := 0; ctx.Err() == nil; seq++ {
		start := time.Now()
		if !start.Before(end) {
			return
		}
		errMsg := ""
		req, err := sc.request(ctx, w, seq)
		if err == nil {
			var resp *http.Response
			resp, err = client.Do(req)
			if err == nil {
				body.Reset()
				_, err = body.ReadFrom(resp.Body)
				resp.Body.Close()
				switch {
				case err != nil:
				case resp.StatusCode/100 != 2:
					errMsg = fmt.Sprintf("%s: %.200s", resp.Status, body.Bytes())
				case sc.ok != nil && !sc.ok(body.Bytes()):
					errMsg = fmt.Sprintf("unexpected answer: %.200s", body.Bytes())
				}
			}
		}
		if err != nil {
			errMsg = err.Error()
		}
		done := time.Now()
		if done.Before(from) {
			continue
		}
		if done.After(end) {
			return
		}
		st.n++
		st.hist.record(done.Sub(start))
		if errMsg != "" {
			st.errs++
			if st.firstErr == "" {
				st.firstErr = errMsg
			}
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// histogram counts durations in log-linear buckets, HDR style: values
// below 2^subBits ns exactly, larger ones with 2^subBits buckets per power
// of two, so a reported quantile is within 1/64 (1.6%) of the true one. It
// is a fixed array: recording never allocates.
type histogram struct {
	counts [64 << subBits]uint64
	total  uint64
	max    int64
}

const subBits = 6

func bucketOf(v int64) int {
	if v < 1<<subBits {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	return (shift+1)<<subBits + int(v>>shift) - 1<<subBits
}

// bucketHigh is the largest value bucket i holds.
func bucketHigh(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	shift := i>>subBits - 1
	m := int64(i&(1<<subBits-1) + 1<<subBits)
	return (m+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(int64(d))]++
	h.total++
	h.max = max(h.max, int64(d))
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile answers the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	rank := uint64(q*float64(h.total)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}
