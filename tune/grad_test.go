package tune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomUnit returns n random unit rows of dim values.
func randomUnit(r *rand.Rand, n, dim int) []float32 {
	x := make([]float32, n*dim)
	for i := range n {
		row := x[i*dim : (i+1)*dim]
		s := 0.0
		for j := range row {
			v := r.NormFloat64()
			row[j] = float32(v)
			s += v * v
		}
		for j := range row {
			row[j] /= float32(math.Sqrt(s))
		}
	}
	return x
}

// TestGradients checks every loss's hand-written gradient, through the
// normalisation and both heads, against central finite differences.
func TestGradients(t *testing.T) {
	for _, loss := range []string{LossContrastive, LossTriplet, LossNTXent} {
		for _, kind := range []string{HeadLinear, HeadMLP} {
			t.Run(loss+"/"+kind, func(t *testing.T) {
				r := rand.New(rand.NewPCG(7, 1))
				const in, out, n = 6, 5, 12
				h, err := NewHead(kind, in, out, 0, 3)
				if err != nil {
					t.Fatal(err)
				}
				for i := range h.P {
					h.P[i] += 0.3 * r.NormFloat64() // away from the identity, the MLP's branch alive
				}
				x := randomUnit(r, n, in)
				labels := make([]int, n)
				for i := range labels {
					labels[i] = i % 4
				}
				var ts []tuple
				for a := range n {
					ts = append(ts, tuple{a, (a + 4) % n, (a + 1) % n})
				}
				// A margin that leaves some tuples with a loss and some without.
				margin := map[string]float64{LossContrastive: 1.2, LossTriplet: 0.5, LossNTXent: 0.5}[loss]
				grad := make([]float64, len(h.P))
				l0 := batchGrad(h, x, labels, ts, loss, margin, 1, grad)
				if l0 == 0 {
					t.Fatal("loss is zero: the check would prove nothing")
				}
				scratch := make([]float64, len(h.P))
				const eps = 1e-6
				worst := 0.0
				for i := range h.P {
					p := h.P[i]
					h.P[i] = p + eps
					lp := batchGrad(h, x, labels, ts, loss, margin, 1, scratch)
					h.P[i] = p - eps
					lm := batchGrad(h, x, labels, ts, loss, margin, 1, scratch)
					h.P[i] = p
					fd := (lp - lm) / (2 * eps)
					diff := math.Abs(fd-grad[i]) / max(1e-3, math.Abs(fd)+math.Abs(grad[i]))
					worst = max(worst, diff)
					if diff > 1e-4 {
						t.Errorf("param %d: analytic %.8g, finite difference %.8g", i, grad[i], fd)
					}
				}
				t.Logf("loss %.5f, %d parameters, worst relative difference %.2g", l0, len(h.P), worst)
			})
		}
	}
}

// TestGradientWorkersIndependent: the gradient is the same sum whatever
// the number of goroutines (determinism across machines).
func TestGradientWorkersIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h, _ := NewHead(HeadMLP, 8, 8, 0, 1)
	for i := range h.P {
		h.P[i] += 0.1 * r.NormFloat64()
	}
	x := randomUnit(r, 40, 8)
	labels := make([]int, 40)
	var ts []tuple
	for a := range 40 {
		labels[a] = a % 5
		ts = append(ts, tuple{a, (a + 5) % 40, (a + 1) % 40})
	}
	g1 := make([]float64, len(h.P))
	g4 := make([]float64, len(h.P))
	batchGrad(h, x, labels, ts, LossNTXent, 0.1, 1, g1)
	batchGrad(h, x, labels, ts, LossNTXent, 0.1, 4, g4)
	if fmt.Sprint(g1) != fmt.Sprint(g4) {
		t.Fatal("gradient depends on the number of workers")
	}
}
