package search

import (
	"context"
	"slices"
	"sync/atomic"
)

// Pairs is the approximate counterpart of the package-level Pairs for
// stores too big for all-pairs: every live row that o.Allow lets through
// searches its k nearest neighbours in the graph (k ≥ 64 recommended;
// ef = 2k), split across o.Workers, and the pairs within maxDist are kept,
// sorted by (A, B). A pair is missed only when neither row finds the
// other; distances are exact, so every pair returned is a true pair. It
// checks ctx between searches and, once ctx is cancelled, returns
// ctx.Err() after the searches under way (milliseconds).
func (ix *HNSW) Pairs(ctx context.Context, m Matrix, k int, maxDist float32, o Options) ([]Pair, error) {
	found := make([][]Pair, workerCount(o.Workers))
	ix.eachRow(ctx, m, k+1, 2*k, maxDist, o, func(w int) func(a int, nb Neighbor) {
		return func(a int, nb Neighbor) { found[w] = append(found[w], Pair{min(a, nb.ID), max(a, nb.ID), nb.Dist}) }
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ps := slices.Concat(found...)
	slices.SortFunc(ps, comparePairs)
	return slices.CompactFunc(ps, func(a, b Pair) bool { return a.A == b.A && a.B == b.B }), nil
}

// eachRow searches the graph for every live row that o.Allow lets through
// (k results, breadth ef), in chunks of 256 rows split across o.Workers,
// and hands each neighbour within limit, other than the row itself, to the
// visit function visitor made for the worker (w < workerCount(o.Workers)).
// It checks ctx between searches.
func (ix *HNSW) eachRow(ctx context.Context, m Matrix, k, ef int, limit float32, o Options, visitor func(w int) func(a int, nb Neighbor)) {
	n := min(ix.n, m.Len())
	var next atomic.Int64
	done := ctx.Done()
	allow := o.Allow
	pr := newProgress(o.Progress, n, int64(n))
	run(workerCount(o.Workers), func(w int) {
		visit := visitor(w)
		for !stopped(done) {
			start := int(next.Add(256) - 256)
			if start >= n {
				break
			}
			end := min(start+256, n)
			for a := start; a < end && !stopped(done); a++ {
				if !ix.Has(a) || (allow != nil && !allow(a)) {
					continue
				}
				for _, nb := range ix.Search(m, m.Row(a), k, ef, o) {
					if nb.Dist > limit {
						break
					}
					if nb.ID != a {
						visit(a, nb)
					}
				}
			}
			pr.add(int64(end - start))
		}
	})
}
