package search

import (
	"math"
	"sort"
)

// Refine recomputes the distances of found neighbours of q directly as
// sqrt(Σ(qᵢ−rowᵢ)²) in float64 and re-sorts them by (distance, tie order).
// Rows that are Damaged are taken out of the result and their IDs
// returned in damaged, in the order found: their ranking distance came
// from an inner product that assumed a unit row, so they may have pushed
// real neighbours out (search again without them, see DamagedRows).
//
// Ranking uses sqrt(2 − 2⟨a,b⟩) (see distFromDot), whose float32 inner
// product puts a floor of about 3e-4 under the distance of two identical
// vectors. Users read the reported number ("0.0000" for the same picture),
// so commands refine the few results they print; the ranking itself is
// unchanged except among neighbours closer than that rounding.
func Refine(m Matrix, q []float32, found []Neighbor, tie func(a, b int) bool) (refined []Neighbor, damaged []int) {
	checkDim(m, q)
	kept := found[:0]
	for _, nb := range found {
		row := m.Row(nb.ID)
		if Damaged(row) {
			damaged = append(damaged, nb.ID)
			continue
		}
		nb.Dist = float32(Distance(q, row))
		kept = append(kept, nb)
	}
	less := neighborLess(tie)
	sort.SliceStable(kept, func(i, j int) bool { return less(kept[i], kept[j]) })
	return kept, damaged
}

// Distance is the Euclidean distance between a and b (len(b) ≥ len(a)),
// from the differences summed in float64: exact where the inner-product
// form 2 − 2⟨a,b⟩ loses the small distances of near copies to rounding.
func Distance(a, b []float32) float64 {
	b = b[:len(a)]
	var s float64
	for i, x := range a {
		d := float64(x) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}
