//go:build unix

package verify_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used so far, every thread
// together (the garbage collector's and the cache's too).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
