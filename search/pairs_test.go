package search

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
)

func naivePairs(m Matrix, maxDist float32, allow func(int) bool) []Pair {
	var ps []Pair
	var d [1]float32
	for a := range m.Len() {
		for b := a + 1; b < m.Len(); b++ {
			if allow != nil && (!allow(a) || !allow(b)) {
				continue
			}
			dotRows(m.Row(a), m.Row(b), m.Dim, d[:])
			if dist := distFromDot(d[0]); dist <= maxDist {
				ps = append(ps, Pair{a, b, dist})
			}
		}
	}
	return ps
}

// allPairs is Pairs under the test's context, which is never cancelled
// while the test runs.
func allPairs(tb testing.TB, m Matrix, maxDist float32, allow func(int) bool) []Pair {
	tb.Helper()
	ps, err := Pairs(tb.Context(), m, maxDist, Options{Allow: allow})
	if err != nil {
		tb.Fatal(err)
	}
	return ps
}

// nearDupMatrix plants groups of near copies among random rows.
func nearDupMatrix(rng *rand.Rand, n, dim int, noise float64) Matrix {
	m := randMatrix(rng, n, dim, 0)
	for i := 1; i < n; i++ {
		if rng.IntN(3) == 0 {
			src := m.Row(rng.IntN(i))
			row := m.Row(i)
			for j := range row {
				row[j] = src[j] + float32(noise*rng.NormFloat64())
			}
			Normalize(row)
		}
	}
	return m
}

func TestPairsEqualsNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, workers := range []int{1, 2} {
		for _, tc := range []struct {
			n, dim  int
			maxDist float32
		}{{2, 8, 2}, {300, 16, 0.5}, {700, 64, 0.3}, {500, 5, 0.2}} {
			m := nearDupMatrix(rng, tc.n, tc.dim, 0.01)
			for _, allow := range []func(int) bool{nil, func(id int) bool { return id%4 != 1 }} {
				got, err := Pairs(t.Context(), m, tc.maxDist, Options{Allow: allow, Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				want := naivePairs(m, tc.maxDist, allow)
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d dim=%d: got %d pairs, want %d", tc.n, tc.dim, len(got), len(want))
				}
				if tc.n > 2 && len(want) == 0 {
					t.Fatalf("n=%d: test data has no pairs", tc.n)
				}
			}
		}
	}
}

func TestGroupsOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	m := nearDupMatrix(rng, 400, 32, 0.05)
	pairs := allPairs(t, m, 0.45, nil)
	if len(pairs) < 20 {
		t.Fatalf("only %d pairs: test data too sparse", len(pairs))
	}
	better := func(a, b int) bool { return a%7 < b%7 || (a%7 == b%7 && a > b) }
	want, _ := Groups(m, pairs, 0.45, better)
	for range 5 {
		shuffled := slices.Clone(pairs)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for i := range shuffled {
			if rng.IntN(2) == 0 { // the same pair written the other way round
				shuffled[i].A, shuffled[i].B = shuffled[i].B, shuffled[i].A
			}
		}
		got, _ := Groups(m, shuffled, 0.45, better)
		if !slices.EqualFunc(got, want, func(a, b Group) bool {
			return slices.Equal(a.Members, b.Members) && a.Keeper == b.Keeper &&
				slices.Equal(a.Dists, b.Dists) && a.MaxLink == b.MaxLink && a.MaxDist == b.MaxDist
		}) {
			t.Fatal("groups depend on pair order")
		}
	}
	// Groups are disjoint cliques of the pair graph (every two members
	// within the threshold), the keeper is the best member, distances agree
	// with the pairs, and every pair not split by the clique rule is kept.
	dist := map[[2]int]float32{}
	for _, p := range pairs {
		dist[[2]int{p.A, p.B}] = p.Dist
	}
	in := map[int]int{}
	grouped := 0
	for gi, g := range want {
		for i, x := range g.Members {
			if _, dup := in[x]; dup {
				t.Fatalf("row %d in two groups", x)
			}
			in[x] = gi
			if x != g.Keeper && better(x, g.Keeper) {
				t.Fatalf("group %d: member %d beats keeper %d", gi, x, g.Keeper)
			}
			for _, y := range g.Members[i+1:] {
				if _, ok := dist[[2]int{x, y}]; !ok {
					t.Fatalf("group %d: members %d and %d are not a pair", gi, x, y)
				}
				grouped++
			}
			if x != g.Keeper {
				if d := dist[[2]int{min(x, g.Keeper), max(x, g.Keeper)}]; g.Dists[i] != d {
					t.Fatalf("member %d: distance to keeper %v, pair says %v", x, g.Dists[i], d)
				}
			} else if g.Dists[i] != 0 {
				t.Fatalf("keeper distance %v, want 0", g.Dists[i])
			}
		}
		if g.MaxDist < g.MaxLink || g.MaxDist > 0.45 {
			t.Fatalf("group %d: diameter %v, largest link %v, threshold 0.45", gi, g.MaxDist, g.MaxLink)
		}
	}
	t.Logf("%d pairs, %d inside %d groups", len(pairs), grouped, len(want))
	if grouped < len(pairs)/2 {
		t.Fatalf("only %d of %d pairs inside groups", grouped, len(pairs))
	}
}

func TestPairsInt8EqualsFloat(t *testing.T) {
	if !useVNNI {
		t.Skip("no AVX-512 VNNI on this machine: the int8 path is not used")
	}
	rng := rand.New(rand.NewPCG(17, 18))
	for _, tc := range []struct {
		n, dim  int
		maxDist float32
		noise   float64
	}{
		{33, 8, 0.5, 0.02}, {1000, 13, 0.3, 0.02}, {2100, 64, 0.25, 0.01}, {1500, 512, 0.2, 0.003}, {700, 16, 1.2, 0.1},
	} {
		m := nearDupMatrix(rng, tc.n, tc.dim, tc.noise)
		got := pairsInt8(t.Context(), m, tc.maxDist, workerCount(0), nil)
		slices.SortFunc(got, comparePairs)
		want := pairsOf(t.Context(), m, tc.maxDist, workerCount(0), nil)
		slices.SortFunc(want, comparePairs)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d dim=%d maxDist=%v: int8 path found %d pairs, float path %d", tc.n, tc.dim, tc.maxDist, len(got), len(want))
		}
		if len(want) == 0 {
			t.Fatalf("n=%d: no pairs in test data", tc.n)
		}
	}
}

func TestGroupsChainAndBigGroup(t *testing.T) {
	// A chain a–b–c along a great circle: a≈b and b≈c but a≉c.
	dim := 8
	m := Matrix{Dim: dim, Data: make([]float32, 4*dim)}
	for i, ang := range []float64{0, 0.2, 0.4, 2} {
		m.Row(i)[0] = float32(math.Cos(ang))
		m.Row(i)[1] = float32(math.Sin(ang))
	}
	pairs := allPairs(t, m, 0.25, nil)
	if len(pairs) != 2 {
		t.Fatalf("chain: %d pairs, want 2 (%v)", len(pairs), pairs)
	}
	// The chain is cut: a and b (the pair taken first on the tie) group,
	// c, too far from a, stays alone.
	gs, _ := Groups(m, pairs, 0.25, func(a, b int) bool { return a > b }) // keep the highest ID
	if len(gs) != 1 || !slices.Equal(gs[0].Members, []int{0, 1}) || gs[0].Keeper != 1 || !gs[0].Exact {
		t.Fatalf("chain: groups %+v", gs)
	}
	if g := gs[0]; g.MaxDist > 0.25 || g.MaxLink != pairs[0].Dist || g.Dists[0] != g.MaxDist || g.Dists[1] != 0 {
		t.Fatalf("chain: MaxDist %v MaxLink %v Dists %v", g.MaxDist, g.MaxLink, g.Dists)
	}
	// Given in any order, the pairs give the same groups.
	if again, _ := Groups(m, []Pair{pairs[1], pairs[0]}, 0.25, func(a, b int) bool { return a > b }); !reflect.DeepEqual(again, gs) {
		t.Fatalf("reversed pairs: %+v, want %+v", again, gs)
	}
	// A group above MaxExactGroup: duplicates of one vector.
	big := Matrix{Dim: dim, Data: make([]float32, (MaxExactGroup+1)*dim)}
	var chain []Pair
	for i := range MaxExactGroup + 1 {
		big.Row(i)[0] = 1
		if i > 0 {
			chain = append(chain, Pair{i - 1, i, 0})
		}
	}
	bg, _ := Groups(big, chain, 0, nil) // identical rows: the chain joins them all
	if len(bg) != 1 || len(bg[0].Members) != MaxExactGroup+1 || bg[0].Exact || bg[0].MaxDist != 0 {
		t.Fatalf("big group: %d groups, exact=%v", len(bg), bg[0].Exact)
	}
}

// TestPairsProgress: Pairs and HNSW.Pairs report their rows as they go,
// ending at all of them, and the pairs do not change.
func TestPairsProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	m := nearDupMatrix(rng, 3000, 32, 0.01)
	var mu sync.Mutex
	var calls, last, total int
	o := Options{Progress: func(done, all int) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if done > all || all != m.Len() {
			t.Errorf("progress %d of %d, %d rows", done, all, m.Len())
		}
		last, total = max(last, done), all
	}}
	got, err := Pairs(t.Context(), m, 0.3, o)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Pairs(t.Context(), m, 0.3, Options{})
	if !slices.Equal(got, want) || calls < 2 || last != m.Len() || total != m.Len() {
		t.Fatalf("Pairs: %d calls, last %d of %d; pairs equal %v", calls, last, total, slices.Equal(got, want))
	}
	ix, err := BuildHNSW(t.Context(), m, HNSWOptions{})
	if err != nil {
		t.Fatal(err)
	}
	calls, last = 0, 0
	if _, err := ix.Pairs(t.Context(), m, 16, 0.3, o); err != nil {
		t.Fatal(err)
	}
	if calls < 2 || last != m.Len() {
		t.Fatalf("HNSW.Pairs: %d calls, last %d of %d", calls, last, m.Len())
	}
}
