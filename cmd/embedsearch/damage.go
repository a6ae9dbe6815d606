package main

import (
	"fmt"
	"io"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/store"
)

// reportDamaged names the damaged rows a search left out on stderr (the
// first few) and returns the error behind exit code 6, or nil when there
// were none.
func reportDamaged(stderr io.Writer, r *store.Reader, s *collection.Searcher) error {
	ids, checksum := s.Damaged()
	if len(ids) == 0 && checksum == nil {
		return nil
	}
	if checksum != nil {
		fmt.Fprintf(stderr, "embedsearch: %v\n", checksum)
	}
	const show = 10
	for _, id := range ids[:min(len(ids), show)] {
		fmt.Fprintf(stderr, "embedsearch: damaged vector in the store, left out: %s\n", r.Path(id))
	}
	if len(ids) > show {
		fmt.Fprintf(stderr, "embedsearch: ... and %d more damaged vectors\n", len(ids)-show)
	}
	return damagedError{rows: len(ids)}
}
