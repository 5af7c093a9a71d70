// Command load measures keyhub over HTTP against a hello-world net/http
// handler served on the same machine, in the same run, by the same load
// generator, and prints the ratios DESIGN.md §8 and issue 14 set targets
// for.
//
// It builds keyhub and starts it as a separate process on 127.0.0.1 (or,
// with -inprocess, runs it through app.Run inside this process), seeds the
// store with -keys API keys by direct batched inserts, then runs the
// scenarios one after another with hello-world before each and once more at
// the end, so that every scenario is compared to the baseline measured
// around it: verify over all seeded keys picked uniformly, verify of one
// hot key, verify of a key with credits and a rate limit, token, key
// create and list with a filter. All traffic goes to 127.0.0.1 and every
// loop stops at its deadline. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// allScenarios are the keyhub scenarios, in the order they run.
var allScenarios = []string{"verify", "verify-hot", "verify-credits", "token", "create", "list"}

// options are the command-line flags.
type options struct {
	keys       int
	conc       int
	dur        time.Duration
	warmup     time.Duration
	db         string
	json       bool
	cpuprofile string
	profiled   string
	inprocess  bool
	metrics    string
	jwtAlg     string
	cacheSize  int
	hot        bool
	prime      bool
	scenarios  string
	run        []string
}

func main() {
	var o options
	flag.IntVar(&o.keys, "keys", 10000, "API keys to seed into the store; verify picks among all of them uniformly")
	flag.IntVar(&o.conc, "c", 32, "concurrent connections (workers)")
	flag.DurationVar(&o.dur, "d", 10*time.Second, "measured duration of each scenario")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each scenario")
	flag.StringVar(&o.db, "db", "sqlite", `store: "sqlite" (a file in a temporary directory) or a postgres:// URL `+
		`of a server on which a fresh database is created and dropped afterwards`)
	flag.BoolVar(&o.json, "json", false, "print one JSON object per scenario on stdout")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the server during one scenario (-profile-scenario) to this file")
	flag.StringVar(&o.profiled, "profile-scenario", "verify", "scenario -cpuprofile covers")
	flag.BoolVar(&o.inprocess, "inprocess", false, "run keyhub via app.Run inside this process instead of as a separate binary")
	flag.StringVar(&o.metrics, "metrics", "on", "the server's --metrics: on or off, to measure what metrics cost")
	flag.StringVar(&o.jwtAlg, "jwt-alg", "ES256", "the server's --jwt-alg, which the token scenario measures: ES256, EdDSA or RS256")
	flag.IntVar(&o.cacheSize, "cache-size", 0, "the server's --cache-size in MB (0: the server's default)")
	flag.BoolVar(&o.prime, "prime", false, "verify every seeded key once before the verify scenario, so that it measures a warm cache")
	flag.BoolVar(&o.hot, "hot", false, "verify one hot key only: the same as -scenarios verify-hot")
	flag.StringVar(&o.scenarios, "scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios to run")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func (o *options) check() error {
	switch {
	case o.keys < 1:
		return errors.New("-keys must be at least 1")
	case o.conc < 1:
		return errors.New("-c must be at least 1")
	case o.dur <= 0:
		return errors.New("-d must be positive")
	case o.warmup < 0:
		return errors.New("-warmup must not be negative")
	case o.metrics != "on" && o.metrics != "off":
		return errors.New("-metrics must be on or off")
	case o.cacheSize < 0:
		return errors.New("-cache-size must not be negative")
	}
	if o.hot {
		o.scenarios = "verify-hot"
	}
	for s := range strings.SplitSeq(o.scenarios, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(allScenarios, s) {
			return fmt.Errorf("-scenarios: unknown scenario %q (known: %s)", s, strings.Join(allScenarios, ", "))
		}
		o.run = append(o.run, s)
	}
	return nil
}

// logf reports progress on stderr, so that stdout holds only the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
}

func run(ctx context.Context, o options) error {
	if err := o.check(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "keyhub-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	dsn, dbKind, dropDB, err := prepareDB(ctx, o.db, tmp)
	if err != nil {
		return err
	}
	defer dropDB() // after the server has stopped: deferred first, runs last

	srv, err := startServer(ctx, o, dsn, tmp)
	if err != nil {
		return err
	}
	defer srv.stop()
	api := &apiClient{base: srv.url, key: srv.opKey}

	tenant, prefix, err := api.createTenant(ctx)
	if err != nil {
		return err
	}
	logf("seeding %d keys", o.keys)
	t0 := time.Now()
	keys, err := seed(ctx, dsn, tenant, prefix, o.keys)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	seedTime := time.Since(t0)
	logf("seeded %d keys in %s", o.keys, seedTime.Round(time.Millisecond))

	hello := startHello()
	defer hello.Close()

	rep := newReport(o, srv.mode, dbKind, seedTime)
	gen := generator{conc: o.conc, dur: o.dur, warmup: o.warmup}
	if srv.pid != 0 {
		gen.serverCPU = processCPU(srv.pid)
	}

	// measure runs hello, then sc under the CPU profile when it is the one
	// -profile-scenario names.
	measure := func(name string, sc scenario) error {
		logf("scenario hello")
		rep.addHello(gen.run(ctx, helloScenario(hello.URL)))
		logf("scenario %s", sc.name)
		var prof *profiler
		if o.profiled == name {
			if prof, err = startProfile(o, srv, gen); err != nil {
				return err
			}
		}
		res := gen.runServer(ctx, sc)
		if prof != nil {
			if err := prof.finish(); err != nil {
				logf("cpu profile: %v", err)
			}
		}
		res.RSSMB, res.RSSAnonMB = rssMB(srv.pid)
		rep.add(res)
		return ctx.Err()
	}
	for _, name := range o.run {
		var sc scenario
		switch name {
		case "verify":
			if o.prime {
				logf("priming: verifying each of %d keys once", len(keys))
				d, err := prime(ctx, srv.url, srv.opKey, keys, o.conc)
				if err != nil {
					return err
				}
				logf("primed in %s", d.Round(time.Millisecond))
				rep.Primed = d.Round(time.Millisecond).String()
			}
			sc = verifyScenario(name, srv.url, srv.opKey, keys, o.conc)
		case "verify-hot":
			sc = verifyScenario(name, srv.url, srv.opKey, keys[:1], o.conc)
		case "verify-credits":
			k, err := api.createMeteredKey(ctx, tenant)
			if err != nil {
				return err
			}
			sc = verifyScenario(name, srv.url, srv.opKey, []string{k}, o.conc)
		case "token":
			tok, note, err := tokenScenario(ctx, api, tenant, o.jwtAlg)
			if err != nil {
				return fmt.Errorf("token scenario setup: %w", err)
			}
			if tok == nil {
				logf("scenario token skipped: %s", note)
				rep.add(result{Scenario: "token", Skipped: true, Note: note})
				continue
			}
			sc = *tok
		case "create":
			sc = createScenario(srv.url, srv.opKey, tenant)
		case "list":
			// Last: keys created by "create" join the tenant, but never
			// match a bench-<n> prefix.
			sc = listScenario(srv.url, srv.opKey, tenant, o.keys, o.conc)
		}
		if err := measure(name, sc); err != nil {
			return err
		}
	}
	logf("scenario hello")
	rep.addHello(gen.run(ctx, helloScenario(hello.URL)))
	rep.finish()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if o.json {
		return rep.writeJSON(os.Stdout)
	}
	rep.writeTable(os.Stdout)
	return nil
}
