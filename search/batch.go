package search

import (
	"slices"
)

// Tile sizes for the blocked paths: a block of rows (in L2) is met by
// every query of a block (also in L2) before the next rows are read, so the
// matrix streams from memory once per call however many queries there are.
const (
	tileRows    = 64
	tileQueries = 96
)

// ExactBatch answers many queries at once: result i is what
// Exact(m, qs.Row(i), k, o) returns, bit for bit, but the matrix is read
// once for all queries through a blocked matrix-multiply path.
func ExactBatch(m Matrix, qs Matrix, k int, o Options) [][]Neighbor {
	nq := qs.Len()
	if nq == 0 {
		return nil
	}
	checkDim(m, qs.Data[:qs.Dim])
	out := make([][]Neighbor, nq)
	n := m.Len()
	if k <= 0 || n == 0 {
		return out
	}
	k = min(k, n)
	less := neighborLess(o.TieLess)
	parts := split(n, m.Dim, workerCount(o.Workers))
	heaps := make([][]topK, len(parts)-1)
	run(len(heaps), func(w int) {
		hs := make([]topK, nq)
		for j := range hs {
			hs[j].init(k, less)
		}
		heaps[w] = hs
		dim := m.Dim
		buf := make([]float32, tileRows*tileQueries)
		for r0 := parts[w]; r0 < parts[w+1]; r0 += tileRows {
			nr := min(tileRows, parts[w+1]-r0)
			rows := m.Data[r0*dim : (r0+nr)*dim]
			for q0 := 0; q0 < nq; q0 += tileQueries {
				nqb := min(tileQueries, nq-q0)
				dotTile(qs.Data[q0*dim:(q0+nqb)*dim], nqb, rows, nr, dim, buf)
				for j := range nqb {
					hs[q0+j].offer(buf[j*nr:(j+1)*nr], r0, o.Allow)
				}
			}
		}
	})
	col := make([]topK, len(heaps))
	for j := range nq {
		for w := range heaps {
			col[w] = heaps[w][j]
		}
		out[j] = mergeTopK(col, k, less)
	}
	return out
}

// Within returns every allowed row at distance ≤ maxDist from q, sorted
// like Exact (range search).
func Within(m Matrix, q []float32, maxDist float32, o Options) []Neighbor {
	checkDim(m, q)
	n := m.Len()
	if n == 0 || maxDist < 0 {
		return nil
	}
	floor := dotBound(maxDist)
	parts := split(n, m.Dim, workerCount(o.Workers))
	found := make([][]Neighbor, len(parts)-1)
	run(len(found), func(w int) {
		buf := make([]float32, chunkRows)
		var got []Neighbor
		for start := parts[w]; start < parts[w+1]; start += chunkRows {
			end := min(start+chunkRows, parts[w+1])
			dots := buf[:end-start]
			dotRows(q, m.Data[start*m.Dim:end*m.Dim], m.Dim, dots)
			for i, d := range dots {
				if d < floor {
					continue
				}
				if dist := distFromDot(d); dist <= maxDist && (o.Allow == nil || o.Allow(start+i)) {
					got = append(got, Neighbor{start + i, dist})
				}
			}
		}
		found[w] = got
	})
	all := slices.Concat(found...)
	less := neighborLess(o.TieLess)
	slices.SortFunc(all, func(a, b Neighbor) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
	return all
}
