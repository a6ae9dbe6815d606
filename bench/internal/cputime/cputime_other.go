//go:build !unix

package cputime

import "time"

// Self is 0 without getrusage(2): CPU times then read 0.
func Self() time.Duration { return 0 }
