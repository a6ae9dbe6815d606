//go:build unix

package preprocess

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (user + system, all
// threads). On a shared machine a benchmark's wall time includes the time
// other jobs held the CPU; its CPU time does not, so benchmarks here report
// both.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
