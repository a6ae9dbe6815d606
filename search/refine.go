package search

import (
	"math"
	"sort"
)

// Refine recomputes the distances of found neighbours of q directly as
// sqrt(Σ(qᵢ−rowᵢ)²) in float64 and re-sorts them by (distance, tie order).
//
// Ranking uses sqrt(2 − 2⟨a,b⟩) (see distFromDot), whose float32 inner
// product puts a floor of about 3e-4 under the distance of two identical
// vectors. Users read the reported number ("0.0000" for the same picture),
// so commands refine the few results they print; the ranking itself is
// unchanged except among neighbours closer than that rounding.
func Refine(m Matrix, q []float32, found []Neighbor, tie func(a, b int) bool) []Neighbor {
	checkDim(m, q)
	for i := range found {
		row := m.Row(found[i].ID)
		var s float64
		for j, x := range q {
			d := float64(x) - float64(row[j])
			s += d * d
		}
		found[i].Dist = float32(math.Sqrt(s))
	}
	less := neighborLess(tie)
	sort.SliceStable(found, func(i, j int) bool { return less(found[i], found[j]) })
	return found
}
