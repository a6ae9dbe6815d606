package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// annThreshold is the store size from which index keeps an approximate
// index and query uses it (tests lower it).
var annThreshold = index.DefaultANNThreshold

// annEf is the HNSW search breadth for query: recall@10 against exact was
// 1.000 on bench/annquery's clustered 200,000 × 512 store (search's own
// tests assert ≥ 0.95 at ef = 100); one search costs milliseconds.
func annEf(k int) int { return max(200, 2*k) }

// dedupANNK is how many neighbours each image looks up in the approximate
// index for dedup (HNSW.Pairs recommends ≥ 64): a pair is missed only when
// neither image has the other among its nearest dedupANNK.
const dedupANNK = 64

// updateANN brings the store's approximate index in step after a
// completed index run and says on stderr when it built or updated one.
func updateANN(ctx context.Context, u *index.ANNUpdater, w *store.Writer, quiet bool, stderr io.Writer) error {
	st, err := u.Update(ctx, w, index.ANNOptions{Threshold: annThreshold})
	if err != nil {
		return err
	}
	if st.PreviousProblem != nil && !quiet {
		fmt.Fprintf(stderr, "embedsearch: the approximate index was unreadable (%v); rebuilt it\n", st.PreviousProblem)
	}
	if quiet {
		return nil
	}
	switch st.Action {
	case index.ANNBuilt:
		fmt.Fprintf(stderr, "embedsearch: approximate index built: %d vectors in %s\n", st.Nodes, st.Elapsed.Round(10*time.Millisecond))
	case index.ANNUpdated:
		fmt.Fprintf(stderr, "embedsearch: approximate index updated: %d added, %d dropped, %d vectors in %s\n",
			st.Added, st.Dropped, st.Nodes, st.Elapsed.Round(10*time.Millisecond))
	}
	return nil
}

// annLoadCost is what opening one byte of the graph file costs, in bytes
// of exact scanning, as a conservative bound. index.LoadANN maps the graph
// in place and reads only its small sections (levels, flags, upper
// layers: about 8% of the file at 1,000,000 × 128); an exact scan reads
// every mapped vector. bench/annquery, end to end: 208 ms through the graph
// against 329 ms exact at 1,000,000 × 128 (143 MB graph, 512 MB vectors),
// 86 against 172 ms at 200,000 × 512 (29 MB, 400 MB).
var annLoadCost = 1.5

// queryANN returns the store's approximate index when a command that
// runs `searches` searches should use it: the store is at or above
// annThreshold, --exact is not set, loading the graph costs less than the
// exact scans it saves (annLoadCost), and the file matches the store.
// Otherwise it returns nil, with a note for stderr when the index is
// needed but missing, stale or damaged.
func queryANN(r *store.Reader, exact bool, searches int) (*search.HNSW, string) {
	if exact || r.Len() < annThreshold {
		return nil, ""
	}
	size := int64(r.Len()) * 140 // a missing file: what it would take (layer 0 is 33 u32 a node)
	if st, err := os.Stat(filepath.Join(r.Dir(), store.ANNFile)); err == nil {
		size = st.Size()
	}
	if float64(size)*annLoadCost >= float64(searches)*float64(r.Len())*float64(r.Dim())*4 {
		return nil, ""
	}
	ix, err := index.LoadANN(r)
	if err != nil {
		return nil, fmt.Sprintf("approximate index not used (%v); searching every vector. `embedsearch index` rebuilds it", err)
	}
	return ix, ""
}

// annSearch answers one query from the approximate index, or reports
// false when exact search must: a filter that lets through under a fifth
// of the store (estimated on a sample) starves the graph walk, and a walk
// that finds fewer than k allowed rows is redone exactly.
func annSearch(ix *search.HNSW, m search.Matrix, q []float32, k int, o search.Options) ([]search.Neighbor, bool) {
	ef := annEf(k)
	if o.Allow != nil {
		n := m.Len()
		const samples = 1024
		step := max(1, n/samples)
		seen, ok := 0, 0
		for id := 0; id < n; id += step {
			seen++
			if o.Allow(id) {
				ok++
			}
		}
		frac := float64(ok) / float64(max(seen, 1))
		if frac < 0.2 {
			return nil, false
		}
		ef = int(float64(ef) / frac)
	}
	res := ix.Search(m, q, k, ef, o)
	if len(res) < min(k, m.Len()) {
		return nil, false
	}
	return res, true
}
