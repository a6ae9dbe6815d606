// Package hpass is the horizontal pass of PIL's 8-bit resampling as an
// AVX2 kernel (preprocess, which uses cgo, cannot hold Go assembly).
package hpass

// Row computes, for each output x < len(off), out[3x:3x+3] = the RGB of
// clip((half + Σ_t in[off[x]+4t+c]·k[x*ksize+t]) >> 22) over t < cnt[x],
// in is RGBA bytes: the same int32 sums as preprocess's Go loop (integer
// sums do not depend on their order). It panics when an output would read
// outside in or k, or when Available is false.
func Row(in []uint8, off, cnt, k []int32, ksize int, out []uint8) {
	n := len(off)
	if n == 0 {
		return
	}
	if !Available {
		panic("hpass: no AVX2")
	}
	if len(cnt) < n || len(out) < 3*n || len(k) < (n-1)*ksize {
		panic("hpass: short buffers")
	}
	for x := range n {
		c := int(cnt[x])
		if c < 0 || c > ksize || int(off[x]) < 0 || int(off[x])+4*c > len(in) || x*ksize+c > len(k) {
			panic("hpass: output reads outside its input")
		}
	}
	rowAVX2(&in[0], &off[0], &cnt[0], &k[0], ksize, n, &out[0])
}
