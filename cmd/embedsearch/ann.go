package main

import (
	"fmt"
	"io"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/index"
)

// annThreshold is the store size from which index keeps an approximate
// index and query and dedup use it; annLoadCost weighs opening the graph
// against scanning (collection.SearchOptions; 0: free). Tests lower both.
var (
	annThreshold = index.DefaultANNThreshold
	annLoadCost  = collection.DefaultLoadCost
)

// searchOptions are the CLI's search options for `searches` searches.
func searchOptions(exact bool, searches int) collection.SearchOptions {
	cost := annLoadCost
	if cost == 0 {
		cost = -1 // free, in collection's terms
	}
	return collection.SearchOptions{Exact: exact, Searches: searches, ANNThreshold: annThreshold, LoadCost: cost}
}

// searchNote says on stderr why a search does not use the approximate
// index although the store should have one.
func searchNote(stderr io.Writer, s *collection.Searcher) {
	if s.Note != "" {
		fmt.Fprintf(stderr, "embedsearch: %s. `embedsearch index` rebuilds it\n", s.Note)
	}
}
