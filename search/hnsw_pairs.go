package search

import (
	"slices"
	"sync/atomic"
)

// Pairs is the approximate counterpart of the package-level Pairs for
// stores too big for all-pairs: every live, allowed row searches its k
// nearest neighbours in the graph (k ≥ 64 recommended; ef = 2k) and the
// pairs within maxDist are kept, sorted by (A, B). A pair is missed only
// when neither row finds the other; distances are exact, so every pair
// returned is a true pair.
func (ix *HNSW) Pairs(m Matrix, k int, maxDist float32, allow func(id int) bool) []Pair {
	n := min(ix.n, m.Len())
	var next atomic.Int64
	found := make([][]Pair, max(1, Workers))
	o := Options{Allow: allow}
	run(len(found), func(w int) {
		var got []Pair
		for {
			start := int(next.Add(256) - 256)
			if start >= n {
				break
			}
			for a := start; a < min(start+256, n); a++ {
				if !ix.Has(a) || (allow != nil && !allow(a)) {
					continue
				}
				for _, nb := range ix.Search(m, m.Row(a), k+1, 2*k, o) {
					if nb.Dist > maxDist {
						break
					}
					if nb.ID != a {
						got = append(got, Pair{min(a, nb.ID), max(a, nb.ID), nb.Dist})
					}
				}
			}
		}
		found[w] = got
	})
	ps := slices.Concat(found...)
	slices.SortFunc(ps, comparePairs)
	return slices.CompactFunc(ps, func(a, b Pair) bool { return a.A == b.A && a.B == b.B })
}
