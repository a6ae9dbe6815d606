//go:build !unix

package store

import "os"

// mapFile reads the first size bytes of f into memory. Without mmap(2)
// (Windows) a mapped segment would also keep the store's atomic renames
// and removals from replacing it while a reader holds it; a copy does not.
func mapFile(f *os.File, size int64) ([]byte, error) { return readWhole(f, size) }

func unmapFile([]byte) error { return nil }
