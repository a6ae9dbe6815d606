//go:build unix

package infer

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user + system, all
// threads, onnxruntime's included): on a shared machine it leaves out the
// time other jobs held the CPU, which wall time does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
