//go:build unix

// Package cputime reads this process's CPU time, for the benchmarks that
// report it beside the wall time on a shared machine.
package cputime

import (
	"syscall"
	"time"
)

// Self is this process's user+system CPU time so far.
func Self() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
