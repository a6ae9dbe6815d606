package collection

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// DefaultLoadCost is what opening one byte of the graph file costs, in
// bytes of exact scanning, as a conservative bound. index.LoadANN maps the
// graph in place and reads only its small sections (levels, flags, upper
// layers: about 8% of the file at 1,000,000 × 128); an exact scan reads
// every mapped vector. bench/annquery, end to end: 208 ms through the
// graph against 329 ms exact at 1,000,000 × 128 (143 MB graph, 512 MB
// vectors), 86 against 172 ms at 200,000 × 512 (29 MB, 400 MB).
const DefaultLoadCost = 1.5

// PairsK is how many neighbours each image looks up in the graph for
// Duplicates (HNSW.Pairs recommends ≥ 64): a pair is missed only when
// neither image has the other among its nearest PairsK.
const PairsK = 64

// efFor is the graph search breadth for k results: recall@10 against exact
// was 1.000 on bench/annquery's clustered 200,000 × 512 store (search's own
// tests assert ≥ 0.95 at ef = 100); one search costs milliseconds.
func efFor(k int) int { return max(200, 2*k) }

// SearchOptions say how a Searcher searches.
type SearchOptions struct {
	// Exact never uses the graph.
	Exact bool
	// Searches is how many searches the caller will run (a dedup pass is
	// one per image): the graph is opened only when that costs less than
	// the exact scans it saves.
	Searches int
	// ANNThreshold: stores smaller than this are searched exactly (0:
	// index.DefaultANNThreshold).
	ANNThreshold int
	// LoadCost weighs opening the graph against scanning (0:
	// DefaultLoadCost; negative: opening is free, and the graph is used
	// whenever the store has one: tests and benchmarks).
	LoadCost float64
	// AllPairs: the searches are one pass pairing every row (Duplicates,
	// set by FindDuplicates), which the exact path does as one all-pairs
	// scan in tiles rather than a scan per row: see pairsCrossover.
	AllPairs bool
}

// pairsCrossover is the rows × dimension above which pairing through the
// graph (a search per row, whose cost hardly depends on the dimension)
// beats the exact all-pairs scan (which grows as rows² × dimension).
// Measured with bench/dedupscale (the near test, 2 shared cores):
// 200,000 × 512, 403 CPU-seconds exact against 109 through the graph
// (crossover near 54,000 rows at 512); 50,000 × 512, 28.5 against 62.3
// (near 110,000); between them, 40,000,000 is about 78,000 rows at 512 and
// 310,000 at 128, where 101,000 × 128 took 6.4 s exact against 34.7 s
// through the graph.
const pairsCrossover = 40_000_000

// Searcher answers nearest-neighbour questions over one committed snapshot
// of a store, owning the search policy: the graph or an exact scan (a cost
// model chooses; a filter that starves the graph walk, or a walk that finds
// too few, falls back to exact), refinement to true distances with ties
// broken by path, and damaged rows (search.Damaged) left out. Searches may
// run concurrently; LeaveOut and the damage scans between them may not.
type Searcher struct {
	r   *store.Reader
	m   search.Matrix
	ann *search.HNSW // nil: exact only
	// Note says why the graph is not used although the store should have
	// one (missing, stale or damaged: the next change of the store
	// rebuilds it); "" otherwise.
	Note string
	// Progress, when set, hears how far Duplicates has come comparing
	// rows (search.Options.Progress; called from several goroutines).
	Progress func(done, total int)
	tie      func(a, b int) bool

	damaged  map[int]bool
	scanned  bool  // every damaged row of the store is in damaged
	checksum error // the vectors' checksum mismatch, when checked
}

// NewSearcher prepares searches over r.
func NewSearcher(r *store.Reader, o SearchOptions) *Searcher {
	s := &Searcher{r: r, m: search.Matrix{Data: r.Vectors(), Dim: r.Dim()}}
	s.tie = func(a, b int) bool { return r.Path(a) < r.Path(b) }
	s.ann, s.Note = chooseGraph(r, o)
	return s
}

// chooseGraph returns the store's graph when searches should use it: the
// store is at or above the threshold, Exact is not set, loading the graph
// costs less than the exact scans it saves, and the file matches the
// store. Otherwise nil, with a note when the graph is needed but missing,
// stale or damaged.
func chooseGraph(r *store.Reader, o SearchOptions) (*search.HNSW, string) {
	threshold, cost := o.ANNThreshold, o.LoadCost
	if threshold <= 0 {
		threshold = index.DefaultANNThreshold
	}
	if cost == 0 {
		cost = DefaultLoadCost
	}
	if o.Exact || r.Len() < threshold {
		return nil, ""
	}
	size := int64(r.Len()) * 140 // a missing file: what it would take (layer 0 is 33 u32 a node)
	if st, err := os.Stat(filepath.Join(r.Dir(), store.ANNFile)); err == nil {
		size = st.Size()
	}
	switch {
	case cost < 0:
	case o.AllPairs:
		if r.Len()*r.Dim() < pairsCrossover {
			return nil, ""
		}
	case float64(size)*cost >= float64(max(o.Searches, 1))*float64(r.Len())*float64(r.Dim())*4:
		return nil, ""
	}
	ix, err := index.LoadANN(r)
	if err != nil {
		return nil, fmt.Sprintf("approximate index not used (%v); searching every vector", err)
	}
	return ix, ""
}

// Method is "hnsw" when searches go through the graph, else "exact".
func (s *Searcher) Method() string {
	if s.ann != nil {
		return "hnsw"
	}
	return "exact"
}

// Matrix is the snapshot's vectors.
func (s *Searcher) Matrix() search.Matrix { return s.m }

// Nearest returns the k rows nearest to q that allow lets through (nil:
// all), by true distance, ties by path. Damaged rows are left out: the
// search ranks by inner products, which assume unit rows, so a damaged row
// can rank as "0.0000" and push a real neighbour out; Refine catches it
// among the k, and then every damaged row of the store is found (once) and
// the search runs again without them.
func (s *Searcher) Nearest(ctx context.Context, q []float32, k int, allow func(int) bool) ([]search.Neighbor, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o := search.Options{Allow: s.allow(allow), TieLess: s.tie}
		var found []search.Neighbor
		ok := false
		if s.ann != nil {
			found, ok = s.graphSearch(q, k, o)
		}
		if !ok {
			found = search.Exact(s.m, q, k, o)
		}
		found, damaged := search.Refine(s.m, q, found, s.tie)
		if len(damaged) == 0 || s.scanned {
			return found, nil
		}
		s.scan()
	}
}

// NearestMany is Nearest for several queries. Without the graph they are
// answered together (search.ExactBatch: the vectors are read once for all
// queries instead of once per query).
func (s *Searcher) NearestMany(ctx context.Context, qs [][]float32, k int, allow func(int) bool) ([][]search.Neighbor, error) {
	if s.ann != nil || len(qs) < 2 {
		out := make([][]search.Neighbor, len(qs))
		for i, q := range qs {
			var err error
			if out[i], err = s.Nearest(ctx, q, k, allow); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	flat := make([]float32, 0, len(qs)*s.m.Dim)
	for _, q := range qs {
		flat = append(flat, q...)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o := search.Options{Allow: s.allow(allow), TieLess: s.tie}
		out := search.ExactBatch(s.m, search.Matrix{Data: flat, Dim: s.m.Dim}, k, o)
		any := false
		for i := range out {
			var damaged []int
			out[i], damaged = search.Refine(s.m, qs[i], out[i], s.tie)
			any = any || len(damaged) > 0
		}
		if !any || s.scanned {
			return out, nil
		}
		s.scan()
	}
}

// graphSearch answers one query from the graph, or reports false when
// exact search must: a filter that lets through under a fifth of the store
// (estimated on a sample) starves the graph walk, and a walk that finds
// fewer than k allowed rows is redone exactly.
func (s *Searcher) graphSearch(q []float32, k int, o search.Options) ([]search.Neighbor, bool) {
	ef := efFor(k)
	if o.Allow != nil {
		n := s.m.Len()
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
	res := s.ann.Search(s.m, q, k, ef, o)
	if len(res) < min(k, s.m.Len()) {
		return nil, false
	}
	return res, true
}

// Pairing is how Duplicates finds the pairs that may join: with K > 0,
// each row's K nearest within Radius (search.KNN: their K-th distances
// measure how crowded each row's neighbourhood is), of which the pairs
// within MaxDist; with K = 0, every pair within MaxDist (search.Pairs).
type Pairing struct {
	K               int
	Radius, MaxDist float32
}

// Duplicates groups the rows allow lets through into sets in which every
// two are accepted by the linkage link makes from the neighbours it found
// (nil with K = 0): search.GroupsWith, complete linkage. The store's
// vector checksums are checked first: a mismatch finds the damaged rows and
// leaves them out before pairing (about five exact scans, a fraction of
// pairing); GroupsWith checks the rows of the pairs in any case (a vector
// stored damaged has a valid checksum), and a damaged row found there is
// left out and, through the graph, the pairing redone (it may have pushed
// real neighbours out of a row's nearest). It also returns how many pairs
// were candidates.
func (s *Searcher) Duplicates(ctx context.Context, p Pairing, allow func(int) bool, link func(*search.Neighbours) search.Linkage) ([]search.Group, int, error) {
	if s.checksum = s.r.Verify(); s.checksum != nil {
		s.scan()
	}
	find := func() ([]search.Pair, *search.Neighbours, error) {
		o := search.Options{Allow: s.allow(allow), Progress: s.Progress}
		if p.K > 0 {
			var nb *search.Neighbours
			var err error
			if s.ann != nil {
				nb, err = s.ann.KNN(ctx, s.m, p.K, p.Radius, o)
			} else {
				nb, err = search.KNN(ctx, s.m, p.K, p.Radius, o)
			}
			if err != nil {
				return nil, nil, err
			}
			return nb.Pairs(p.MaxDist), nb, nil
		}
		var ps []search.Pair
		var err error
		if s.ann != nil {
			ps, err = s.ann.Pairs(ctx, s.m, PairsK, p.MaxDist, o)
		} else {
			ps, err = search.Pairs(ctx, s.m, p.MaxDist, o)
		}
		return ps, nil, err
	}
	ps, nb, err := find()
	if err != nil {
		return nil, 0, err
	}
	groups, more := search.GroupsWith(s.m, ps, link(nb))
	s.LeaveOut(more...)
	if len(more) > 0 && s.ann != nil {
		if ps, nb, err = find(); err != nil {
			return nil, 0, err
		}
		groups, more = search.GroupsWith(s.m, ps, link(nb))
		s.LeaveOut(more...)
	}
	return groups, len(ps), ctx.Err()
}

// LeaveOut adds rows to those left out of every later search.
func (s *Searcher) LeaveOut(ids ...int) {
	if len(ids) == 0 {
		return
	}
	if s.damaged == nil {
		s.damaged = map[int]bool{}
	}
	for _, id := range ids {
		s.damaged[id] = true
	}
}

// scan finds every damaged row of the snapshot, once: one pass over the
// vectors (about one exact scan).
func (s *Searcher) scan() {
	if !s.scanned {
		s.LeaveOut(search.DamagedRows(s.m, 0)...)
		s.scanned = true
	}
}

// allow wraps a filter to leave the damaged rows out; with none known it
// returns next unchanged, so the search paths stay as fast.
func (s *Searcher) allow(next func(int) bool) func(int) bool {
	if len(s.damaged) == 0 {
		return next
	}
	return func(id int) bool { return !s.damaged[id] && (next == nil || next(id)) }
}

// Damaged returns the rows left out as damaged, ascending, and the
// checksum mismatch when one was found (a damaged value that keeps its
// row's norm shows only there). Both empty: nothing was damaged.
func (s *Searcher) Damaged() ([]int, error) {
	ids := make([]int, 0, len(s.damaged))
	for id := range s.damaged {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, s.checksum
}
