package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything a run prints.
type report struct {
	Date        string   `json:"date"`
	Machine     machine  `json:"machine"`
	GoVersion   string   `json:"go_version"`
	Server      string   `json:"server"`  // "process" or "inprocess"
	Metrics     string   `json:"metrics"` // the server's --metrics
	DB          string   `json:"db"`
	Keys        int      `json:"keys"`
	Sample      int      `json:"sample_keys"`
	SeedSeconds float64  `json:"seed_seconds"`
	Concurrency int      `json:"concurrency"`
	Duration    string   `json:"duration"`
	Warmup      string   `json:"warmup"`
	Results     []result `json:"results"`
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
		Keys: o.keys, Sample: o.sample, SeedSeconds: seed.Seconds(),
		Concurrency: o.conc, Duration: o.dur.String(), Warmup: o.warmup.String(),
	}
}

// add appends r, computing its ratio to the hello scenario's throughput.
func (r *report) add(res result) {
	for _, h := range r.Results {
		if h.Scenario == "hello" && h.RPS > 0 {
			res.Ratio = res.RPS / h.RPS
		}
	}
	if res.Scenario == "hello" && res.RPS > 0 {
		res.Ratio = 1
	}
	r.Results = append(r.Results, res)
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *report) writeTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "machine:     %d CPUs, %s/%s", m.CPUs, m.OS, m.Arch)
	if m.CPU != "" {
		fmt.Fprintf(w, ", %s", m.CPU)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "go:          %s\n", r.GoVersion)
	fmt.Fprintf(w, "server:      %s, %s store, metrics %s\n", r.Server, r.DB, r.Metrics)
	fmt.Fprintf(w, "keys:        %d seeded in %.1fs, %d verified round-robin\n", r.Keys, r.SeedSeconds, r.Sample)
	fmt.Fprintf(w, "load:        %d connections, %s measured after %s warm-up per scenario\n\n",
		r.Concurrency, r.Duration, r.Warmup)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests/s\tp50\tp99\terrors\tvs hello\tserver CPU/req\t")
	for _, res := range r.Results {
		if res.Skipped {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t\n", res.Scenario)
			continue
		}
		cpu := "-"
		if res.ServerCPUus > 0 {
			cpu = fmt.Sprintf("%.1fµs", res.ServerCPUus)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%d\t%.2f\t%s\t\n", res.Scenario, res.RPS,
			fmtMs(res.P50ms), fmtMs(res.P99ms), res.Errors, res.Ratio, cpu)
	}
	tw.Flush()
	for _, res := range r.Results {
		if res.Note != "" {
			fmt.Fprintf(w, "\n%s: %s", res.Scenario, res.Note)
		}
		if res.FirstError != "" {
			fmt.Fprintf(w, "\n%s: first error: %s", res.Scenario, res.FirstError)
		}
	}
	fmt.Fprintln(w)
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
