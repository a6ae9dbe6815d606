package preprocess

import (
	"image"
	"image/color"
)

// toRGBA converts a decoded image to an opaque RGBA image of w×h (the
// header's size) with Bounds().Min at the origin, the way PIL's
// convert("RGB") does: alpha is dropped (the stored colour of a
// transparent pixel is kept, not composited), 16-bit samples keep their
// high byte, CMYK uses PIL's formula and JPEG chroma is upsampled like
// libjpeg's default ("fancy") upsampling.
func toRGBA(src image.Image, format string, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	b := src.Bounds()
	switch m := src.(type) {
	case *image.YCbCr:
		if format == FormatWebP {
			webpToRGBA(dst, m, nil)
		} else {
			jpegToRGBA(dst, m)
		}
		return dst
	case *image.NYCbCrA:
		// WebP with alpha: PIL drops the alpha.
		webpToRGBA(dst, &m.YCbCr, nil)
		return dst
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			out := dst.Pix[dst.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				v := row[x]
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = v, v, v, 255
			}
		}
		return dst
	case *image.Gray16:
		// PIL clips 16-bit grey to 255 when converting to RGB (its "I"
		// mode); we keep the high byte instead, which is what the image
		// shows. This is a deliberate difference from PIL.
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			out := dst.Pix[dst.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				v := row[2*x]
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = v, v, v, 255
			}
		}
		return dst
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			out := dst.Pix[dst.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = row[4*x], row[4*x+1], row[4*x+2], 255
			}
		}
		return dst
	case *image.NRGBA64:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			out := dst.Pix[dst.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = row[8*x], row[8*x+2], row[8*x+4], 255
			}
		}
		return dst
	case *image.RGBA:
		if opaque(m.Pix, 4, 3) {
			for y := b.Min.Y; y < b.Max.Y; y++ {
				copy(dst.Pix[dst.PixOffset(b.Min.X, y):dst.PixOffset(b.Max.X, y)], m.Pix[m.PixOffset(b.Min.X, y):])
			}
			return dst
		}
	case *image.RGBA64:
		if opaque(m.Pix, 8, 6) {
			for y := b.Min.Y; y < b.Max.Y; y++ {
				row := m.Pix[m.PixOffset(b.Min.X, y):]
				out := dst.Pix[dst.PixOffset(b.Min.X, y):]
				for x := 0; x < b.Dx(); x++ {
					out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = row[8*x], row[8*x+2], row[8*x+4], 255
				}
			}
			return dst
		}
	case *image.CMYK:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			out := dst.Pix[dst.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				c, mm, yy, k := int(row[4*x]), int(row[4*x+1]), int(row[4*x+2]), int(row[4*x+3])
				nk := 255 - k
				out[4*x] = clip8i(nk - muldiv255(c, nk))
				out[4*x+1] = clip8i(nk - muldiv255(mm, nk))
				out[4*x+2] = clip8i(nk - muldiv255(yy, nk))
				out[4*x+3] = 255
			}
		}
		return dst
	case *image.Paletted:
		var pal [256][4]uint8
		for i, c := range m.Palette {
			if i >= 256 {
				break
			}
			pal[i] = rgbOf(c)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			out := dst.Pix[dst.PixOffset(b.Min.X, y):]
			for x := 0; x < b.Dx(); x++ {
				p := pal[row[x]]
				out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = p[0], p[1], p[2], 255
			}
		}
		return dst
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		out := dst.Pix[dst.PixOffset(b.Min.X, y):]
		for x := b.Min.X; x < b.Max.X; x++ {
			p := rgbOf(src.At(x, y))
			i := 4 * (x - b.Min.X)
			out[i], out[i+1], out[i+2], out[i+3] = p[0], p[1], p[2], 255
		}
	}
	return dst
}

// rgbOf is the stored colour of c without its alpha (PIL semantics): an
// un-premultiplied colour keeps its channels, a premultiplied one is
// divided by its alpha first.
func rgbOf(c color.Color) [4]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [4]uint8{c.R, c.G, c.B, 255}
	case color.NRGBA64:
		return [4]uint8{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8), 255}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [4]uint8{n.R, n.G, n.B, 255}
}

func opaque(pix []uint8, stride, off int) bool {
	for i := off; i < len(pix); i += stride {
		if pix[i] != 0xff {
			return false
		}
	}
	return true
}

func muldiv255(a, b int) int {
	t := a*b + 128
	return (t + t>>8) >> 8
}

func clip8i(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// libjpeg's YCbCr→RGB tables (jdcolor.c), 16-bit fixed point.
var (
	crR, cbB [256]int32
	crG, cbG [256]int32
)

func init() {
	const half = 1 << 15
	fix := func(x float64) int32 { return int32(x*(1<<16) + 0.5) }
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + half) >> 16
		cbB[i] = (fix(1.77200)*x + half) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + half
	}
}

// jpegToRGBA converts like libjpeg with its default fancy upsampling (a
// triangle filter on 2× subsampled chroma) so that pixels match PIL's.
// Other subsampling ratios use nearest-neighbour chroma.
func jpegToRGBA(dst *image.RGBA, m *image.YCbCr) {
	r := newYCbCrRows(m, 1)
	if r == nil {
		nearestYCbCr(dst, m)
		return
	}
	w, h := r.size()
	for y := 0; y < min(h, dst.Rect.Dy()); y++ {
		r.convert(y, 0, min(w, dst.Rect.Dx()), dst.Pix[y*dst.Stride:])
	}
}

// ycbcrRows converts a JPEG's YCbCr planes to RGBA one row at a time, as
// libjpeg does with its default ("fancy") chroma upsampling. Orientations
// 1–4 (flips) are applied on the fly. Not safe for concurrent use.
type ycbcrRows struct {
	m        *image.YCbCr
	w, h     int
	hs, vs   int // chroma subsampling factors
	cw, ch   int // chroma samples per row/column that belong to the image
	o        int // EXIF orientation, 0..4
	cb, cr   []uint8
	buf, rev []uint8
}

// newYCbCrRows returns nil for subsampling ratios other than 4:4:4, 4:2:2
// and 4:2:0 (handled by nearestYCbCr).
func newYCbCrRows(m *image.YCbCr, orientation int) *ycbcrRows {
	r := &ycbcrRows{m: m, w: m.Rect.Dx(), h: m.Rect.Dy(), o: orientation}
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		r.hs, r.vs = 1, 1
	case image.YCbCrSubsampleRatio422:
		r.hs, r.vs = 2, 1
	case image.YCbCrSubsampleRatio420:
		r.hs, r.vs = 2, 2
	default:
		return nil
	}
	r.cw, r.ch = (r.w+r.hs-1)/r.hs, (r.h+r.vs-1)/r.vs
	r.cb, r.cr = make([]uint8, 2*r.cw), make([]uint8, 2*r.cw)
	return r
}

func (r *ycbcrRows) size() (int, int) { return r.w, r.h }

func (r *ycbcrRows) row(y, x0, x1 int) []uint8 {
	if r.buf == nil {
		r.buf = make([]uint8, 4*r.w)
	}
	sy := y
	if r.o == 3 || r.o == 4 { // flipped vertically
		sy = r.h - 1 - y
	}
	if r.o != 2 && r.o != 3 {
		r.convert(sy, x0, x1, r.buf)
		return r.buf
	}
	// Mirrored: source columns w-x1..w-x0, written back to front.
	if r.rev == nil {
		r.rev = make([]uint8, 4*r.w)
	}
	r.convert(sy, r.w-x1, r.w-x0, r.rev)
	for x := x0; x < x1; x++ {
		s := 4 * (r.w - 1 - x)
		copy(r.buf[4*x:4*x+4], r.rev[s:s+4])
	}
	return r.buf
}

// convert writes source row y, columns [x0, x1), as RGBA into out
// (indexed from column 0).
func (r *ycbcrRows) convert(y, x0, x1 int, out []uint8) {
	m := r.m
	b := m.Rect
	yo := m.YOffset(b.Min.X, b.Min.Y+y)
	yrow := m.Y[yo : yo+r.w]
	var cbRow, crRow []uint8
	switch {
	case r.hs == 1:
		o := m.COffset(b.Min.X, b.Min.Y+y)
		cbRow, crRow = m.Cb[o:o+r.w], m.Cr[o:o+r.w]
	case r.vs == 1:
		o := m.COffset(b.Min.X, b.Min.Y+y)
		h2v1(r.cb, m.Cb[o:o+r.cw])
		h2v1(r.cr, m.Cr[o:o+r.cw])
		cbRow, crRow = r.cb[:r.w], r.cr[:r.w]
	default:
		cy := y / 2
		ny := cy - 1 // next nearest chroma row: above for even rows
		if y%2 == 1 {
			ny = cy + 1
		}
		ny = max(0, min(ny, r.ch-1))
		o0, o1 := m.COffset(b.Min.X, b.Min.Y+2*cy), m.COffset(b.Min.X, b.Min.Y+2*ny)
		h2v2(r.cb, m.Cb[o0:o0+r.cw], m.Cb[o1:o1+r.cw])
		h2v2(r.cr, m.Cr[o0:o0+r.cw], m.Cr[o1:o1+r.cw])
		cbRow, crRow = r.cb[:r.w], r.cr[:r.w]
	}
	dst := out[4*x0 : 4*x1]
	for x := x0; x < x1; x++ {
		yy := int32(yrow[x])
		cbv, crv := cbRow[x], crRow[x]
		px := dst[4*(x-x0) : 4*(x-x0)+4 : 4*(x-x0)+4]
		px[0] = clip8(yy + crR[crv])
		px[1] = clip8(yy + (cbG[cbv]+crG[crv])>>16)
		px[2] = clip8(yy + cbB[cbv])
		px[3] = 255
	}
}

func clip8(v int32) uint8 {
	if uint32(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// h2v1 is libjpeg's h2v1_fancy_upsample: out gets 2*len(in) samples.
func h2v1(out, in []uint8) {
	n := len(in)
	out = out[:2*n]
	if n == 1 {
		out[0], out[1] = in[0], in[0]
		return
	}
	out[0] = in[0]
	out[1] = uint8((int(in[0])*3 + int(in[1]) + 2) >> 2)
	for i := 1; i < n-1; i++ {
		v := int(in[i]) * 3
		out[2*i] = uint8((v + int(in[i-1]) + 1) >> 2)
		out[2*i+1] = uint8((v + int(in[i+1]) + 2) >> 2)
	}
	out[2*n-2] = uint8((int(in[n-1])*3 + int(in[n-2]) + 1) >> 2)
	out[2*n-1] = in[n-1]
}

// h2v2 is libjpeg's h2v2_fancy_upsample for one output row: near is the
// nearest chroma row, far the next nearest; out gets 2*len(near) samples.
func h2v2(out, near, far []uint8) {
	n := len(near)
	out = out[:2*n]
	far = far[:n]
	if n == 1 {
		t := int(near[0])*3 + int(far[0])
		out[0] = uint8((t*4 + 8) >> 4)
		out[1] = uint8((t*4 + 7) >> 4)
		return
	}
	this := int(near[0])*3 + int(far[0])
	next := int(near[1])*3 + int(far[1])
	out[0] = uint8((this*4 + 8) >> 4)
	out[1] = uint8((this*3 + next + 7) >> 4)
	last := this
	this = next
	for i := 1; i < n-1; i++ {
		next = int(near[i+1])*3 + int(far[i+1])
		out[2*i] = uint8((this*3 + last + 8) >> 4)
		out[2*i+1] = uint8((this*3 + next + 7) >> 4)
		last, this = this, next
	}
	out[2*n-2] = uint8((this*3 + last + 8) >> 4)
	out[2*n-1] = uint8((this*4 + 7) >> 4)
}

func nearestYCbCr(dst *image.RGBA, m *image.YCbCr) {
	b := m.Rect
	for y := 0; y < min(dst.Rect.Dy(), b.Dy()); y++ {
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < min(dst.Rect.Dx(), b.Dx()); x++ {
			yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
			ci := m.COffset(b.Min.X+x, b.Min.Y+y)
			yy := int32(m.Y[yi])
			cbv, crv := m.Cb[ci], m.Cr[ci]
			out[4*x] = clip8(yy + crR[crv])
			out[4*x+1] = clip8(yy + (cbG[cbv]+crG[crv])>>16)
			out[4*x+2] = clip8(yy + cbB[cbv])
			out[4*x+3] = 255
		}
	}
}

// webpToRGBA converts VP8's limited-range YUV with libwebp's fixed-point
// formulas (VP8YUVToR/G/B) and its "fancy" bilinear chroma upsampling.
func webpToRGBA(dst *image.RGBA, m *image.YCbCr, _ []uint8) {
	b := m.Rect
	w, h := min(dst.Rect.Dx(), b.Dx()), min(dst.Rect.Dy(), b.Dy())
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		for y := 0; y < h; y++ {
			out := dst.Pix[y*dst.Stride:]
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				webpPixel(out[4*x:], int(m.Y[yi]), int(m.Cb[ci]), int(m.Cr[ci]))
			}
		}
		return
	}
	cw := (w + 1) / 2
	ch := (h + 1) / 2
	crow := func(p []uint8, r int) []uint8 {
		r = max(0, min(r, ch-1))
		return p[r*m.CStride : r*m.CStride+cw]
	}
	u := make([]int, w)
	v := make([]int, w)
	for y := 0; y < h; y++ {
		// Output row y lies between chroma rows (y-1)/2 and (y+1)/2 with
		// weights 3/4 on the nearer one, as in libwebp's UpsampleRgbLinePair.
		near, far := y/2, (y-1)/2
		if y%2 == 1 {
			near, far = y/2, y/2+1
		}
		if y == 0 {
			far = 0
		}
		webpUpsampleRow(u, crow(m.Cb, near), crow(m.Cb, far))
		webpUpsampleRow(v, crow(m.Cr, near), crow(m.Cr, far))
		yrow := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			webpPixel(out[4*x:], int(yrow[x]), u[x], v[x])
		}
	}
}

// webpUpsampleRow interpolates one row of chroma: vertically 3:1 between
// near and far, horizontally 3:1 between neighbours, rounding as libwebp
// does ((9a+3b+3c+d+8)/16 via its two-step diagonal form).
func webpUpsampleRow(out []int, near, far []uint8) {
	n := len(near)
	w := len(out)
	at := func(r []uint8, i int) int { return int(r[max(0, min(i, n-1))]) }
	for x := 0; x < w; x++ {
		// Chroma sample i covers output pixels 2i and 2i+1; the pixel's
		// neighbour sample is on its left for even x, right for odd x.
		i := x / 2
		j := i - 1
		if x%2 == 1 {
			j = i + 1
		}
		if j < 0 || j >= n {
			// Edge column: vertical interpolation only.
			out[x] = (3*at(near, i) + at(far, i) + 2) >> 2
			continue
		}
		a, bb, c, d := at(near, i), at(near, j), at(far, i), at(far, j)
		out[x] = (9*a + 3*bb + 3*c + d + 8) >> 4
	}
}

func webpPixel(out []uint8, y, u, v int) {
	mulHi := func(v, c int) int { return (v * c) >> 8 }
	clip := func(v int) uint8 {
		if v&^((256<<6)-1) == 0 {
			return uint8(v >> 6)
		}
		if v < 0 {
			return 0
		}
		return 255
	}
	out[0] = clip(mulHi(y, 19077) + mulHi(v, 26149) - 14234)
	out[1] = clip(mulHi(y, 19077) - mulHi(u, 6419) - mulHi(v, 13320) + 8708)
	out[2] = clip(mulHi(y, 19077) + mulHi(u, 33050) - 17685)
	out[3] = 255
}
