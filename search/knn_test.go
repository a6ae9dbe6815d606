package search

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

// naiveKNN lists each allowed row's k nearest allowed rows within radius,
// nearest first, ties by ID.
func naiveKNN(m Matrix, k int, radius float32, allow func(int) bool) [][]Neighbor {
	out := make([][]Neighbor, m.Len())
	var d [1]float32
	for a := range m.Len() {
		if allow != nil && !allow(a) {
			continue
		}
		var all []Neighbor
		for b := range m.Len() {
			if b == a || (allow != nil && !allow(b)) {
				continue
			}
			dotRows(m.Row(a), m.Row(b), m.Dim, d[:])
			if dist := distFromDot(d[0]); dist <= radius {
				all = append(all, Neighbor{ID: b, Dist: dist})
			}
		}
		sort.Slice(all, func(i, j int) bool {
			return all[i].Dist < all[j].Dist || (all[i].Dist == all[j].Dist && all[i].ID < all[j].ID)
		})
		out[a] = all[:min(k, len(all))]
	}
	return out
}

func TestKNNEqualsNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, workers := range []int{1, 2} {
		for _, tc := range []struct {
			n, dim, k int
			radius    float32
		}{{2, 8, 3, 2}, {300, 16, 5, 1.2}, {700, 64, 30, 0.9}, {500, 5, 10, 0.3}} {
			m := nearDupMatrix(rng, tc.n, tc.dim, 0.05)
			for _, allow := range []func(int) bool{nil, func(id int) bool { return id%4 != 1 }} {
				nb, err := KNN(t.Context(), m, tc.k, tc.radius, Options{Allow: allow, Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				want := naiveKNN(m, tc.k, tc.radius, allow)
				for a := range m.Len() {
					ids, ds := nb.Of(a)
					if len(ids) != len(want[a]) {
						t.Fatalf("n %d k %d row %d: %d neighbours, want %d", tc.n, tc.k, a, len(ids), len(want[a]))
					}
					for i, w := range want[a] {
						if int(ids[i]) != w.ID || ds[i] != w.Dist {
							t.Fatalf("n %d k %d row %d: neighbour %d is %d at %v, want %d at %v", tc.n, tc.k, a, i, ids[i], ds[i], w.ID, w.Dist)
						}
					}
					wantKth := tc.radius
					if len(want[a]) == tc.k {
						wantKth = want[a][tc.k-1].Dist
					}
					if nb.Kth(a) != wantKth {
						t.Fatalf("row %d: Kth %v, want %v", a, nb.Kth(a), wantKth)
					}
				}
				// Pairs: what either row lists, once.
				var wantPairs []Pair
				for a, l := range want {
					for _, w := range l {
						wantPairs = append(wantPairs, Pair{min(a, w.ID), max(a, w.ID), w.Dist})
					}
				}
				slices.SortFunc(wantPairs, comparePairs)
				wantPairs = slices.CompactFunc(wantPairs, func(x, y Pair) bool { return x.A == y.A && x.B == y.B })
				if got := nb.Pairs(tc.radius); !slices.Equal(got, wantPairs) {
					t.Fatalf("n %d k %d: %d pairs, want %d", tc.n, tc.k, len(got), len(wantPairs))
				}
			}
		}
	}
}

func TestKNNStopsWhenCancelled(t *testing.T) {
	m := nearDupMatrix(rand.New(rand.NewPCG(5, 6)), 12000, 256, 0.05)
	cancelWhileRunning(t, after(20*time.Millisecond), func(ctx context.Context) error {
		_, err := KNN(ctx, m, 10, 1, Options{})
		return err
	})
}

func TestHNSWKNNFindsTheExactNeighbours(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := randMatrix(rng, 40, 32, 0)
	m := clusteredMatrix(rng, c, 3000, 0.05)
	ix := buildHNSW(t, m, HNSWOptions{})
	exact, err := KNN(t.Context(), m, 10, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	approx, err := ix.KNN(t.Context(), m, 10, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hit, total := 0, 0
	for a := range m.Len() {
		want, _ := exact.Of(a)
		got, _ := approx.Of(a)
		in := map[int32]bool{}
		for _, id := range got {
			in[id] = true
		}
		for _, id := range want {
			total++
			if in[id] {
				hit++
			}
		}
	}
	if r := float64(hit) / float64(total); r < 0.95 {
		t.Fatalf("graph KNN recall %.3f, want ≥ 0.95", r)
	}
}

// TestGroupsWithAccept: a refused pair keeps its rows apart even when they
// are the closest, and its refusal keeps every group it would join apart
// (complete linkage over the test, not the distance); the keeper is the
// one Keeper picks.
func TestGroupsWithAccept(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	base := randMatrix(rng, 2, 16, 0)
	m := Matrix{Dim: 16}
	// Rows 0-3 near base 0, rows 4-5 near base 1.
	for i := range 6 {
		src := base.Row(i / 4)
		row := make([]float32, 16)
		for j := range row {
			row[j] = src[j] + float32(0.02*float64(i%4+1)*rng.NormFloat64())
		}
		Normalize(row)
		m.Data = append(m.Data, row...)
	}
	ps := naivePairs(m, 2, nil)
	refused := map[[2]int]bool{{0, 1}: true}
	groups, _ := GroupsWith(m, ps, Linkage{
		Accept: func(a, b int, d float32) bool { return d < 0.5 && !refused[[2]int{min(a, b), max(a, b)}] },
		Keeper: func(members []int) int { return members[len(members)-1] },
	})
	for _, g := range groups {
		if slices.Contains(g.Members, 0) && slices.Contains(g.Members, 1) {
			t.Fatalf("refused pair grouped: %v", g.Members)
		}
		if g.Keeper != g.Members[len(g.Members)-1] {
			t.Fatalf("keeper %d of %v", g.Keeper, g.Members)
		}
	}
	if len(groups) != 2 || !slices.Equal(groups[1].Members, []int{4, 5}) {
		t.Fatalf("groups %+v", groups)
	}
}
