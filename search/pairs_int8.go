package search

import (
	"context"
	"math"
	"slices"
	"sync/atomic"
)

// The int8 all-pairs path. Inner products of int8-quantised rows cost a
// quarter of float32 ones (AVX-512 VNNI); they only pick candidates, with a
// proven error bound so that no pair within the threshold is missed, and
// every candidate is then measured with the float32 kernel like any other
// path. The result equals pairsOf exactly.
//
// Quantisation: one scale S = 127/max|x| for the whole matrix, q = round(S·x).
// With x = q/S + e, |e| ≤ 1/(2S):
//
//	|⟨x,y⟩ − ⟨qx,qy⟩/S²| ≤ (‖qx‖₁+‖qy‖₁)/(2S²) + d/(4S²)
//
// so a pair can only be within the threshold when
// ⟨qx,qy⟩ ≥ (T − bound)·S², T being the inner product the distance needs.

const (
	panelRows   = 32  // rows per panel (two 16-lane accumulators)
	blockRows   = 8   // query rows per tile
	superRows   = 256 // query rows a worker takes at a time (stay in L2)
	int8Minimum = 2048
)

type quantized struct {
	n, dim, dim4 int
	qs           []int8  // row-major, signed, dim4 per row, rows padded to blockRows
	panels       []uint8 // per panel, per 4 dims: 32 rows × 4 bytes of q+128
	neg          []int32 // −(threshold of row i as the broadcast query)
}

func quantize(m Matrix, minDot float32, nw int) *quantized {
	n, dim := m.Len(), m.Dim
	dim4 := (dim + 3) &^ 3
	var maxAbs float64
	for _, v := range m.Data {
		maxAbs = max(maxAbs, math.Abs(float64(v)))
	}
	if maxAbs == 0 || math.IsNaN(maxAbs) || math.IsInf(maxAbs, 0) {
		return nil
	}
	s := 127 / maxAbs
	nq := (n + blockRows - 1) / blockRows * blockRows
	np := (n + panelRows - 1) / panelRows
	z := &quantized{n: n, dim: dim, dim4: dim4,
		qs:     make([]int8, nq*dim4),
		panels: make([]uint8, np*panelRows*dim4),
		neg:    make([]int32, nq),
	}
	sums := make([]int64, n)
	var l1max int64
	parts := split(n, dim, nw)
	l1s := make([]int64, len(parts)-1)
	run(len(l1s), func(w int) {
		for i := parts[w]; i < parts[w+1]; i++ {
			row := m.Row(i)
			q := z.qs[i*dim4 : i*dim4+dim]
			var sum, l1 int64
			p, r := i/panelRows, i%panelRows
			base := p * panelRows * dim4
			for k, v := range row {
				x := int8(math.Round(float64(v) * s))
				q[k] = x
				sum += int64(x)
				l1 += int64(max(x, -x))
				z.panels[base+(k/4)*panelRows*4+r*4+k%4] = uint8(int(x) + 128)
			}
			for k := dim; k < dim4; k++ {
				z.panels[base+(k/4)*panelRows*4+r*4+k%4] = 128
			}
			sums[i] = sum
			l1s[w] = max(l1s[w], l1)
		}
	})
	for _, v := range l1s {
		l1max = max(l1max, v)
	}
	// Padding rows of the last panel are u = 0 (never a hit beyond the
	// threshold computed below, and filtered by index anyway).
	bound := float64(2*l1max)/(2*s*s) + float64(dim)/(4*s*s)
	thr := math.Floor((float64(minDot)-bound)*s*s) - 1
	for i := range nq {
		if i >= n {
			z.neg[i] = math.MinInt32 / 2
			continue
		}
		// Panel bytes are q+128, so ⟨u,q_i⟩ = ⟨q,q_i⟩ + 128·Σq_i.
		t := thr + 128*float64(sums[i])
		z.neg[i] = int32(max(min(-t, math.MaxInt32/2), math.MinInt32/2))
	}
	return z
}

// pairsInt8 finds the same pairs as pairsOf, faster; like pairsOf, it
// stops early once ctx is cancelled (between panels of 32 rows).
func pairsInt8(ctx context.Context, m Matrix, maxDist float32, nw int, report func(done, total int)) []Pair {
	floor := dotBound(maxDist)
	z := quantize(m, floor, nw)
	if z == nil {
		return pairsOf(ctx, m, maxDist, nw, report)
	}
	n, dim, dim4 := z.n, z.dim, z.dim4
	np := (n + panelRows - 1) / panelRows
	nsuper := (n + superRows - 1) / superRows
	// Super-block sb compares its rows with the panels from its own on.
	var work int64
	for s0 := 0; s0 < n; s0 += superRows {
		work += int64(min(s0+superRows, n)-s0) * int64(n-s0)
	}
	pr := newProgress(report, n, work)
	var next atomic.Int64
	done := ctx.Done()
	found := make([][]Pair, max(1, min(nw, nsuper)))
	run(len(found), func(w int) {
		out := make([]int32, blockRows*panelRows)
		var d [1]float32
		var got []Pair
		for !stopped(done) {
			sb := int(next.Add(1) - 1)
			if sb >= nsuper {
				break
			}
			s0 := sb * superRows
			s1 := min(s0+superRows, n)
			for p := s0 / panelRows; p < np && !stopped(done); p++ {
				panel := z.panels[p*panelRows*dim4:]
				pEnd := (p + 1) * panelRows
				for i0 := s0; i0 < s1 && i0 < pEnd; i0 += blockRows {
					if !tileVNNI(&panel[0], (*byte)(unsafePointer(&z.qs[i0*dim4])), dim4, dim4/4, &z.neg[i0], &out[0]) {
						continue
					}
					for j := range blockRows {
						a := i0 + j
						if a >= n {
							break
						}
						for r, v := range out[j*panelRows : (j+1)*panelRows] {
							b := p*panelRows + r
							if v < 0 || b <= a || b >= n {
								continue
							}
							dotRows(m.Row(a), m.Data[b*dim:(b+1)*dim], dim, d[:])
							if d[0] < floor {
								continue
							}
							if dist := distFromDot(d[0]); dist <= maxDist {
								got = append(got, Pair{a, b, dist})
							}
						}
					}
				}
			}
			pr.add(int64(s1-s0) * int64(n-s0))
		}
		found[w] = got
	})
	return slices.Concat(found...)
}
