package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything a run prints.
type report struct {
	Date        string  `json:"date"`
	Machine     machine `json:"machine"`
	GoVersion   string  `json:"go_version"`
	Server      string  `json:"server"`  // "process" or "inprocess"
	Metrics     string  `json:"metrics"` // the server's --metrics
	DB          string  `json:"db"`
	Keys        int     `json:"keys"`
	SeedSeconds float64 `json:"seed_seconds"`
	Concurrency int     `json:"concurrency"`
	Duration    string  `json:"duration"`
	Warmup      string  `json:"warmup"`
	JWTAlg      string  `json:"jwt_alg"`
	CacheSizeMB int     `json:"cache_size_mb,omitempty"`
	// Primed is how long -prime took to verify every key once.
	Primed string `json:"primed,omitempty"`

	results []result
	hellos  []result // hellos[i] ran just before results[i]; one more at the end
}

type machine struct {
	CPUs   int    `json:"cpus"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	CPU    string `json:"cpu_model,omitempty"`
	Kernel string `json:"kernel,omitempty"`
}

func newReport(o options, mode, db string, seed time.Duration) *report {
	return &report{
		Date: time.Now().Format(time.RFC3339),
		Machine: machine{
			CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH,
			CPU: cpuModel(), Kernel: kernel(),
		},
		GoVersion: runtime.Version(), Server: mode, Metrics: o.metrics, DB: db,
		Keys: o.keys, SeedSeconds: seed.Seconds(),
		Concurrency: o.conc, Duration: o.dur.String(), Warmup: o.warmup.String(),
		JWTAlg: o.jwtAlg, CacheSizeMB: o.cacheSize,
	}
}

// addHello records a hello-world run; each keyhub scenario follows one.
func (r *report) addHello(res result) { r.hellos = append(r.hellos, res) }

// add records a keyhub scenario, run just after the last hello.
func (r *report) add(res result) {
	for len(r.hellos) <= len(r.results) {
		r.hellos = append(r.hellos, result{}) // a skipped scenario had no hello
	}
	r.results = append(r.results, res)
}

// finish compares each scenario with the hello-world runs around it: the
// machine is shared, and the baseline of the same moment is the fair one.
func (r *report) finish() {
	for i := range r.results {
		res := &r.results[i]
		var sum float64
		var n int
		for _, h := range r.hellos[i:min(i+2, len(r.hellos))] {
			if h.RPS > 0 {
				sum += h.RPS
				n++
				res.HelloP99ms = max(res.HelloP99ms, h.P99ms)
			}
		}
		if n > 0 && !res.Skipped {
			res.HelloRPS = sum / float64(n)
			res.Ratio = res.RPS / res.HelloRPS
		}
	}
}

// line is one JSON object of -json: a scenario and the run it belongs to.
type line struct {
	result
	Keys        int     `json:"keys"`
	DB          string  `json:"db"`
	Server      string  `json:"server"`
	Concurrency int     `json:"concurrency"`
	SeedSeconds float64 `json:"seed_seconds"`
	JWTAlg      string  `json:"jwt_alg"`
	CacheSizeMB int     `json:"cache_size_mb,omitempty"`
	// Primed is how long -prime took to verify every key once.
	Primed    string `json:"primed,omitempty"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	CPUs      int    `json:"cpus"`
}

// writeJSON prints one JSON object per scenario, one a line.
func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, res := range r.results {
		err := enc.Encode(line{result: res, Keys: r.Keys, DB: r.DB, Server: r.Server, Concurrency: r.Concurrency,
			SeedSeconds: r.SeedSeconds, JWTAlg: r.JWTAlg, CacheSizeMB: r.CacheSizeMB, Primed: r.Primed, Date: r.Date,
			GoVersion: r.GoVersion, CPUs: r.Machine.CPUs})
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *report) writeTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "machine:     %d CPUs, %s/%s", m.CPUs, m.OS, m.Arch)
	if m.CPU != "" {
		fmt.Fprintf(w, ", %s", m.CPU)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "go:          %s\n", r.GoVersion)
	fmt.Fprintf(w, "server:      %s, %s store, metrics %s, jwt %s\n", r.Server, r.DB, r.Metrics, r.JWTAlg)
	fmt.Fprintf(w, "keys:        %d seeded in %.1fs, verify picks among all uniformly\n", r.Keys, r.SeedSeconds)
	if r.Primed != "" {
		fmt.Fprintf(w, "primed:      every key verified once in %s before verify\n", r.Primed)
	}
	fmt.Fprintf(w, "load:        %d connections, %s measured after %s warm-up per scenario, hello-world before each\n\n",
		r.Concurrency, r.Duration, r.Warmup)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests/s\thello/s\tratio\tp50\tp99\thello p99\terrors\tRSS\tanon\tserver CPU/req\t")
	for _, res := range r.results {
		if res.Skipped {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t\n", res.Scenario)
			continue
		}
		cpu := "-"
		if res.ServerCPUus > 0 {
			cpu = fmt.Sprintf("%.1fµs", res.ServerCPUus)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f\t%s\t%s\t%s\t%d\t%.0f MB\t%.0f MB\t%s\t\n", res.Scenario, res.RPS, res.HelloRPS,
			res.Ratio, fmtMs(res.P50ms), fmtMs(res.P99ms), fmtMs(res.HelloP99ms), res.Errors, res.RSSMB, res.RSSAnonMB, cpu)
	}
	tw.Flush()
	for _, res := range r.results {
		if res.Note != "" {
			fmt.Fprintf(w, "\n%s: %s", res.Scenario, res.Note)
		}
		if res.FirstError != "" {
			fmt.Fprintf(w, "\n%s: first error: %s", res.Scenario, res.FirstError)
		}
	}
	fmt.Fprintln(w)
}

// rssMB reads the resident set of process pid (this process for 0) from
// /proc, in MB: all of it (VmRSS, which counts the pages of SQLite's
// memory-mapped database file too) and its anonymous part (RssAnon: the
// heap, the cache among it). 0 where there is no /proc.
func rssMB(pid int) (all, anon float64) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	mb := func(v string) float64 {
		kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
		return kb / 1024
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			all = mb(v)
		}
		if v, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			anon = mb(v)
		}
	}
	return all, anon
}

func fmtMs(v float64) string {
	if v < 1 {
		return fmt.Sprintf("%.0fµs", v*1000)
	}
	return fmt.Sprintf("%.2fms", v)
}

// cpuModel reads the CPU's model name from /proc/cpuinfo, if there is one.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// kernel reads the Linux kernel release, if there is one.
func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
