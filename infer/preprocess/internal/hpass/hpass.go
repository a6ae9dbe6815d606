// Package hpass is the horizontal pass of PIL's 8-bit resampling as an
// AVX2 kernel (preprocess, which uses cgo, cannot hold Go assembly).
package hpass

import "fmt"

// Plan is one horizontal pass's coefficients, checked once and then run
// on every row: output x reads cnt[x] RGBA pixels from byte off[x] of the
// row, weighted by k[x*ksize:].
type Plan struct {
	off, cnt, k []int32
	ksize       int
	need        int // bytes of input a row must hold
}

// NewPlan checks the coefficients of len(off) outputs. It fails when
// Available is false or an output's taps do not fit its share of k.
func NewPlan(off, cnt, k []int32, ksize int) (*Plan, error) {
	if !Available {
		return nil, fmt.Errorf("hpass: no AVX2")
	}
	n := len(off)
	p := &Plan{off: off, cnt: cnt, k: k, ksize: ksize}
	if len(cnt) != n || (n > 0 && len(k) < (n-1)*ksize) {
		return nil, fmt.Errorf("hpass: %d outputs, %d counts, %d coefficients", n, len(cnt), len(k))
	}
	for x := range n {
		c := int(cnt[x])
		if c < 0 || c > ksize || off[x] < 0 || x*ksize+c > len(k) {
			return nil, fmt.Errorf("hpass: output %d: %d taps at byte %d", x, c, off[x])
		}
		p.need = max(p.need, int(off[x])+4*c)
	}
	return p, nil
}

// Row computes, for each output x, out[3x:3x+3] = the RGB of
// clip((half + Σ_t in[off[x]+4t+c]·k[x*ksize+t]) >> 22) over t < cnt[x],
// in being RGBA bytes: the same int32 sums as preprocess's Go loop (integer
// sums do not depend on their order). It panics when in or out is too
// short for the plan.
func (p *Plan) Row(in, out []uint8) {
	n := len(p.off)
	if n == 0 {
		return
	}
	if len(in) < p.need || len(out) < 3*n {
		panic(fmt.Sprintf("hpass: row of %d bytes, output of %d, the plan needs %d and %d", len(in), len(out), p.need, 3*n))
	}
	rowAVX2(&in[0], &p.off[0], &p.cnt[0], &p.k[0], p.ksize, n, &out[0])
}
