package preprocess

import (
	"encoding/binary"
	"image"
	"math"

	"github.com/embedsearch/embedsearch/infer/preprocess/internal/hpass"
)

// This file is a port of PIL's separable resampling (Pillow's
// libImaging/Resample.c, 8 bits per channel): antialiased filters whose
// support grows with the downscale factor, coefficients normalised and
// rounded to 22-bit fixed point, a horizontal pass rounded to uint8, then
// a vertical pass. Following it step by step is what makes our tensors
// match those of a model trained with PIL.

const precisionBits = 32 - 8 - 2

type filter struct {
	support float64
	eval    func(x float64) float64
}

var (
	bilinearFilter = filter{1, func(x float64) float64 {
		x = math.Abs(x)
		if x < 1 {
			return 1 - x
		}
		return 0
	}}
	bicubicFilter = filter{2, func(x float64) float64 {
		const a = -0.5
		x = math.Abs(x)
		if x < 1 {
			return ((a+2)*x-(a+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}}
)

// axisCoeffs are the fixed-point weights of one pass for output positions
// [from, from+len(xmin)).
type axisCoeffs struct {
	ksize int
	xmin  []int   // first input sample per output
	n     []int   // number of input samples per output
	k     []int32 // ksize weights per output
}

// coeffs mirrors precompute_coeffs + normalize_coeffs_8bpc for a resize
// of the input span [0, in1) of inSize samples to outSize, keeping only
// outputs [from, to). The span is the whole input (in1 = inSize) except
// after a reducing pre-pass, where PIL passes a fractional box.
func coeffs(inSize int, in1 float32, outSize, from, to int, f filter) axisCoeffs {
	// PIL passes the box as C floats.
	scale := float64(in1) / float64(outSize)
	filterscale := max(scale, 1.0)
	support := f.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := axisCoeffs{ksize: ksize, xmin: make([]int, to-from), n: make([]int, to-from), k: make([]int32, (to-from)*ksize)}
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for xx := from; xx < to; xx++ {
		center := (float64(xx) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w[x] = f.eval((float64(x+xmin) - center + 0.5) * ss)
			ww += w[x]
		}
		k := c.k[(xx-from)*ksize:]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		c.xmin[xx-from] = xmin
		c.n[xx-from] = max(xmax, 0)
	}
	return c
}

func clipFixed(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// useHpass: the horizontal pass runs hpass's kernel (the same sums as the
// Go loop below, which tests compare it with).
var useHpass = hpass.Available

// rows is an image the resampler reads row by row.
type rows interface {
	size() (w, h int)
	// row returns row y as RGBA bytes indexed from column 0, of which
	// only columns [x0, x1) need be filled. The slice is valid until the
	// next call.
	row(y, x0, x1 int) []uint8
}

// rgbaRows reads an opaque *image.RGBA with its origin at (0, 0).
type rgbaRows struct{ m *image.RGBA }

func (r rgbaRows) size() (int, int) { return r.m.Rect.Dx(), r.m.Rect.Dy() }

func (r rgbaRows) row(y, _, _ int) []uint8 {
	return r.m.Pix[y*r.m.Stride : y*r.m.Stride+4*r.m.Rect.Dx()]
}

// rgbBuf is a packed 3-bytes-per-pixel image.
type rgbBuf struct {
	w, h int
	pix  []uint8
}

// resample resizes src (opaque RGBA) to outW×outH as PIL's Image.resize
// does, with reducing_gap=gap when gap > 0, and returns the window win of
// the result (win inside the output).
func resample(src rows, outW, outH int, win image.Rectangle, f filter, gap float64) rgbBuf {
	w, h := src.size()
	out := rgbBuf{w: win.Dx(), h: win.Dy(), pix: make([]uint8, 3*win.Dx()*win.Dy())}
	boxW, boxH := float32(w), float32(h)
	if gap > 0 {
		// Image.resize: factors int(w / outW / gap), at least 1; the
		// filter then resizes the box (0, 0, w/fx, h/fy) of the reduced
		// image, passed to C as floats.
		fx := max(int(float64(w)/float64(outW)/gap), 1)
		fy := max(int(float64(h)/float64(outH)/gap), 1)
		if fx > 1 || fy > 1 {
			src = rgbaRows{reduce(src, fx, fy)}
			boxW, boxH = float32(float64(w)/float64(fx)), float32(float64(h)/float64(fy))
			w, h = src.size()
		}
	}

	// Vertical coefficients decide which source rows the horizontal pass
	// must produce (PIL's ybox_first/ybox_last).
	needH, needV := outW != w || boxW != float32(w), outH != h || boxH != float32(h)
	var vc axisCoeffs
	y0, y1 := win.Min.Y, win.Max.Y // source rows used when no vertical pass
	if needV {
		vc = coeffs(h, boxH, outH, win.Min.Y, win.Max.Y, f)
		y0 = vc.xmin[0]
		last := len(vc.xmin) - 1
		y1 = vc.xmin[last] + vc.n[last]
		for i := range vc.xmin {
			y0 = min(y0, vc.xmin[i])
			y1 = max(y1, vc.xmin[i]+vc.n[i])
		}
	}

	// Horizontal pass into tmp: rows y0..y1 of the source, columns of win.
	tw, th := win.Dx(), y1-y0
	tmp := rgbBuf{w: tw, h: th, pix: make([]uint8, 3*tw*th)}
	if needH {
		hc := coeffs(w, boxW, outW, win.Min.X, win.Max.X, f)
		x0, x1 := w, 0 // source columns the window reads
		for x := range hc.xmin {
			x0, x1 = min(x0, hc.xmin[x]), max(x1, hc.xmin[x]+hc.n[x])
		}
		const half = int32(1) << (precisionBits - 1)
		var plan *hpass.Plan
		if useHpass && tw > 0 {
			off, cnt := make([]int32, tw), make([]int32, tw)
			for x := range tw {
				off[x], cnt[x] = int32(4*hc.xmin[x]), int32(hc.n[x])
			}
			// A plan the kernel refuses leaves plan nil: the Go loop runs.
			plan, _ = hpass.NewPlan(off, cnt, hc.k, hc.ksize)
		}
		for y := 0; y < th; y++ {
			row := src.row(y0+y, x0, x1)
			o := tmp.pix[3*tw*y : 3*tw*(y+1)]
			if plan != nil {
				plan.Row(row, o)
				continue
			}
			for x := 0; x < tw; x++ {
				k := hc.k[x*hc.ksize : x*hc.ksize+hc.n[x]]
				in := row[4*hc.xmin[x] : 4*(hc.xmin[x]+len(k))]
				s0, s1, s2 := half, half, half
				// One 8-byte load per two taps (RGBA RGBA), then the
				// channels; the same integer sums as PIL's.
				i := 0
				for ; i+1 < len(k); i += 2 {
					v := binary.LittleEndian.Uint64(in[4*i:])
					k0, k1 := k[i], k[i+1]
					s0 += int32(v&0xff)*k0 + int32(v>>32&0xff)*k1
					s1 += int32(v>>8&0xff)*k0 + int32(v>>40&0xff)*k1
					s2 += int32(v>>16&0xff)*k0 + int32(v>>48&0xff)*k1
				}
				if i < len(k) {
					v := binary.LittleEndian.Uint32(in[4*i:])
					s0 += int32(v&0xff) * k[i]
					s1 += int32(v>>8&0xff) * k[i]
					s2 += int32(v>>16&0xff) * k[i]
				}
				q := o[3*x : 3*x+3 : 3*x+3]
				q[0], q[1], q[2] = clipFixed(s0), clipFixed(s1), clipFixed(s2)
			}
		}
	} else {
		for y := 0; y < th; y++ {
			row := src.row(y0+y, win.Min.X, win.Max.X)[4*win.Min.X:]
			o := tmp.pix[3*tw*y:]
			for x := 0; x < tw; x++ {
				o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	}
	if !needV {
		copy(out.pix, tmp.pix)
		return out
	}

	// Vertical pass, one tap at a time over a row accumulator (the same
	// integer sums as PIL's, in an order that reads memory sequentially).
	const half = int32(1) << (precisionBits - 1)
	stride := 3 * tw
	acc := make([]int32, stride)
	for y := 0; y < out.h; y++ {
		for i := range acc {
			acc[i] = half
		}
		k := vc.k[y*vc.ksize : y*vc.ksize+vc.n[y]]
		for t, kv := range k {
			r := (vc.xmin[y] - y0 + t) * stride
			in := tmp.pix[r : r+stride]
			for x, v := range in {
				acc[x] += int32(v) * kv
			}
		}
		o := out.pix[stride*y : stride*(y+1)]
		for x, v := range acc {
			o[x] = clipFixed(v)
		}
	}
	return out
}

// reduce is PIL's Image.reduce((fx, fy)) of the whole image (Reduce.c):
// each output pixel is the mean of an fx×fy block, the last column and row
// of blocks cut short by the image's edge, rounded as Pillow does, in
// 32-bit fixed point.
func reduce(src rows, fx, fy int) *image.RGBA {
	w, h := src.size()
	ow, oh := (w+fx-1)/fx, (h+fy-1)/fy
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	acc := make([]uint32, 3*ow)
	for oy := 0; oy < oh; oy++ {
		clear(acc)
		y0, y1 := oy*fy, min(oy*fy+fy, h)
		for y := y0; y < y1; y++ {
			row := src.row(y, 0, w)[:4*w]
			x := 0
			for ox := range ow {
				var s0, s1, s2 uint32
				for end := min(x+fx, w); x < end; x++ {
					v := binary.LittleEndian.Uint32(row[4*x:])
					s0 += v & 0xff
					s1 += v >> 8 & 0xff
					s2 += v >> 16 & 0xff
				}
				a := acc[3*ox : 3*ox+3 : 3*ox+3]
				a[0] += s0
				a[1] += s1
				a[2] += s2
			}
		}
		o := out.Pix[oy*out.Stride : oy*out.Stride+4*ow]
		n := uint32(fx * (y1 - y0))
		half, mult := n/2, reduceMultiplier(n)
		for ox := range ow {
			if ox == ow-1 && w%fx != 0 { // the last column of blocks is narrower
				n := uint32(w%fx) * uint32(y1-y0)
				half, mult = n/2, reduceMultiplier(n)
			}
			a := acc[3*ox : 3*ox+3 : 3*ox+3]
			q := o[4*ox : 4*ox+4 : 4*ox+4]
			q[0] = uint8(((a[0] + half) * mult) >> 24)
			q[1] = uint8(((a[1] + half) * mult) >> 24)
			q[2] = uint8(((a[2] + half) * mult) >> 24)
			q[3] = 255
		}
	}
	return out
}

// reduceMultiplier is Reduce.c's division_UINT32(n, 8), computed in C
// floats as there.
func reduceMultiplier(n uint32) uint32 {
	return uint32(float32(1<<32) / float32(256*n))
}
