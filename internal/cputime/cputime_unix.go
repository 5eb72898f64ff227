//go:build unix

// Package cputime reads the CPU time the process has used, for benchmarks:
// on a machine shared with other jobs it is a fairer measure than wall time.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the CPU time this process has used, user plus system,
// all threads; 0 if the OS does not say.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
