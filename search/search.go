package search

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// Matrix is a dense row-major block of vectors: row i is
// Data[i*Dim:(i+1)*Dim] and its ID is i. Rows are expected to be
// L2-normalised (the store keeps them so); see the package doc for what
// distances mean otherwise.
type Matrix struct {
	Data []float32
	Dim  int
}

// Len reports the number of rows.
func (m Matrix) Len() int {
	if m.Dim <= 0 {
		return 0
	}
	return len(m.Data) / m.Dim
}

// Row returns row i (a sub-slice of Data, not a copy).
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Dim : (i+1)*m.Dim : (i+1)*m.Dim] }

// Neighbor is one search result: a row ID and its Euclidean distance to the
// query (not squared).
type Neighbor struct {
	ID   int
	Dist float32
}

// Options restrict, order and parallelise a search. Its two functions are
// called from several goroutines at once and must be safe for that (pure
// lookups are).
type Options struct {
	// Allow reports whether a row may appear in results; nil allows all.
	// It is applied before ranking, so k results come back when k
	// allowed rows exist.
	Allow func(id int) bool
	// TieLess orders rows at exactly equal distance; nil means ID ascending.
	// It must be a strict total order on IDs (e.g. path order).
	TieLess func(a, b int) bool
	// Workers is how many goroutines the search splits its rows across;
	// 0 means runtime.GOMAXPROCS(0). Exact results do not depend on it;
	// HNSW.Search (one walk) ignores it.
	Workers int
	// Progress, when set, is called by Pairs and HNSW.Pairs as their work
	// advances, with the rows done so far and in all (Pairs weighs each
	// row by the comparisons it takes). It is called from the search's
	// workers, possibly several at once, and must be quick.
	Progress func(done, total int)
}

// workerCount resolves a Workers setting: n when positive, else GOMAXPROCS.
func workerCount(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// stopped reports whether done (a context's Done channel) is closed, in a
// few nanoseconds: long loops check it between tiles and stop early, and
// the function returns ctx.Err(). A nil done (context.Background) never is.
func stopped(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// checkDim panics when a query does not match the matrix: a programming
// error the caller prevents by checking the store's model first.
func checkDim(m Matrix, q []float32) {
	if len(q) != m.Dim {
		panic(fmt.Sprintf("search: query has %d dimensions, matrix has %d", len(q), m.Dim))
	}
	if m.Dim > 0 && len(m.Data)%m.Dim != 0 {
		panic(fmt.Sprintf("search: matrix data length %d is not a multiple of dim %d", len(m.Data), m.Dim))
	}
}

// distFromDot turns the inner product of two unit vectors into their
// Euclidean distance: ‖a−b‖ = sqrt(2 − 2⟨a,b⟩), clamped at 0. Every path in
// this package converts through this one function, so equal inner products
// always give bit-identical distances.
func distFromDot(dot float32) float32 {
	d2 := 2 - 2*dot // 2*dot is exact, so fused or not this rounds once
	if !(d2 > 0) {
		if d2 != d2 { // NaN in the data ranks last
			return float32(math.Inf(1))
		}
		return 0
	}
	return float32(math.Sqrt(float64(d2)))
}

// dotBound returns an inner product below which a row cannot reach a
// distance ≤ dist (with a small margin for rounding in distFromDot).
func dotBound(dist float32) float32 {
	if math.IsInf(float64(dist), 1) {
		return float32(math.Inf(-1))
	}
	d2 := float64(dist) * float64(dist) * (1 + 1e-6)
	return float32(1-d2/2) - 4e-7
}

// Exact returns the k rows nearest to q among the allowed ones, sorted by
// distance and then by o.TieLess. It reads every row once, split across
// o.Workers goroutines with a bounded top-k heap each. q must be
// L2-normalised and have m.Dim elements (Exact panics otherwise, like an
// out-of-range index). k ≤ 0 or an empty matrix gives nil.
func Exact(m Matrix, q []float32, k int, o Options) []Neighbor {
	checkDim(m, q)
	n := m.Len()
	if k <= 0 || n == 0 {
		return nil
	}
	if k > n {
		k = n
	}
	less := neighborLess(o.TieLess)
	parts := split(n, m.Dim, workerCount(o.Workers))
	heaps := make([]topK, len(parts)-1)
	run(len(heaps), func(w int) {
		h := &heaps[w]
		h.init(k, less)
		lo, hi := parts[w], parts[w+1]
		buf := make([]float32, chunkRows)
		for start := lo; start < hi; start += chunkRows {
			end := min(start+chunkRows, hi)
			dots := buf[:end-start]
			dotRows(q, m.Data[start*m.Dim:end*m.Dim], m.Dim, dots)
			h.offer(dots, start, o.Allow)
		}
	})
	return mergeTopK(heaps, k, less)
}

// chunkRows is how many inner products a worker computes before ranking
// them: small enough to stay in L1, large enough to amortise the call.
const chunkRows = 256

// split cuts n rows into at most w contiguous parts of similar size (each
// at least a few hundred kilobytes, so tiny matrices use one goroutine).
func split(n, dim, w int) []int {
	if w < 1 {
		w = 1
	}
	minRows := max(1, (256<<10)/(4*max(dim, 1)))
	if p := (n + minRows - 1) / minRows; p < w {
		w = max(p, 1)
	}
	parts := make([]int, w+1)
	for i := range w + 1 {
		parts[i] = i * n / w
	}
	return parts
}

// run calls f(0..n-1) on n goroutines and waits; the calling goroutine
// does part 0 itself.
func run(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); f(i) }()
	}
	f(0)
	wg.Wait()
}

// neighborLess is the result order: distance, then tie order.
func neighborLess(tie func(a, b int) bool) func(a, b Neighbor) bool {
	if tie == nil {
		return func(a, b Neighbor) bool {
			return a.Dist < b.Dist || (a.Dist == b.Dist && a.ID < b.ID)
		}
	}
	return func(a, b Neighbor) bool {
		return a.Dist < b.Dist || (a.Dist == b.Dist && tie(a.ID, b.ID))
	}
}

// topK keeps the k best neighbours seen so far in a max-heap (worst at the
// root) so that a candidate is checked against one threshold.
type topK struct {
	k     int
	less  func(a, b Neighbor) bool
	items []Neighbor
	floor float32 // inner products below this cannot enter once full
}

func (h *topK) init(k int, less func(a, b Neighbor) bool) {
	h.k, h.less = k, less
	h.items = make([]Neighbor, 0, k)
	h.floor = float32(math.Inf(-1))
}

// offer ranks a chunk of inner products whose first row is base.
func (h *topK) offer(dots []float32, base int, allow func(int) bool) {
	floor := h.floor
	for i, d := range dots {
		if d < floor {
			continue
		}
		id := base + i
		if allow != nil && !allow(id) {
			continue
		}
		if h.push(Neighbor{id, distFromDot(d)}) {
			floor = h.floor
		}
	}
}

// push adds nb when it beats the worst kept neighbour; it reports whether
// the floor moved.
func (h *topK) push(nb Neighbor) bool {
	if len(h.items) < h.k {
		h.items = append(h.items, nb)
		h.up(len(h.items) - 1)
		if len(h.items) == h.k {
			h.floor = dotBound(h.items[0].Dist)
			return true
		}
		return false
	}
	if !h.less(nb, h.items[0]) {
		return false
	}
	h.items[0] = nb
	h.down(0)
	h.floor = dotBound(h.items[0].Dist)
	return true
}

func (h *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[p], h.items[i]) {
			return
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

func (h *topK) down(i int) {
	n := len(h.items)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && h.less(h.items[c], h.items[c+1]) {
			c++
		}
		if !h.less(h.items[i], h.items[c]) {
			return
		}
		h.items[i], h.items[c] = h.items[c], h.items[i]
		i = c
	}
}

// mergeTopK joins per-worker heaps into the final sorted k.
func mergeTopK(hs []topK, k int, less func(a, b Neighbor) bool) []Neighbor {
	var all []Neighbor
	for i := range hs {
		all = append(all, hs[i].items...)
	}
	slices.SortFunc(all, func(a, b Neighbor) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
	if len(all) > k {
		all = all[:k]
	}
	if len(all) == 0 {
		return nil
	}
	return all
}
