//go:build !unix

package inputfile

import "os"

// Elsewhere open(2) has no FIFO trap to avoid; the fstat check in Open
// still refuses what is not a regular file.
func openNonblock(path string, follow bool) (*os.File, error) { return os.Open(path) }

func clearNonblock(*os.File) error { return nil }

func isLoop(error) bool { return false }
