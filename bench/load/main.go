// Command load measures keyhub over HTTP against a hello-world net/http
// handler served on the same machine, in the same run, by the same load
// generator, and prints the ratios DESIGN.md §8 sets targets for.
//
// It builds keyhub and starts it as a separate process on 127.0.0.1 (or,
// with -inprocess, runs it through app.Run inside this process), seeds the
// store with -keys API keys, then runs the scenarios one after another:
// hello (GET / on the hello-world server), verify (POST /v1/keys/verify) and
// token (OAuth client credentials, when the server has /oauth2/token), then
// hello again to show how steady the machine stayed. All
// traffic goes to 127.0.0.1 and every loop stops at its deadline. See
// bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	keys       int
	sample     int
	conc       int
	dur        time.Duration
	warmup     time.Duration
	db         string
	json       bool
	cpuprofile string
	profiled   string
	inprocess  bool
	metrics    string
}

func main() {
	var o options
	flag.IntVar(&o.keys, "keys", 10000, "API keys to seed into the store")
	flag.IntVar(&o.sample, "sample", 1000, "seeded keys whose secrets are kept and verified round-robin")
	flag.IntVar(&o.conc, "c", 32, "concurrent connections (workers)")
	flag.DurationVar(&o.dur, "d", 10*time.Second, "measured duration of each scenario")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured warm-up before each scenario")
	flag.StringVar(&o.db, "db", "sqlite", `store: "sqlite" (a file in a temporary directory) or a postgres:// URL `+
		`of a server on which a fresh database is created and dropped afterwards`)
	flag.BoolVar(&o.json, "json", false, "print the results as JSON on stdout")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the server during one scenario (-profile-scenario) to this file")
	flag.StringVar(&o.profiled, "profile-scenario", "verify", "scenario -cpuprofile covers: verify or token")
	flag.BoolVar(&o.inprocess, "inprocess", false, "run keyhub via app.Run inside this process instead of as a separate binary")
	flag.StringVar(&o.metrics, "metrics", "on", "the server's --metrics: on or off, to measure what metrics cost")
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
	case o.sample < 1:
		return errors.New("-sample must be at least 1")
	case o.conc < 1:
		return errors.New("-c must be at least 1")
	case o.dur <= 0:
		return errors.New("-d must be positive")
	case o.warmup < 0:
		return errors.New("-warmup must not be negative")
	case o.metrics != "on" && o.metrics != "off":
		return errors.New("-metrics must be on or off")
	}
	o.sample = min(o.sample, o.keys)
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

	srv, err := startServer(ctx, o.inprocess, o.metrics, dsn, tmp)
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
	sample, err := seed(ctx, dsn, tenant, prefix, o.keys, o.sample)
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

	logf("scenario hello")
	helloRes := gen.run(ctx, helloScenario(hello.URL))
	rep.add(helloRes)

	// profiled runs a scenario, under the CPU profile when it is the one
	// -profile-scenario names.
	profiled := func(name string, sc scenario) (result, error) {
		if o.profiled != name {
			return gen.runServer(ctx, sc), nil
		}
		prof, err := startProfile(o, srv, gen)
		if err != nil {
			return result{}, err
		}
		res := gen.runServer(ctx, sc)
		if err := prof.finish(); err != nil {
			logf("cpu profile: %v", err)
		}
		return res, nil
	}
	logf("scenario verify")
	verifyRes, err := profiled("verify", verifyScenario(srv.url, srv.opKey, sample, o.conc))
	if err != nil {
		return err
	}
	rep.add(verifyRes)

	tok, note, err := tokenScenario(ctx, api, tenant)
	switch {
	case err != nil:
		return fmt.Errorf("token scenario setup: %w", err)
	case tok == nil:
		logf("scenario token skipped: %s", note)
		rep.add(result{Scenario: "token", Skipped: true, Note: note})
	default:
		logf("scenario token")
		res, err := profiled("token", *tok)
		if err != nil {
			return err
		}
		rep.add(res)
	}
	// hello once more: how far it moved during the run shows how steady the
	// machine was, and so how far the ratios can be trusted.
	logf("scenario hello (again)")
	again := gen.run(ctx, helloScenario(hello.URL))
	again.Scenario = "hello-again"
	rep.add(again)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if o.json {
		return rep.writeJSON(os.Stdout)
	}
	rep.writeTable(os.Stdout)
	return nil
}
