package store

import (
	"io"
	"os"
)

// readWhole reads the first size bytes of f: mapFile where there is no
// mmap(2). A file shorter than size is an error.
func readWhole(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), b); err != nil {
		return nil, err
	}
	return b, nil
}
