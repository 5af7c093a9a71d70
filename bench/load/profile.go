package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

// profiler captures a CPU profile over a scenario's measured window.
type profiler struct {
	finish func() error
}

// startProfile arranges for a CPU profile of the server over the window g
// is about to measure. A child process is profiled through its
// /debug/pprof/profile when it has one; keyhub running in this process is
// profiled with runtime/pprof, which then also sees the load generator.
func startProfile(o options, srv *server, g generator) (*profiler, error) {
	none := &profiler{finish: func() error { return nil }}
	switch {
	case o.cpuprofile == "":
		return none, nil
	case srv.mode == "inprocess":
		return startLocalProfile(o.cpuprofile, g)
	case srv.pprof:
		return startRemoteProfile(o.cpuprofile, srv.url, g), nil
	}
	logf("-cpuprofile: the keyhub binary exposes no /debug/pprof; rerun with -inprocess to profile it")
	return none, nil
}

func startLocalProfile(path string, g generator) (*profiler, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	started, stopped := false, false
	var startErr error
	t := time.AfterFunc(g.warmup, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			startErr = pprof.StartCPUProfile(f)
			started = startErr == nil
		}
	})
	return &profiler{finish: func() error {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		if started {
			pprof.StopCPUProfile()
		}
		if err := f.Close(); err != nil {
			return err
		}
		if startErr != nil {
			return startErr
		}
		logf("wrote CPU profile of this process (server and load generator) to %s", path)
		return nil
	}}, nil
}

func startRemoteProfile(path, base string, g generator) *profiler {
	done := make(chan error, 1)
	go func() {
		time.Sleep(g.warmup)
		secs := int(math.Ceil(g.dur.Seconds()))
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+30)*time.Second)
		defer cancel()
		url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("GET /debug/pprof/profile: %s", resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return &profiler{finish: func() error {
		if err := <-done; err != nil {
			return err
		}
		logf("wrote CPU profile of the keyhub process to %s", path)
		return nil
	}}
}
