package search

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The ways a stored row goes bad. A flipped top exponent bit makes a
// component 2¹²⁸ times larger (or, set before, about zero).
var damages = []struct {
	name string
	do   func(row []float32, j int)
}{
	{"NaN", func(row []float32, j int) { row[j] = float32(math.NaN()) }},
	{"+Inf", func(row []float32, j int) { row[j] = float32(math.Inf(1)) }},
	{"-Inf", func(row []float32, j int) { row[j] = float32(math.Inf(-1)) }},
	{"exponent bit", func(row []float32, j int) { row[j] = math.Float32frombits(math.Float32bits(row[j]) ^ 0x40000000) }},
	{"huge", func(row []float32, j int) { row[j] *= 1e20 }},
	{"norm 0.5", func(row []float32, _ int) {
		for i := range row {
			row[i] *= 0.5
		}
	}},
	{"zero", func(row []float32, _ int) { clear(row) }},
	{"norm² 1+2e-4", func(row []float32, _ int) {
		for i := range row {
			row[i] *= float32(math.Sqrt(1 + 2e-4))
		}
	}},
}

func TestDamaged(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, dim := range []int{1, 3, 16, 512, 4096} {
		m := randMatrix(rng, 50, dim, 0)
		for i := range m.Len() {
			if Damaged(m.Row(i)) {
				t.Fatalf("dim %d: a normalised row is called damaged", dim)
			}
		}
		// Normalised with a float32 sum, the way another tool might: still sound.
		row := slices.Clone(m.Row(0))
		for i := range row {
			row[i] = float32(rng.NormFloat64())
		}
		var s float32
		for _, x := range row {
			s += x * x
		}
		inv := 1 / float32(math.Sqrt(float64(s)))
		for i := range row {
			row[i] *= inv
		}
		if Damaged(row) {
			t.Fatalf("dim %d: a row normalised in float32 is called damaged", dim)
		}
		for _, d := range damages {
			row := slices.Clone(m.Row(1))
			d.do(row, dim/2)
			if !Damaged(row) {
				t.Errorf("dim %d: %s not detected", dim, d.name)
			}
		}
	}
}

// damagedMatrix is a random matrix whose rows listed in bad are damaged
// (one way each, in turn), with a damaged copy of q's nearest row: its
// inner product with q is enormous, so ranking puts it first.
func damagedMatrix(t *testing.T, n, dim int) (m Matrix, q []float32, bad []int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(23, 24))
	m = randMatrix(rng, n, dim, 0)
	q = slices.Clone(m.Row(0))
	q[0] += 0.05
	Normalize(q)
	for i, d := range damages {
		id := 3 + 7*i
		d.do(m.Row(id), i%dim)
		bad = append(bad, id)
	}
	// Row 0 (q's nearest) gets its largest component aligned with q
	// multiplied by 2¹²⁸: "0.0000" by inner product.
	j := 0
	for i, x := range q {
		if x*m.Row(0)[i] > q[j]*m.Row(0)[j] {
			j = i
		}
	}
	damages[3].do(m.Row(0), j)
	bad = append([]int{0}, bad...)
	return m, q, bad
}

func TestDamagedRows(t *testing.T) {
	m, _, bad := damagedMatrix(t, 3000, 24)
	for _, w := range []int{1, 3} {
		if got := DamagedRows(m, w); !slices.Equal(got, bad) {
			t.Fatalf("workers %d: DamagedRows %v, want %v", w, got, bad)
		}
	}
	if got := DamagedRows(Matrix{Dim: 4}, 0); got != nil {
		t.Fatalf("empty matrix: %v", got)
	}
}

func subset(a, b []int) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// checkSound fails unless found holds no damaged row, is ordered by a
// finite distance, and equals the naive ranking of the sound rows.
func checkSound(t *testing.T, what string, m Matrix, q []float32, found []Neighbor, bad []int, k int) {
	t.Helper()
	skip := func(id int) bool { return !slices.Contains(bad, id) }
	want, _ := Refine(m, q, naiveExact(m, q, k, Options{Allow: skip}), nil)
	for i, nb := range found {
		if slices.Contains(bad, nb.ID) || math.IsNaN(float64(nb.Dist)) || math.IsInf(float64(nb.Dist), 0) {
			t.Fatalf("%s: result %d is %+v (damaged: %v)", what, i, nb, bad)
		}
		if i > 0 && found[i-1].Dist > nb.Dist {
			t.Fatalf("%s: not ordered at %d: %+v", what, i, found)
		}
	}
	if !slices.Equal(found, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, found, want)
	}
}

// TestRefineLeavesOutDamaged: on the exact path a damaged row ranks first
// ("0.0000"); Refine takes every damaged row out and names it, and the
// search run again without the damaged rows is the sound ranking.
func TestRefineLeavesOutDamaged(t *testing.T) {
	m, q, bad := damagedMatrix(t, 400, 24)
	found := Exact(m, q, 10, Options{})
	if found[0].ID != 0 || found[0].Dist != 0 {
		t.Fatalf("the damaged nearest row does not rank first: %+v", found)
	}
	refined, damaged := Refine(m, q, found, nil)
	if len(damaged) == 0 || damaged[0] != 0 || len(refined)+len(damaged) != 10 || !subset(damaged, bad) {
		t.Fatalf("Refine: damaged %v (of %v), %d kept", damaged, bad, len(refined))
	}
	// Every row through Refine: each damaged one is named, once.
	_, damaged = Refine(m, q, Exact(m, q, m.Len(), Options{}), nil)
	slices.Sort(damaged)
	if !slices.Equal(damaged, bad) {
		t.Fatalf("Refine over all rows: damaged %v, want %v", damaged, bad)
	}
	// Search again without them.
	bits := make([]bool, m.Len())
	for _, id := range DamagedRows(m, 0) {
		bits[id] = true
	}
	o := Options{Allow: func(id int) bool { return !bits[id] }}
	for _, k := range []int{10, m.Len()} {
		refined, damaged = Refine(m, q, Exact(m, q, k, o), nil)
		if damaged != nil {
			t.Fatalf("k=%d: damaged %v after leaving them out", k, damaged)
		}
		checkSound(t, "exact", m, q, refined, bad, k)
	}
}

// TestHNSWLeavesOutDamaged: the graph was built over sound rows and the
// rows went bad later (a flipped byte on disk). The damaged nearest row
// comes back from the walk first; Refine catches it, and the walk again
// without the damaged rows gives the sound ranking.
func TestHNSWLeavesOutDamaged(t *testing.T) {
	m, q, bad := damagedMatrix(t, 400, 24)
	sound := randMatrix(rand.New(rand.NewPCG(23, 24)), 400, 24, 0) // the same rows, undamaged
	ix := buildHNSW(t, sound, HNSWOptions{M: 16, EfConstruction: 200})
	found := ix.Search(m, q, 10, 400, Options{})
	if found[0].ID != 0 || found[0].Dist != 0 {
		t.Fatalf("the damaged nearest row does not come first: %+v", found)
	}
	if _, damaged := Refine(m, q, found, nil); len(damaged) == 0 || damaged[0] != 0 || !subset(damaged, bad) {
		t.Fatalf("Refine: damaged %v (of %v)", damaged, bad)
	}
	bits := make([]bool, m.Len())
	for _, id := range DamagedRows(m, 0) {
		bits[id] = true
	}
	o := Options{Allow: func(id int) bool { return !bits[id] }}
	refined, damaged := Refine(m, q, ix.Search(m, q, 10, 400, o), nil)
	if damaged != nil {
		t.Fatalf("damaged %v after leaving them out", damaged)
	}
	checkSound(t, "hnsw", m, q, refined, bad, 10) // ef = n: the walk is exhaustive
}

// TestGroupsLeaveOutDamaged: a damaged row in a group of near copies is
// "0.0000" from them by inner product (and from half the matrix); Groups
// leaves its pairs out, names it, and groups the rest as if it were not
// there. (A NaN row is in no pair: its distance ranks last.)
func TestGroupsLeaveOutDamaged(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	m := nearDupMatrix(rng, 400, 32, 0.02)
	pairs := allPairs(t, m, 0.3, nil)
	sound, _ := Groups(m, pairs, 0.3, nil)
	if len(sound) < 5 {
		t.Fatalf("only %d groups: test data too sparse", len(sound))
	}
	// In the first two groups, one member each: a component 2¹²⁸ times
	// too large, and one infinite.
	var want []int
	for i, d := range []int{3, 1} {
		victim := sound[i].Members[1]
		row := m.Row(victim)
		j := slices.IndexFunc(row, func(x float32) bool { return x > 0 })
		damages[d].do(row, j)
		want = append(want, victim)
	}
	m.Row(sound[2].Members[0])[1] = float32(math.NaN())
	slices.Sort(want)

	pairs = allPairs(t, m, 0.3, nil)
	got, damaged := Groups(m, pairs, 0.3, nil)
	if !slices.Equal(damaged, want) {
		t.Fatalf("damaged %v, want %v", damaged, want)
	}
	bits := map[int]bool{want[0]: true, want[1]: true, sound[2].Members[0]: true}
	ref, none := Groups(m, allPairs(t, m, 0.3, func(id int) bool { return !bits[id] }), 0.3, nil)
	if none != nil {
		t.Fatalf("damaged %v with the damaged rows left out", none)
	}
	for _, g := range got {
		for i, id := range g.Members {
			if bits[id] || !(g.Dists[i] <= 0.3) {
				t.Fatalf("group %+v holds damaged row %d or distance %v", g.Members, id, g.Dists[i])
			}
		}
	}
	if !slices.EqualFunc(got, ref, func(a, b Group) bool {
		return slices.Equal(a.Members, b.Members) && a.Keeper == b.Keeper && slices.Equal(a.Dists, b.Dists) && a.MaxDist == b.MaxDist
	}) {
		t.Fatalf("groups with a damaged row differ from groups without it:\n got %+v\nwant %+v", got, ref)
	}
}
