package tune

import (
	"math"
	"runtime"
	"sync"
)

// gradChunks is how many pieces a batch's backward pass is cut into.
// Fixed, so that the sum of the pieces (in order) and with it the whole
// training run do not depend on the number of cores.
const gradChunks = 8

// batchGrad computes the mean loss of the tuples ts (indices into the
// rows of x, n×In) under h and its gradient with respect to h.P into
// grad (overwritten).
func batchGrad(h *Head, x []float32, labels []int, ts []tuple, loss string, margin float64, workers int, grad []float64) float64 {
	return batchGradInto(h, x, labels, ts, loss, margin, workers, grad, nil)
}

// batchGradInto is batchGrad with the pieces' gradient buffers (gradChunks
// of len(h.P)) given, so that a training loop allocates them once.
func batchGradInto(h *Head, x []float32, labels []int, ts []tuple, loss string, margin float64, workers int, grad []float64, parts [][]float64) float64 {
	// The batch's distinct rows, in first-use order.
	local := make(map[int]int, 3*len(ts))
	var rows []int
	at := func(r int) int {
		if i, ok := local[r]; ok {
			return i
		}
		local[r] = len(rows)
		rows = append(rows, r)
		return len(rows) - 1
	}
	lts := make([]tuple, len(ts))
	for i, t := range ts {
		lts[i] = tuple{at(t.a), at(t.p), at(t.n)}
	}
	n := len(rows)
	xs := make([][]float64, n)
	a1 := make([][]float64, n)
	u := make([][]float64, n)
	norms := make([]float64, n)
	lab := make([]int, n)
	parallel(n, workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := rows[i]
			xs[i] = make([]float64, h.In)
			for j, v := range x[r*h.In : (r+1)*h.In] {
				xs[i][j] = float64(v)
			}
			a1[i] = make([]float64, h.Hidden)
			u[i] = make([]float64, h.Out)
			h.forward(xs[i], u[i], a1[i])
			norms[i] = unit(u[i])
		}
	})
	for i, r := range rows {
		lab[i] = labels[r]
	}
	gu := make([][]float64, n)
	for i := range gu {
		gu[i] = make([]float64, h.Out)
	}
	l := lossGrad(loss, margin, u, lab, lts, gu)

	if parts == nil {
		parts = make([][]float64, gradChunks)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, workerCount(workers))
	for c := range gradChunks {
		lo, hi := c*n/gradChunks, (c+1)*n/gradChunks
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			g := parts[c]
			if g == nil {
				g = make([]float64, len(h.P))
			} else {
				clear(g)
			}
			gz := make([]float64, h.Out)
			for i := lo; i < hi; i++ {
				if norms[i] == 0 {
					continue
				}
				// d u/d z for u = z/‖z‖: (g − u(u·g))/‖z‖.
				ug := dot(u[i], gu[i])
				for k := range gz {
					gz[k] = (gu[i][k] - u[i][k]*ug) / norms[i]
				}
				h.backward(xs[i], a1[i], gz, g)
			}
			parts[c] = g
		}()
	}
	wg.Wait()
	clear(grad)
	for _, g := range parts {
		for k, v := range g {
			grad[k] += v
		}
	}
	return l
}

// adam is the Adam optimiser (Kingma & Ba) over a flat parameter vector.
type adam struct {
	lr, b1, b2, eps float64
	m, v            []float64
	t               int
}

func newAdam(n int, lr float64) *adam {
	return &adam{lr: lr, b1: 0.9, b2: 0.999, eps: 1e-8, m: make([]float64, n), v: make([]float64, n)}
}

func (o *adam) step(p, g []float64) {
	o.t++
	c1 := 1 - math.Pow(o.b1, float64(o.t))
	c2 := 1 - math.Pow(o.b2, float64(o.t))
	for i, gi := range g {
		o.m[i] = o.b1*o.m[i] + (1-o.b1)*gi
		o.v[i] = o.b2*o.v[i] + (1-o.b2)*gi*gi
		p[i] -= o.lr * (o.m[i] / c1) / (math.Sqrt(o.v[i]/c2) + o.eps)
	}
}

func workerCount(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}

// parallel calls f on contiguous ranges covering [0, n) from up to
// workers goroutines.
func parallel(n, workers int, f func(lo, hi int)) {
	w := min(workerCount(workers), max(n, 1))
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range w {
		lo, hi := k*n/w, (k+1)*n/w
		wg.Add(1)
		go func() { defer wg.Done(); f(lo, hi) }()
	}
	wg.Wait()
}
