package search

import "math"

// NormTolerance is how far from 1 the squared norm of a stored row may be
// before Damaged calls the row damaged.
//
// Rows are normalised in float64 and stored as float32, which moves the
// squared norm by at most 2·2⁻²⁴ ≈ 1.2e-7 whatever the dimension (a row
// normalised with a float32 sum, as an older build or another tool might,
// stays within about 3e-5 at 512 dimensions). The int8 copies in
// pairs_int8.go are never stored: they only pick candidates, which are
// measured in float32. 1e-4 leaves that rounding a wide margin, and a
// damaged row that stays within it moves a squared distance by at most
// 1e-4, which ranking by distance does not notice.
const NormTolerance = 1e-4

// Damaged reports whether row cannot be a stored unit vector: its squared
// norm, summed in float64, is not within NormTolerance of 1. A NaN or an
// infinite value never is, and neither is a flipped exponent bit (a value
// 2¹²⁸ times too large, or ~0). The kernels rank by inner products and
// assume unit rows, so such a row gets a meaningless distance (0 or
// 1e24) that looks real; Refine, Groups and DamagedRows leave it out.
func Damaged(row []float32) bool {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(row); i += 4 {
		a, b, c, d := float64(row[i]), float64(row[i+1]), float64(row[i+2]), float64(row[i+3])
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(row); i++ {
		s0 += float64(row[i]) * float64(row[i])
	}
	return !(math.Abs(s0+s1+s2+s3-1) <= NormTolerance) // NaN compares false
}

// DamagedRows returns the IDs of m's damaged rows (see Damaged),
// ascending: one pass over the matrix, split across workers goroutines (0:
// GOMAXPROCS), about as long as one Exact scan. Callers that check only
// the rows they report (Refine, Groups) use it to leave every damaged row
// out at once.
func DamagedRows(m Matrix, workers int) []int {
	n := m.Len()
	if n == 0 {
		return nil
	}
	parts := split(n, m.Dim, workerCount(workers))
	found := make([][]int, len(parts)-1)
	run(len(found), func(w int) {
		for id := parts[w]; id < parts[w+1]; id++ {
			if Damaged(m.Row(id)) {
				found[w] = append(found[w], id)
			}
		}
	})
	var ids []int
	for _, f := range found {
		ids = append(ids, f...)
	}
	return ids
}
