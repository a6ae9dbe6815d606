package tune

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Head kinds.
const (
	HeadLinear = "linear" // z = W·x + b, W initialised at identity
	HeadMLP    = "mlp"    // z = W·x + b + W2·relu(W1·x + b1), W2 initialised at zero
)

// Head maps a base encoder's L2-normalised vector x (In values) to a
// new L2-normalised vector (Out values): u = z/‖z‖. Its parameters live in
// one flat slice P so the optimiser sees them as one vector:
//
//	W  Out×In (row-major) | b Out | W1 Hidden×In | b1 Hidden | W2 Out×Hidden
//
// (the last three only for HeadMLP). Both kinds start as the identity
// (the first Out coordinates of x when Out < In), so training starts from
// the base model's own ranking. A Head is not safe for concurrent change;
// Apply may be called concurrently.
type Head struct {
	Kind            string
	In, Out, Hidden int
	P               []float64
}

// NewHead returns a head of kind mapping in values to out (0: in), at the
// identity; an MLP (hidden units; 0: in) has a random (seeded) first
// layer and a zero output layer, so it too starts as the identity.
func NewHead(kind string, in, out, hidden int, seed uint64) (*Head, error) {
	if out <= 0 {
		out = in
	}
	if in <= 0 || out > in {
		return nil, fmt.Errorf("%w: head dim %d for %d-dimensional vectors (want 1 to %d)", ErrOptions, out, in, in)
	}
	h := &Head{Kind: kind, In: in, Out: out}
	switch kind {
	case HeadLinear:
	case HeadMLP:
		h.Hidden = hidden
		if h.Hidden <= 0 {
			h.Hidden = in
		}
	default:
		return nil, fmt.Errorf("%w: head %q (want linear or mlp)", ErrOptions, kind)
	}
	h.P = make([]float64, h.size())
	w := h.w()
	for i := range out {
		w[i*in+i] = 1
	}
	if kind == HeadMLP {
		r := rand.New(rand.NewPCG(seed, 0x6865616431))
		s := 1 / math.Sqrt(float64(in))
		for i, w1 := 0, h.w1(); i < len(w1); i++ {
			w1[i] = r.NormFloat64() * s
		}
	}
	return h, nil
}

func (h *Head) size() int {
	return h.Out*h.In + h.Out + h.Hidden*h.In + h.Hidden + h.Out*h.Hidden
}

func (h *Head) w() []float64  { return h.P[:h.Out*h.In] }
func (h *Head) b() []float64  { o := h.Out * h.In; return h.P[o : o+h.Out] }
func (h *Head) w1() []float64 { o := h.Out*h.In + h.Out; return h.P[o : o+h.Hidden*h.In] }
func (h *Head) b1() []float64 {
	o := h.Out*h.In + h.Out + h.Hidden*h.In
	return h.P[o : o+h.Hidden]
}
func (h *Head) w2() []float64 {
	o := h.Out*h.In + h.Out + h.Hidden*h.In + h.Hidden
	return h.P[o : o+h.Out*h.Hidden]
}

// Clone returns a copy of h.
func (h *Head) Clone() *Head {
	c := *h
	c.P = append([]float64(nil), h.P...)
	return &c
}

// forward computes z (Out values) for x, and for an MLP the hidden
// pre-activations a1 (Hidden values), into the given buffers.
func (h *Head) forward(x, z, a1 []float64) {
	matVec(h.w(), h.b(), x, z)
	if h.Kind != HeadMLP {
		return
	}
	w1, b1, w2 := h.w1(), h.b1(), h.w2()
	matVec(w1, b1, x, a1)
	for o := range h.Out {
		row := w2[o*h.Hidden : (o+1)*h.Hidden]
		s := 0.0
		for j, a := range a1 {
			if a > 0 {
				s += row[j] * a
			}
		}
		z[o] += s
	}
}

// matVec sets z = b + w·x for w of len(z) rows of len(x) values, four
// rows at a time: each value of x is loaded once for four products (the
// head's forward pass is most of a training step).
func matVec(w, b, x, z []float64) {
	n := len(x)
	o := 0
	for ; o+4 <= len(z); o += 4 {
		w0, w1, w2, w3 := w[o*n:(o+1)*n], w[(o+1)*n:(o+2)*n], w[(o+2)*n:(o+3)*n], w[(o+3)*n:(o+4)*n]
		w0, w1, w2, w3 = w0[:len(x)], w1[:len(x)], w2[:len(x)], w3[:len(x)]
		var s0, s1, s2, s3 float64
		for j, v := range x {
			s0 += w0[j] * v
			s1 += w1[j] * v
			s2 += w2[j] * v
			s3 += w3[j] * v
		}
		z[o], z[o+1], z[o+2], z[o+3] = b[o]+s0, b[o+1]+s1, b[o+2]+s2, b[o+3]+s3
	}
	for ; o < len(z); o++ {
		z[o] = b[o] + dot(w[o*n:(o+1)*n], x)
	}
}

// backward adds to grad (len(P)) the gradient of a loss whose gradient
// with respect to z is gz, at input x with hidden pre-activations a1.
func (h *Head) backward(x, a1, gz, grad []float64) {
	gw := grad[:h.Out*h.In]
	gb := grad[h.Out*h.In : h.Out*h.In+h.Out]
	for o, g := range gz {
		if g == 0 {
			continue
		}
		row := gw[o*h.In : (o+1)*h.In]
		for i, xi := range x {
			row[i] += g * xi
		}
		gb[o] += g
	}
	if h.Kind != HeadMLP {
		return
	}
	off := h.Out*h.In + h.Out
	gw1 := grad[off : off+h.Hidden*h.In]
	gb1 := grad[off+h.Hidden*h.In : off+h.Hidden*h.In+h.Hidden]
	gw2 := grad[off+h.Hidden*h.In+h.Hidden:]
	w2 := h.w2()
	for o, g := range gz {
		if g == 0 {
			continue
		}
		row := gw2[o*h.Hidden : (o+1)*h.Hidden]
		for j, a := range a1 {
			if a > 0 {
				row[j] += g * a
			}
		}
	}
	for j, a := range a1 {
		if a <= 0 {
			continue
		}
		s := 0.0
		for o, g := range gz {
			s += w2[o*h.Hidden+j] * g
		}
		if s == 0 {
			continue
		}
		row := gw1[j*h.In : (j+1)*h.In]
		for i, xi := range x {
			row[i] += s * xi
		}
		gb1[j] += s
	}
}

// unit scales z to unit length in place and returns its former length
// (0 when z has none).
func unit(z []float64) float64 {
	s := 0.0
	for _, v := range z {
		s += v * v
	}
	n := math.Sqrt(s)
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0
	}
	for i := range z {
		z[i] /= n
	}
	return n
}

// Apply maps one base vector to the head's unit vector (float32, as a
// store keeps it). A vector the head maps to zero comes back as zeros.
func (h *Head) Apply(x []float32, out []float32) []float32 {
	return h.apply(x, out, make([]float64, h.In+h.Out+h.Hidden))
}

// apply is Apply with scratch space for In+Out+Hidden values.
func (h *Head) apply(x []float32, out []float32, buf []float64) []float32 {
	xd, z, a1 := buf[:h.In], buf[h.In:h.In+h.Out], buf[h.In+h.Out:]
	for i, v := range x {
		xd[i] = float64(v)
	}
	h.forward(xd, z, a1)
	unit(z)
	if out == nil {
		out = make([]float32, h.Out)
	}
	for i, v := range z {
		out[i] = float32(v)
	}
	return out
}

// ApplyAll maps n rows of x (n×In, row-major) into a new n×Out matrix,
// split across workers goroutines.
func (h *Head) ApplyAll(x []float32, workers int) []float32 {
	n := len(x) / h.In
	out := make([]float32, n*h.Out)
	parallel(n, workers, func(lo, hi int) {
		buf := make([]float64, h.In+h.Out+h.Hidden)
		for i := lo; i < hi; i++ {
			h.apply(x[i*h.In:(i+1)*h.In], out[i*h.Out:(i+1)*h.Out], buf)
		}
	})
	return out
}
