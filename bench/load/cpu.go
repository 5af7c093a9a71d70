package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// processCPU returns a reader of the CPU time process pid has used so far,
// all its threads together, from Linux's /proc/PID/task/*/schedstat (whose
// first field is nanoseconds on a CPU); nil where that cannot be read.
//
// CPU time per request is the one number of a run that other processes on
// the machine barely move: they take CPU away from keyhub, slowing its
// throughput, but do not make each of its requests cost more CPU.
func processCPU(pid int) func() time.Duration {
	read := func() (time.Duration, bool) {
		tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "schedstat"))
		if err != nil || len(tasks) == 0 {
			return 0, false
		}
		var total time.Duration
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue // the thread has exited
			}
			f := strings.Fields(string(b))
			if len(f) == 0 {
				continue
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, false
			}
			total += time.Duration(ns)
		}
		return total, true
	}
	if _, ok := read(); !ok {
		return nil
	}
	return func() time.Duration { d, _ := read(); return d }
}
