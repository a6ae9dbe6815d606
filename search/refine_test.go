package search

import (
	"math"
	"math/rand"
	"testing"
)

func TestRefineGivesExactZeroForIdenticalRows(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const n, dim = 500, 64
	data := make([]float32, n*dim)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	m := Matrix{Data: data, Dim: dim}
	for i := 0; i < n; i++ {
		Normalize(m.Row(i))
	}
	// A row whose inner product with itself rounds below 1: ranking
	// reports a small non-zero distance for it.
	self := -1
	for i := 0; i < n && self < 0; i++ {
		if Exact(m, m.Row(i), 1, Options{})[0].Dist > 0 {
			self = i
		}
	}
	if self < 0 || self == n-1 {
		t.Fatal("no row with a rounded self-distance: pick another seed")
	}
	copy(m.Row(n-1), m.Row(self)) // an identical pair
	q := append([]float32(nil), m.Row(self)...)

	found, damaged := Refine(m, q, Exact(m, q, 10, Options{}), nil)
	if damaged != nil {
		t.Fatalf("sound rows called damaged: %v", damaged)
	}
	if found[0].ID != self || found[1].ID != n-1 || found[0].Dist != 0 || found[1].Dist != 0 {
		t.Fatalf("identical rows: %+v", found[:2])
	}
	for i, nb := range found {
		var s float64
		for j := range q {
			d := float64(q[j]) - float64(m.Row(nb.ID)[j])
			s += d * d
		}
		if math.Abs(float64(nb.Dist)-math.Sqrt(s)) > 1e-6 {
			t.Fatalf("result %d: distance %v, direct %v", i, nb.Dist, math.Sqrt(s))
		}
		if i > 0 && found[i-1].Dist > nb.Dist {
			t.Fatalf("not sorted at %d: %+v", i, found)
		}
	}
}
