//go:build !unix

package main

import "time"

// cpuTime is 0 without getrusage(2): CPU times then read 0.
func cpuTime() time.Duration { return 0 }
