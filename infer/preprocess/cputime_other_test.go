//go:build !unix

package preprocess

import "time"

// cpuTime is 0 without getrusage(2): benchmarks then report wall time only.
func cpuTime() time.Duration { return 0 }
