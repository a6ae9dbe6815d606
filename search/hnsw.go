package search

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// HNSWOptions shape an approximate index. Zero values take the defaults.
type HNSWOptions struct {
	M              int    // links per node above layer 0 (layer 0 has 2M); default 16
	EfConstruction int    // candidate list size while inserting; default 200
	Seed           uint64 // seeds the level draws; default 1
	// Workers is how many goroutines Add inserts with; 0 means
	// runtime.GOMAXPROCS(0). With 1 the graph is the same on every run.
	// It is not stored in the file: a graph from ReadHNSW uses the default.
	Workers int
}

func (o HNSWOptions) withDefaults() HNSWOptions {
	if o.M <= 0 {
		o.M = 16
	}
	if o.EfConstruction <= 0 {
		o.EfConstruction = 200
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// HNSW is a hierarchical navigable small-world graph over the rows of a
// Matrix (Malkov & Yashunin 2016). It stores only the graph: every method
// takes the Matrix that holds the vectors, and node IDs are row IDs.
//
// Search may run concurrently with other Searches; Add, Remove and
// WriteTo must not run concurrently with anything else on the same index.
type HNSW struct {
	dim, m, m0, efc int
	seed            uint64
	levelMult       float64
	workers         int // HNSWOptions.Workers, as given

	n       int      // nodes 0..n-1 exist (a row ID never added has level -1)
	level   []int8   // -1: not in the graph
	l0      []uint32 // layer 0 links: n*(m0+1), first of each block is the count
	upper   [][]uint32
	deleted []bool
	ndel    int

	entry    int // -1 when empty
	maxLevel int

	locks    []sync.Mutex // only used while Add runs
	visited  sync.Pool
	readOnly bool // MapHNSW: the arrays alias memory that must not change
}

// NewHNSW returns an empty index for vectors of dimension dim.
func NewHNSW(dim int, o HNSWOptions) *HNSW {
	o = o.withDefaults()
	return &HNSW{
		dim: dim, m: o.M, m0: 2 * o.M, efc: o.EfConstruction, seed: o.Seed,
		levelMult: 1 / math.Log(float64(o.M)),
		entry:     -1, workers: o.Workers,
	}
}

// BuildHNSW indexes every row of m. It stops early when ctx is cancelled
// and returns ctx.Err() (see Add).
func BuildHNSW(ctx context.Context, m Matrix, o HNSWOptions) (*HNSW, error) {
	ix := NewHNSW(m.Dim, o)
	ids := make([]int, m.Len())
	for i := range ids {
		ids[i] = i
	}
	if err := ix.Add(ctx, m, ids); err != nil {
		return nil, err
	}
	return ix, nil
}

// Dim is the vector dimension the index was built for.
func (ix *HNSW) Dim() int { return ix.dim }

// Len is the number of live (added and not removed) nodes.
func (ix *HNSW) Len() int {
	c := 0
	for i := range ix.n {
		if ix.level[i] >= 0 && !ix.deleted[i] {
			c++
		}
	}
	return c
}

// Slots is the number of row IDs the graph spans (live, removed or
// absent): searches read rows 0..Slots()-1 of the matrix.
func (ix *HNSW) Slots() int { return ix.n }

// Removed is the number of removed nodes still used for navigation; rebuild
// when it grows large compared with Len.
func (ix *HNSW) Removed() int { return ix.ndel }

// Has reports whether row id is a live node.
func (ix *HNSW) Has(id int) bool {
	return id >= 0 && id < ix.n && ix.level[id] >= 0 && !ix.deleted[id]
}

// Remove marks rows as deleted: they are never returned but still guide
// searches until the index is rebuilt. Unknown IDs are ignored.
func (ix *HNSW) Remove(ids ...int) {
	ix.mustWrite()
	for _, id := range ids {
		if id >= 0 && id < ix.n && ix.level[id] >= 0 && !ix.deleted[id] {
			ix.deleted[id] = true
			ix.ndel++
		}
	}
}

func (ix *HNSW) mustWrite() {
	if ix.readOnly {
		panic("search: HNSW from MapHNSW is read-only (use ReadHNSW to change an index)")
	}
}

func (ix *HNSW) grow(n int) {
	if n <= ix.n {
		return
	}
	s := ix.m0 + 1
	if ix.n == 0 { // fresh index: allocate once, no copies
		ix.level = make([]int8, n)
		for i := range ix.level {
			ix.level[i] = -1
		}
		ix.l0 = make([]uint32, n*s)
		ix.upper = make([][]uint32, n)
		ix.deleted = make([]bool, n)
		ix.n = n
		return
	}
	ix.level = append(ix.level, make([]int8, n-ix.n)...)
	for i := ix.n; i < n; i++ {
		ix.level[i] = -1
	}
	ix.l0 = append(ix.l0, make([]uint32, (n-ix.n)*s)...)
	ix.upper = append(ix.upper, make([][]uint32, n-ix.n)...)
	ix.deleted = append(ix.deleted, make([]bool, n-ix.n)...)
	ix.n = n
}

// drawLevel is a deterministic function of the seed and the row ID, so a
// node gets the same level however the insertions are scheduled.
func (ix *HNSW) drawLevel(id int) int {
	r := rand.New(rand.NewPCG(ix.seed, uint64(id)))
	u := r.Float64()
	for u == 0 {
		u = r.Float64()
	}
	return min(int(-math.Log(u)*ix.levelMult), 30)
}

// Add inserts rows of m (new IDs; re-adding a live ID is a no-op, re-adding
// a removed one revives it without relinking). It uses HNSWOptions.Workers
// goroutines; with Workers = 1 the graph is the same on every run.
//
// When ctx is cancelled, Add finishes the insertions under way (one graph
// search each, milliseconds) and returns ctx.Err(): the index then holds
// some of ids, and they may not all be reachable from the entry point
// until an Add of the rest completes. Discard it, or Add the same ids
// again.
func (ix *HNSW) Add(ctx context.Context, m Matrix, ids []int) error {
	ix.mustWrite()
	if m.Dim != ix.dim {
		panic("search: HNSW.Add with a matrix of another dimension")
	}
	maxID := -1
	for _, id := range ids {
		maxID = max(maxID, id)
	}
	ix.grow(maxID + 1)
	var todo []int
	for _, id := range ids {
		switch {
		case ix.level[id] == -1:
			todo = append(todo, id)
			ix.level[id] = -2 // pending (also makes a repeated ID a no-op)
		case ix.deleted[id]:
			ix.deleted[id] = false
			ix.ndel--
		}
	}
	if len(todo) == 0 {
		return nil
	}
	ix.locks = make([]sync.Mutex, ix.n)
	defer func() { ix.locks = nil }()
	// The first node (or a first node of a higher level) seeds the graph
	// alone so that workers always have an entry point.
	start := 0
	if ix.entry < 0 {
		ix.insert(m, todo[0], nil)
		start = 1
	}
	var next atomic.Int64
	next.Store(int64(start))
	var global sync.RWMutex
	done := ctx.Done()
	run(max(1, min(workerCount(ix.workers), len(todo)-start)), func(int) {
		for !stopped(done) {
			i := int(next.Add(1) - 1)
			if i >= len(todo) {
				return
			}
			ix.insert(m, todo[i], &global)
		}
	})
	// Stopped early: the IDs never inserted leave the graph. When none is
	// left the work is done, and a later Add of the same IDs (a no-op)
	// could not make the nodes reachable, so finish it.
	left := 0
	for _, id := range todo {
		if ix.level[id] == -2 {
			ix.level[id] = -1
			left++
		}
	}
	if left > 0 {
		return ctx.Err()
	}
	ix.linkUnreached(m)
	return nil
}

// linkUnreached makes every live node reachable from the entry point on
// layer 0: the neighbour-selection heuristic can prune a node (or a small
// cluster) out of every list that led to it, and no search would ever
// return it. Each unreached node gets a link from its nearest reached node
// (its own neighbours first); a full list gives up its farthest link,
// which can strand another node, so the pass repeats while that happens.
func (ix *HNSW) linkUnreached(m Matrix) {
	if ix.entry < 0 {
		return
	}
	for range 4 {
		reached := make([]bool, ix.n)
		var queue []int
		visit := func(from int) {
			queue = append(queue[:0], from)
			reached[from] = true
			for len(queue) > 0 {
				x := queue[len(queue)-1]
				queue = queue[:len(queue)-1]
				for _, nb := range ix.links(x, 0) {
					if !reached[nb] {
						reached[nb] = true
						queue = append(queue, int(nb))
					}
				}
			}
		}
		visit(ix.entry)
		fixed := 0
		for i := range ix.n {
			if ix.level[i] < 0 || reached[i] {
				continue
			}
			x := m.Row(i)
			best, bestKey := -1, float32(0)
			consider := func(j int) {
				if k := -ix.dot(x, m, j); best < 0 || k < bestKey {
					best, bestKey = j, k
				}
			}
			for _, nb := range ix.links(i, 0) {
				if reached[nb] {
					consider(int(nb))
				}
			}
			if best < 0 {
				for j := range ix.n {
					if reached[j] {
						consider(j)
					}
				}
			}
			ix.addLink0(m, best, i)
			fixed++
			visit(i)
		}
		if fixed == 0 {
			return
		}
	}
}

// addLink0 adds a layer-0 link from node to nb, replacing node's farthest
// link when its list is full.
func (ix *HNSW) addLink0(m Matrix, node, nb int) {
	s := ix.m0 + 1
	b := ix.l0[node*s : (node+1)*s]
	if int(b[0]) < ix.m0 {
		b[1+b[0]] = uint32(nb)
		b[0]++
		return
	}
	y := m.Row(node)
	far, farKey := 0, float32(0)
	for j, id := range b[1 : 1+b[0]] {
		if k := -ix.dot(y, m, int(id)); j == 0 || k > farKey {
			far, farKey = j, k
		}
	}
	b[1+far] = uint32(nb)
}

type cand struct {
	key float32 // −⟨q,x⟩ (exact negation, so distances match Exact): smaller is nearer
	id  uint32
}

// insert links one node; global guards entry/maxLevel (nil when alone).
func (ix *HNSW) insert(m Matrix, id int, global *sync.RWMutex) {
	lvl := ix.drawLevel(id)
	if lvl > 0 {
		ix.upper[id] = make([]uint32, 0, lvl*(ix.m+1))
		for range lvl {
			ix.upper[id] = append(ix.upper[id], make([]uint32, ix.m+1)...)
		}
	}
	q := m.Row(id)
	if global != nil {
		global.RLock()
	}
	ep, top := ix.entry, ix.maxLevel
	if global != nil {
		global.RUnlock()
	}
	if ep < 0 { // first node
		ix.level[id] = int8(lvl)
		ix.entry, ix.maxLevel = id, lvl
		return
	}
	s := ix.newSearcher()
	defer ix.visited.Put(s)
	cur := cand{-ix.dot(q, m, ep), uint32(ep)}
	for l := top; l > lvl; l-- {
		cur = ix.greedy(m, q, cur, l, true)
	}
	for l := min(lvl, top); l >= 0; l-- {
		w := ix.searchLayer(m, q, []cand{cur}, ix.efc, l, s, true, nil)
		maxN := ix.m
		if l == 0 {
			maxN = ix.m0
		}
		sel := ix.selectNeighbors(m, w, ix.m)
		ix.lock(id)
		ix.setLinks(id, l, sel)
		ix.unlock(id)
		for _, c := range sel {
			ix.link(m, int(c.id), id, l, maxN)
		}
		cur = w[0]
	}
	ix.level[id] = int8(lvl)
	if global != nil && lvl > top {
		global.Lock()
		if lvl > ix.maxLevel {
			ix.entry, ix.maxLevel = id, lvl
		}
		global.Unlock()
	}
}

func (ix *HNSW) lock(id int) {
	if ix.locks != nil {
		ix.locks[id].Lock()
	}
}

func (ix *HNSW) unlock(id int) {
	if ix.locks != nil {
		ix.locks[id].Unlock()
	}
}

// links returns node id's neighbour list on layer l (aliasing storage).
func (ix *HNSW) links(id, l int) []uint32 {
	if l == 0 {
		s := ix.m0 + 1
		b := ix.l0[id*s : (id+1)*s]
		return b[1 : 1+min(b[0], uint32(ix.m0))] // clamped: layer 0 of a file is not validated
	}
	s := ix.m + 1
	b := ix.upper[id][(l-1)*s : l*s]
	return b[1 : 1+b[0]]
}

func (ix *HNSW) setLinks(id, l int, cs []cand) {
	var b []uint32
	if l == 0 {
		s := ix.m0 + 1
		b = ix.l0[id*s : (id+1)*s]
	} else {
		s := ix.m + 1
		b = ix.upper[id][(l-1)*s : l*s]
	}
	b[0] = uint32(len(cs))
	for i, c := range cs {
		b[1+i] = c.id
	}
}

// link adds a back-link from node to nb, pruning node's list with the
// heuristic when it overflows.
func (ix *HNSW) link(m Matrix, node, nb, l, maxN int) {
	ix.lock(node)
	defer ix.unlock(node)
	cur := ix.links(node, l)
	if len(cur) < maxN {
		full := cur[:len(cur)+1]
		full[len(cur)] = uint32(nb)
		if l == 0 {
			ix.l0[node*(ix.m0+1)]++
		} else {
			ix.upper[node][(l-1)*(ix.m+1)]++
		}
		return
	}
	x := m.Row(node)
	cs := make([]cand, 0, len(cur)+1)
	for _, c := range cur {
		cs = append(cs, cand{-ix.dot(x, m, int(c)), c})
	}
	cs = append(cs, cand{-ix.dot(x, m, nb), uint32(nb)})
	sortCands(cs)
	ix.setLinks(node, l, ix.selectNeighbors(m, cs, maxN))
}

func sortCands(cs []cand) {
	slices.SortFunc(cs, func(a, b cand) int {
		if a.key < b.key {
			return -1
		}
		if a.key > b.key {
			return 1
		}
		return int(a.id) - int(b.id)
	})
}

// dupDot is the inner product above which two unit vectors count as the
// same point (distance below about 0.0014).
const dupDot = 1 - 1e-6

// selectNeighbors is the paper's heuristic (algorithm 4 without extension):
// keep a candidate only if it is nearer to the base than to every kept one,
// which spreads links across directions. cs is sorted nearest first.
func (ix *HNSW) selectNeighbors(m Matrix, cs []cand, maxN int) []cand {
	if len(cs) <= maxN {
		return slices.Clone(cs)
	}
	sel := make([]cand, 0, maxN)
	for _, c := range cs {
		if len(sel) == maxN {
			break
		}
		x := m.Row(int(c.id))
		good := true
		for _, s := range sel {
			// A kept neighbour identical to the base (an exact duplicate
			// image) is as far from c as the base is, up to rounding: it
			// must not prune c, or duplicates link only to each other and
			// become an island no search reaches.
			if -s.key >= dupDot {
				continue
			}
			if -ix.dot(x, m, int(s.id)) < c.key {
				good = false
				break
			}
		}
		if good {
			sel = append(sel, c)
		}
	}
	return sel
}

func (ix *HNSW) dot(q []float32, m Matrix, id int) float32 {
	var d [1]float32
	dotRows(q, m.Data[id*ix.dim:(id+1)*ix.dim], ix.dim, d[:])
	return d[0]
}

// greedy walks layer l toward q from cur until no neighbour is nearer.
func (ix *HNSW) greedy(m Matrix, q []float32, cur cand, l int, locked bool) cand {
	var buf [64]uint32
	for changed := true; changed; {
		changed = false
		nbs := ix.snapshot(int(cur.id), l, locked, buf[:0])
		for _, nb := range nbs {
			if k := -ix.dot(q, m, int(nb)); k < cur.key {
				cur, changed = cand{k, nb}, true
			}
		}
	}
	return cur
}

// snapshot copies a neighbour list (under the node's lock during Add).
func (ix *HNSW) snapshot(id, l int, locked bool, buf []uint32) []uint32 {
	if !locked {
		return ix.links(id, l)
	}
	ix.lock(id)
	buf = append(buf, ix.links(id, l)...)
	ix.unlock(id)
	return buf
}

type searcher struct {
	mark  []uint32
	epoch uint32
	cands candHeap // nearest first
	res   candHeap // farthest first (keys negated)
	buf   []uint32
	ids   []uint32
	dots  []float32
}

func (ix *HNSW) newSearcher() *searcher {
	s, _ := ix.visited.Get().(*searcher)
	if s == nil {
		s = &searcher{}
	}
	if len(s.mark) < ix.n {
		s.mark = make([]uint32, ix.n)
		s.epoch = 0
	}
	s.epoch++
	if s.epoch == 0 {
		clear(s.mark)
		s.epoch = 1
	}
	return s
}

// searchLayer is the paper's algorithm 2: best-first search keeping the
// ef nearest seen. Rows failing accept are traversed but not kept. It
// returns the kept candidates nearest first.
func (ix *HNSW) searchLayer(m Matrix, q []float32, eps []cand, ef, l int, s *searcher, locked bool, accept func(int) bool) []cand {
	s.cands = s.cands[:0]
	s.res = s.res[:0]
	for _, e := range eps {
		s.mark[e.id] = s.epoch
		s.cands.push(e)
		if accept == nil || accept(int(e.id)) {
			s.res.push(cand{-e.key, e.id})
		}
	}
	for len(s.cands) > 0 {
		c := s.cands.pop()
		if len(s.res) >= ef && c.key > -s.res[0].key {
			break
		}
		s.buf = ix.snapshot(int(c.id), l, locked, s.buf[:0])
		s.ids = s.ids[:0]
		for _, nb := range s.buf {
			if nb >= uint32(ix.n) { // only a damaged file links outside the graph
				continue
			}
			if s.mark[nb] != s.epoch {
				s.mark[nb] = s.epoch
				s.ids = append(s.ids, nb)
			}
		}
		if cap(s.dots) < len(s.ids) {
			s.dots = make([]float32, len(s.ids), 2*len(s.ids))
		}
		s.dots = s.dots[:len(s.ids)]
		dotGather(q, m, s.ids, s.dots)
		for i, nb := range s.ids {
			k := -s.dots[i]
			if len(s.res) < ef || k < -s.res[0].key {
				s.cands.push(cand{k, nb})
				if accept == nil || accept(int(nb)) {
					s.res.push(cand{-k, nb})
					if len(s.res) > ef {
						s.res.pop()
					}
				}
			}
		}
	}
	out := make([]cand, len(s.res))
	for i, c := range s.res {
		out[i] = cand{-c.key, c.id}
	}
	sortCands(out)
	return out
}

// Search returns about the k allowed rows nearest to q (approximate),
// sorted like Exact, exploring ef candidates on the bottom layer (ef < k
// means ef = k; larger ef is slower and more exact). Removed rows and
// rows Allow rejects are walked through but never returned; with a very
// selective Allow use Exact instead.
func (ix *HNSW) Search(m Matrix, q []float32, k, ef int, o Options) []Neighbor {
	checkDim(m, q)
	if k <= 0 || ix.entry < 0 {
		return nil
	}
	ef = max(ef, k)
	s := ix.newSearcher()
	defer ix.visited.Put(s)
	cur := cand{-ix.dot(q, m, ix.entry), uint32(ix.entry)}
	for l := ix.maxLevel; l > 0; l-- {
		cur = ix.greedy(m, q, cur, l, false)
	}
	accept := func(id int) bool { return !ix.deleted[id] && (o.Allow == nil || o.Allow(id)) }
	w := ix.searchLayer(m, q, []cand{cur}, ef, 0, s, false, accept)
	out := make([]Neighbor, len(w))
	for i, c := range w {
		out[i] = Neighbor{int(c.id), distFromDot(-c.key)}
	}
	less := neighborLess(o.TieLess)
	slices.SortFunc(out, func(a, b Neighbor) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// candHeap is a binary min-heap on key.
type candHeap []cand

func (h *candHeap) push(c cand) {
	*h = append(*h, c)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].key <= a[i].key {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *candHeap) pop() cand {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1].key < a[c].key {
			c++
		}
		if a[i].key <= a[c].key {
			break
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
	*h = a
	return top
}
