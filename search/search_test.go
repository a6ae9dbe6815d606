package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randMatrix makes n unit rows of dimension dim; every dupEvery-th row
// repeats an earlier one so that exact ties occur.
func randMatrix(rng *rand.Rand, n, dim, dupEvery int) Matrix {
	m := Matrix{Data: make([]float32, n*dim), Dim: dim}
	for i := range n {
		row := m.Row(i)
		if dupEvery > 0 && i > 0 && i%dupEvery == 0 {
			copy(row, m.Row(rng.IntN(i)))
			continue
		}
		for j := range row {
			row[j] = float32(rng.NormFloat64())
		}
		Normalize(row)
	}
	return m
}

// naiveExact ranks every row by the same per-pair distance in a plain
// sort: the reference Exact must equal exactly.
func naiveExact(m Matrix, q []float32, k int, o Options) []Neighbor {
	var all []Neighbor
	var d [1]float32
	for i := range m.Len() {
		if o.Allow != nil && !o.Allow(i) {
			continue
		}
		dotRows(q, m.Row(i), m.Dim, d[:])
		all = append(all, Neighbor{i, distFromDot(d[0])})
	}
	less := neighborLess(o.TieLess)
	slices.SortStableFunc(all, func(a, b Neighbor) int {
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
	return all
}

func TestDotMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dim := range []int{1, 3, 7, 8, 9, 16, 31, 64, 100, 512, 513} {
		m := randMatrix(rng, 37, dim, 0)
		q := m.Row(5)
		out := make([]float32, m.Len())
		dotRows(q, m.Data, dim, out)
		for i := range out {
			var want float64
			for j, v := range m.Row(i) {
				want += float64(v) * float64(q[j])
			}
			if math.Abs(float64(out[i])-want) > 1e-5 {
				t.Fatalf("dim %d row %d: dot %v, float64 reference %v", dim, i, out[i], want)
			}
		}
	}
}

func TestTileEqualsRowsBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{5, 8, 12, 128, 300} {
		for _, nq := range []int{1, 2, 3, 4, 7} {
			for _, nr := range []int{1, 3, 4, 5, 9, 17} {
				rows := randMatrix(rng, nr, dim, 0)
				qs := randMatrix(rng, nq, dim, 0)
				tile := make([]float32, nq*nr)
				dotTile(qs.Data, nq, rows.Data, nr, dim, tile)
				one := make([]float32, nr)
				for j := range nq {
					dotRows(qs.Row(j), rows.Data, dim, one)
					for i := range one {
						if math.Float32bits(one[i]) != math.Float32bits(tile[j*nr+i]) {
							t.Fatalf("dim %d nq %d nr %d: tile[%d,%d]=%v, rows=%v", dim, nq, nr, j, i, tile[j*nr+i], one[i])
						}
					}
				}
			}
		}
	}
}

func TestExactEqualsNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, workers := range []int{1, 3} {
		for _, tc := range []struct{ n, dim, k int }{
			{1, 8, 1}, {10, 3, 4}, {500, 16, 10}, {3000, 64, 25}, {20000, 33, 7}, {100, 8, 1000},
		} {
			m := randMatrix(rng, tc.n, tc.dim, 4) // every 4th row duplicates another: ties
			for trial := range 5 {
				q := m.Row(rng.IntN(tc.n))
				if trial%2 == 1 {
					q = randMatrix(rng, 1, tc.dim, 0).Data
				}
				got := Exact(m, q, tc.k, Options{Workers: workers})
				want := naiveExact(m, q, tc.k, Options{})
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d dim=%d k=%d workers=%d:\n got %v\nwant %v", tc.n, tc.dim, tc.k, workers, head(got), head(want))
				}
				if tc.k > tc.n && len(got) != tc.n {
					t.Fatalf("k>n: got %d results, want all %d", len(got), tc.n)
				}
			}
		}
	}
}

func head(n []Neighbor) []Neighbor { return n[:min(len(n), 12)] }

func TestExactTiesAndOptions(t *testing.T) {
	// Ten copies of one vector and ten of another: every distance ties.
	dim := 16
	rng := rand.New(rand.NewPCG(7, 8))
	base := randMatrix(rng, 2, dim, 0)
	m := Matrix{Dim: dim}
	for i := range 20 {
		m.Data = append(m.Data, base.Row(i%2)...)
	}
	q := base.Row(0)
	got := Exact(m, q, 5, Options{})
	for i, nb := range got {
		if nb.ID != 2*i || nb.Dist != 0 {
			t.Fatalf("default tie order: result %d = %+v, want ID %d at distance 0", i, nb, 2*i)
		}
	}
	// TieLess: descending IDs.
	got = Exact(m, q, 3, Options{TieLess: func(a, b int) bool { return a > b }})
	if want := []int{18, 16, 14}; got[0].ID != want[0] || got[1].ID != want[1] || got[2].ID != want[2] {
		t.Fatalf("TieLess descending: got %v, want IDs %v", got, want)
	}
	// Allow is applied before ranking: k results come back when k exist.
	allowOdd := func(id int) bool { return id%2 == 1 }
	got = Exact(m, q, 4, Options{Allow: allowOdd})
	if len(got) != 4 {
		t.Fatalf("Allow: got %d results, want 4", len(got))
	}
	for _, nb := range got {
		if nb.ID%2 == 0 {
			t.Fatalf("Allow: disallowed ID %d returned", nb.ID)
		}
	}
	if got := Exact(m, q, 4, Options{Allow: func(int) bool { return false }}); got != nil {
		t.Fatalf("Allow none: got %v, want nil", got)
	}
}

func TestExactEdges(t *testing.T) {
	if got := Exact(Matrix{Dim: 4}, make([]float32, 4), 3, Options{}); got != nil {
		t.Fatalf("empty matrix: got %v", got)
	}
	m := randMatrix(rand.New(rand.NewPCG(1, 1)), 10, 4, 0)
	if got := Exact(m, m.Row(0), 0, Options{}); got != nil {
		t.Fatalf("k=0: got %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("dimension mismatch did not panic")
		}
	}()
	Exact(m, make([]float32, 5), 1, Options{})
}

func TestStream(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 33, 1000, 300001} {
		data := make([]float32, n)
		var want float64
		for i := range data {
			data[i] = float32(i%7) - 3
			want += float64(data[i])
		}
		if got := Stream(data, 0); math.Abs(float64(got)-want) > 1e-3*math.Max(1, math.Abs(want)) {
			t.Fatalf("n=%d: Stream=%v want %v", n, got, want)
		}
	}
}

func TestExactBatchEqualsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, dim := range []int{7, 64, 130} {
		m := randMatrix(rng, 5000, dim, 5)
		qs := randMatrix(rng, 200, dim, 0)
		copy(qs.Row(3), m.Row(10)) // a query equal to a row (and its duplicates)
		allow := func(id int) bool { return id%3 != 0 }
		for _, o := range []Options{{Workers: 2}, {Allow: allow, Workers: 2}} {
			got := ExactBatch(m, qs, 9, o)
			for j := range qs.Len() {
				if want := Exact(m, qs.Row(j), 9, o); !slices.Equal(got[j], want) {
					t.Fatalf("dim %d query %d:\n got %v\nwant %v", dim, j, got[j], want)
				}
			}
		}
	}
}

func TestWithinEqualsNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	m := randMatrix(rng, 4000, 8, 3) // low dim: many rows near any query
	for trial := range 10 {
		q := m.Row(trial * 7)
		maxDist := float32(0.2 + 0.1*float64(trial))
		got := Within(m, q, maxDist, Options{})
		all := naiveExact(m, q, m.Len(), Options{})
		var want []Neighbor
		for _, nb := range all {
			if nb.Dist <= maxDist {
				want = append(want, nb)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("maxDist %v: got %d rows, want %d", maxDist, len(got), len(want))
		}
	}
}

func TestGatherEqualsRowsBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, dim := range []int{3, 8, 13, 128} {
		m := randMatrix(rng, 100, dim, 0)
		ids := []uint32{99, 0, 5, 5, 42, 7}
		got := make([]float32, len(ids))
		dotGather(m.Row(3), m, ids, got)
		var one [1]float32
		for i, id := range ids {
			dotRows(m.Row(3), m.Row(int(id)), dim, one[:])
			if math.Float32bits(one[0]) != math.Float32bits(got[i]) {
				t.Fatalf("dim %d id %d: gather %v, rows %v", dim, id, got[i], one[0])
			}
		}
	}
}
