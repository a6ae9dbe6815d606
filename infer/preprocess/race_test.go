//go:build race

package preprocess

// raceEnabled trims the heaviest single-goroutine tests under -race, where
// instrumented JPEG decoding is ~15x slower and finds nothing.
const raceEnabled = true
