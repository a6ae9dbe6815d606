package search

import (
	"cmp"
	"context"
	"slices"
	"sync/atomic"
)

// Pair is two rows within a distance of each other, A < B.
type Pair struct {
	A, B int
	Dist float32
}

// Pairs returns every pair of rows that o.Allow lets through at distance
// ≤ maxDist, sorted by (A, B): exact all-pairs by a blocked matrix
// multiply, split across o.Workers (o.TieLess plays no part). Memory
// beyond the result is a few tiles per worker (plus a compacted copy of
// the allowed rows when o.Allow is not nil). It costs n²/2 inner products
// (seconds to minutes), so it checks ctx between tiles and, once ctx is
// cancelled, returns ctx.Err() within about a millisecond (the copy of
// the allowed rows, one pass, runs to its end).
func Pairs(ctx context.Context, m Matrix, maxDist float32, o Options) ([]Pair, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.Len() < 2 || maxDist < 0 {
		return nil, nil
	}
	sub, ids := compact(m, o.Allow)
	var ps []Pair
	if useVNNI && sub.Len() >= int8Minimum {
		ps = pairsInt8(ctx, sub, maxDist, workerCount(o.Workers), o.Progress)
	} else {
		ps = pairsOf(ctx, sub, maxDist, workerCount(o.Workers), o.Progress)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ids != nil {
		for i := range ps {
			ps[i].A, ps[i].B = ids[ps[i].A], ids[ps[i].B]
		}
	}
	slices.SortFunc(ps, comparePairs)
	return ps, nil
}

func comparePairs(a, b Pair) int {
	if c := cmp.Compare(a.A, b.A); c != 0 {
		return c
	}
	return cmp.Compare(a.B, b.B)
}

// compact copies the allowed rows into a new matrix; ids maps its rows
// back (nil when every row is allowed and m is returned as is).
func compact(m Matrix, allow func(int) bool) (Matrix, []int) {
	if allow == nil {
		return m, nil
	}
	var ids []int
	for i := range m.Len() {
		if allow(i) {
			ids = append(ids, i)
		}
	}
	if len(ids) == m.Len() {
		return m, nil
	}
	sub := Matrix{Data: make([]float32, 0, len(ids)*m.Dim), Dim: m.Dim}
	for _, id := range ids {
		sub.Data = append(sub.Data, m.Row(id)...)
	}
	return sub, ids
}

// pairsOf is the float32 all-pairs path (triangleTiles; a tile is ~3M
// multiply-adds): the pairs within maxDist. Once ctx is cancelled the
// caller checks ctx.Err() and drops the partial result. report, when set,
// hears of each block done (see Options.Progress).
func pairsOf(ctx context.Context, m Matrix, maxDist float32, nw int, report func(done, total int)) []Pair {
	floor := dotBound(maxDist)
	found := make([][]Pair, tileWorkers(m.Len(), nw))
	triangleTiles(ctx, m, len(found), report, func(w int) tileVisit {
		return func(i0, ni, r0, nr int, dots []float32) {
			for j := range ni {
				a := i0 + j
				for i, d := range dots[j*nr : (j+1)*nr] {
					if d < floor || r0+i <= a {
						continue
					}
					if dist := distFromDot(d); dist <= maxDist {
						found[w] = append(found[w], Pair{a, r0 + i, dist})
					}
				}
			}
		}
	})
	return slices.Concat(found...)
}

// tileVisit receives one tile of inner products: rows i0..i0+ni-1 against
// rows r0..r0+nr-1, dots[j*nr+i] = ⟨row i0+j, row r0+i⟩.
type tileVisit func(i0, ni, r0, nr int, dots []float32)

// tileWorkers is how many workers triangleTiles uses for n rows and nw
// wanted: no more than there are blocks.
func tileWorkers(n, nw int) int { return max(1, min(nw, (n+tileQueries-1)/tileQueries)) }

// triangleTiles computes every row's inner products with itself and every
// later row, block by block (tileQueries rows, in cache, against every
// later row in tiles of tileRows), on workers goroutines, and hands each
// tile to the visit function visitor made for the worker that computed it
// (w < workers). Blocks are handed out in order through a counter, so
// uneven triangle rows balance. Workers stop between tiles once ctx is
// cancelled. report, when set, hears of each block done.
func triangleTiles(ctx context.Context, m Matrix, workers int, report func(done, total int), visitor func(w int) tileVisit) {
	n, dim := m.Len(), m.Dim
	nblocks := (n + tileQueries - 1) / tileQueries
	// Block b compares its rows with every later row: (n - i0) each.
	var work int64
	for i0 := 0; i0 < n; i0 += tileQueries {
		work += int64(min(tileQueries, n-i0)) * int64(n-i0)
	}
	pr := newProgress(report, n, work)
	var next atomic.Int64
	done := ctx.Done()
	run(workers, func(w int) {
		visit := visitor(w)
		buf := make([]float32, tileRows*tileQueries)
		for !stopped(done) {
			b := int(next.Add(1) - 1)
			if b >= nblocks {
				break
			}
			i0 := b * tileQueries
			ni := min(tileQueries, n-i0)
			qs := m.Data[i0*dim : (i0+ni)*dim]
			for r0 := i0; r0 < n && !stopped(done); r0 += tileRows {
				nr := min(tileRows, n-r0)
				dotTile(qs, ni, m.Data[r0*dim:(r0+nr)*dim], nr, dim, buf)
				visit(i0, ni, r0, nr, buf[:ni*nr])
			}
			pr.add(int64(ni) * int64(n-i0))
		}
	})
}
