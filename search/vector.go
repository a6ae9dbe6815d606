package search

import "math"

// Normalize scales v to unit length in place (a zero vector stays zero)
// and returns its original length.
func Normalize(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := math.Sqrt(s)
	if n == 0 {
		return 0
	}
	inv := 1 / n
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return float32(n)
}
