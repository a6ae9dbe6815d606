package signature

import (
	"image"
	"math"
	"slices"
)

// workSide bounds the long side of the working copy every measure is taken
// on: an integer box average of the decoded image, so the cost after the
// one pass over the pixels does not grow with the photo.
const workSide = 256

// Trimming: a line (row or column) at an edge is border when at least
// borderShare of its pixels are within borderTolerance (on every channel)
// of its median colour; at most maxTrim of a side is trimmed, and nothing
// when less than minKept pixels would be left.
const (
	borderTolerance = 20
	borderShare     = 0.99
	maxTrim         = 0.45
	minKept         = 8
)

// Greyscale: an image is greyscale when at most greyShare of its pixels
// have channels further apart than greySpread (JPEG keeps a grey image's
// chroma within a few levels; a colour photo has far more coloured pixels).
const (
	greySpread = 16
	greyShare  = 0.001
)

// plane is a float32 image of one channel, row-major.
type plane struct {
	w, h int
	v    []float32
}

func (p plane) at(x, y int) float32 { return p.v[y*p.w+x] }

// Compute measures the decoded image (w×h, opaque RGBA rows as row returns
// them, 4 bytes a pixel; the slice need only be valid until the next call)
// displayed at dispW×dispH (the decoded image may be a reduced-scale
// decode of it). Quality is left for the caller (it comes from the file's
// bytes: JPEGQuality).
func Compute(w, h, dispW, dispH int, row func(y int) []uint8) Signature {
	var s Signature
	if w <= 0 || h <= 0 {
		return s
	}
	f := max(1, (max(w, h)+workSide-1)/workSide)
	ww, wh := max(1, w/f), max(1, h/f)
	r, g, b := work(w, h, f, ww, wh, row)
	box := trim(r, g, b)
	sx, sy := float64(dispW)/float64(ww), float64(dispH)/float64(wh)
	s.Box = image.Rect(int(math.Round(float64(box.Min.X)*sx)), int(math.Round(float64(box.Min.Y)*sy)),
		int(math.Round(float64(box.Max.X)*sx)), int(math.Round(float64(box.Max.Y)*sy)))
	s.Grey = greyscale(r, g, b)
	y := luma(r, g, b)
	s.Sharpness = sharpness(y, box)
	thumb(y, box, Side, Side, func(i int, v float32) { s.Luma[i] = clamp8(v) })
	cb, cr := chroma(r, g, b, y)
	n := ChromaSide * ChromaSide
	thumb(cb, box, ChromaSide, ChromaSide, func(i int, v float32) { s.Chroma[i] = clamp8(v/2 + 128) })
	thumb(cr, box, ChromaSide, ChromaSide, func(i int, v float32) { s.Chroma[n+i] = clamp8(v/2 + 128) })
	return s
}

// FromImage is Compute on an image already decoded and oriented.
func FromImage(m *image.RGBA) Signature {
	b := m.Rect
	return Compute(b.Dx(), b.Dy(), b.Dx(), b.Dy(), func(y int) []uint8 {
		o := (y + b.Min.Y - m.Rect.Min.Y) * m.Stride
		return m.Pix[o : o+4*b.Dx()]
	})
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// work box-averages the image by f into three planes of ww×wh (the last
// partial blocks are dropped).
func work(w, h, f, ww, wh int, row func(y int) []uint8) (r, g, b plane) {
	r = plane{ww, wh, make([]float32, ww*wh)}
	g = plane{ww, wh, make([]float32, ww*wh)}
	b = plane{ww, wh, make([]float32, ww*wh)}
	acc := make([]uint32, 3*ww)
	norm := 1 / float32(f*f)
	for oy := 0; oy < wh; oy++ {
		clear(acc)
		for y := oy * f; y < min(h, (oy+1)*f); y++ {
			px := row(y)
			for ox := 0; ox < ww; ox++ {
				i := 4 * ox * f
				for x := 0; x < f && i+3 < len(px); x++ {
					acc[3*ox] += uint32(px[i])
					acc[3*ox+1] += uint32(px[i+1])
					acc[3*ox+2] += uint32(px[i+2])
					i += 4
				}
			}
		}
		o := oy * ww
		for ox := 0; ox < ww; ox++ {
			r.v[o+ox] = float32(acc[3*ox]) * norm
			g.v[o+ox] = float32(acc[3*ox+1]) * norm
			b.v[o+ox] = float32(acc[3*ox+2]) * norm
		}
	}
	return r, g, b
}

// trim finds the region left after peeling uniform lines off each side: a
// line is peeled when at least borderShare of its pixels are within
// borderTolerance of its median colour on every channel. The four sides
// are peeled in turns and a line is judged only between the sides peeled
// so far, so nested bands (a frame's moulding, then its mat) go one after
// the other without their corners in the way.
func trim(r, g, b plane) image.Rectangle {
	w, h := r.w, r.h
	var cr, cg, cb []float32
	uniform := func(x0, y0, dx, dy, n int) bool {
		cr, cg, cb = cr[:0], cg[:0], cb[:0]
		for i := range n {
			x, y := x0+i*dx, y0+i*dy
			cr, cg, cb = append(cr, r.at(x, y)), append(cg, g.at(x, y)), append(cb, b.at(x, y))
		}
		mr, mg, mb := median(slices.Clone(cr)), median(slices.Clone(cg)), median(slices.Clone(cb))
		in := 0
		for i := range cr {
			if abs(cr[i]-mr) <= borderTolerance && abs(cg[i]-mg) <= borderTolerance && abs(cb[i]-mb) <= borderTolerance {
				in++
			}
		}
		return float64(in) >= borderShare*float64(n)
	}
	limX, limY := int(float64(w)*maxTrim), int(float64(h)*maxTrim)
	top, bottom, left, right := 0, 0, 0, 0
	for {
		peeled := false
		x0, x1, y0, y1 := left, w-right, top, h-bottom
		if top < limY && uniform(x0, y0, 1, 0, x1-x0) {
			top++
			peeled = true
		}
		if bottom < limY && uniform(x0, y1-1, 1, 0, x1-x0) {
			bottom++
			peeled = true
		}
		if left < limX && uniform(x0, y0, 0, 1, y1-y0) {
			left++
			peeled = true
		}
		if right < limX && uniform(x1-1, y0, 0, 1, y1-y0) {
			right++
			peeled = true
		}
		if !peeled {
			break
		}
	}
	// Peeled up to the limit from both sides, an axis is not framed: the
	// picture itself is next to uniform across it (a faint drawing, a
	// blank page), and its middle is no more its real pixels than the rest.
	if left >= limX && right >= limX {
		left, right = 0, 0
	}
	if top >= limY && bottom >= limY {
		top, bottom = 0, 0
	}
	box := image.Rect(left, top, w-right, h-bottom)
	if box.Dx() < minKept || box.Dy() < minKept {
		return image.Rect(0, 0, w, h)
	}
	return box
}

func median(v []float32) float32 {
	slices.Sort(v)
	return v[len(v)/2]
}

func abs(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func greyscale(r, g, b plane) bool {
	coloured := 0
	for i := range r.v {
		hi := max(r.v[i], g.v[i], b.v[i])
		lo := min(r.v[i], g.v[i], b.v[i])
		if hi-lo > greySpread {
			coloured++
		}
	}
	return float64(coloured) <= greyShare*float64(len(r.v))
}

func luma(r, g, b plane) plane {
	y := plane{r.w, r.h, make([]float32, len(r.v))}
	for i := range y.v {
		y.v[i] = 0.299*r.v[i] + 0.587*g.v[i] + 0.114*b.v[i]
	}
	return y
}

func chroma(r, g, b, y plane) (cb, cr plane) {
	cb = plane{r.w, r.h, make([]float32, len(r.v))}
	cr = plane{r.w, r.h, make([]float32, len(r.v))}
	for i := range y.v {
		cb.v[i] = b.v[i] - y.v[i]
		cr.v[i] = r.v[i] - y.v[i]
	}
	return cb, cr
}

// sharpness is the energy of one-pixel luma differences over that of
// two-pixel differences inside box: a blur lowers it, a contrast change
// does not move it (both energies scale alike), a uniform image has 0.
func sharpness(y plane, box image.Rectangle) float32 {
	var e1, e2 float64
	for yy := box.Min.Y; yy < box.Max.Y; yy++ {
		for x := box.Min.X; x+2 < box.Max.X; x++ {
			d1 := float64(y.at(x+1, yy) - y.at(x, yy))
			d2 := float64(y.at(x+2, yy) - y.at(x, yy))
			e1 += d1 * d1
			e2 += d2 * d2
		}
	}
	for yy := box.Min.Y; yy+2 < box.Max.Y; yy++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			d1 := float64(y.at(x, yy+1) - y.at(x, yy))
			d2 := float64(y.at(x, yy+2) - y.at(x, yy))
			e1 += d1 * d1
			e2 += d2 * d2
		}
	}
	if e2 == 0 {
		return 0
	}
	return float32(e1 / e2)
}

// thumb area-averages box of p into an ow×oh grid (exact box integration
// with fractional edges), calling set for each cell in row-major order.
func thumb(p plane, box image.Rectangle, ow, oh int, set func(i int, v float32)) {
	xw := areaWeights(box.Min.X, box.Dx(), ow)
	yw := areaWeights(box.Min.Y, box.Dy(), oh)
	tmp := make([]float32, ow*p.h)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for j, ws := range xw {
			var s float32
			for _, w := range ws {
				s += w.w * p.at(w.i, y)
			}
			tmp[j*p.h+y] = s
		}
	}
	for i, ws := range yw {
		for j := range ow {
			var s float32
			for _, w := range ws {
				s += w.w * tmp[j*p.h+w.i]
			}
			set(i*ow+j, s)
		}
	}
}

type weight struct {
	i int
	w float32
}

// areaWeights splits [start, start+n) into out equal cells and returns,
// for each, the source pixels it covers and their shares (summing to 1).
func areaWeights(start, n, out int) [][]weight {
	ws := make([][]weight, out)
	step := float64(n) / float64(out)
	for j := range out {
		a, b := float64(j)*step, float64(j+1)*step
		for i := int(a); i < n && float64(i) < b; i++ {
			lo, hi := math.Max(a, float64(i)), math.Min(b, float64(i+1))
			if hi > lo {
				ws[j] = append(ws[j], weight{start + i, float32((hi - lo) / step)})
			}
		}
	}
	return ws
}
