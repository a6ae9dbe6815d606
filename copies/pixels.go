package copies

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"golang.org/x/image/draw"
)

// toRGBA copies src into a new opaque RGBA image at the origin; transparent
// parts show white, as most viewers show them.
func toRGBA(src image.Image) *image.RGBA {
	b := src.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(m, m.Rect, src, b.Min, draw.Over)
	return m
}

func scale(m *image.RGBA, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(out, out.Rect, m, m.Rect, draw.Src, nil)
	return out
}

func sub(m *image.RGBA, r image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Rect, m, r.Min, draw.Src)
	return out
}

func crop(m *image.RGBA, keep float64, a Anchor) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := px(float64(w)*keep), px(float64(h)*keep)
	var r image.Rectangle
	switch a {
	case Left:
		r = image.Rect(0, 0, cw, h)
	case Right:
		r = image.Rect(w-cw, 0, w, h)
	case Top:
		r = image.Rect(0, 0, w, ch)
	case Bottom:
		r = image.Rect(0, h-ch, w, h)
	case TopLeft:
		r = image.Rect(0, 0, cw, ch)
	default:
		x, y := (w-cw)/2, (h-ch)/2
		r = image.Rect(x, y, x+cw, y+ch)
	}
	return sub(m, r)
}

func border(m *image.RGBA, width int, c color.RGBA) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	out := image.NewRGBA(image.Rect(0, 0, w+2*width, h+2*width))
	draw.Draw(out, out.Rect, &image.Uniform{c}, image.Point{}, draw.Src)
	draw.Draw(out, m.Rect.Add(image.Pt(width, width)), m, image.Point{}, draw.Src)
	return out
}

// frame mounts the photo as a framed print: an off-white mat two thirds of
// width wide inside a dark wooden moulding with a lighter inner edge.
func frame(m *image.RGBA, width int) *image.RGBA {
	mat := max(1, width*2/3)
	out := border(m, mat, color.RGBA{236, 232, 222, 255})
	out = border(out, max(1, width/8), color.RGBA{150, 110, 70, 255})
	return border(out, max(1, width-mat-width/8), color.RGBA{70, 45, 25, 255})
}

// canvas places the photo, at its own size, on a canvas ratio times larger
// on each side, of a random light or dark plain colour, at a random offset.
func canvas(m *image.RGBA, ratio float64, rng *rand.Rand) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := px(float64(w)*ratio), px(float64(h)*ratio)
	out := image.NewRGBA(image.Rect(0, 0, cw, ch))
	draw.Draw(out, out.Rect, &image.Uniform{randColour(rng)}, image.Point{}, draw.Src)
	x, y := rng.IntN(cw-w+1), rng.IntN(ch-h+1)
	draw.Draw(out, m.Rect.Add(image.Pt(x, y)), m, image.Point{}, draw.Src)
	return out
}

// randColour is black, white or a random colour, as borders and canvases
// usually are.
func randColour(rng *rand.Rand) color.RGBA {
	switch r := rng.IntN(10); {
	case r < 4:
		return color.RGBA{0, 0, 0, 255}
	case r < 7:
		return color.RGBA{255, 255, 255, 255}
	}
	return color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
}

// orient returns m as a viewer shows a file tagged with EXIF orientation o
// (1..8): 2 mirror, 3 turn 180°, 4 flip, 5 transpose, 6 turn 90° clockwise,
// 7 transverse, 8 turn 90° anticlockwise.
func orient(m *image.RGBA, o int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			sx, sy := x, y
			switch o {
			case 2:
				sx = w - 1 - x
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sy = h - 1 - y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			copy(out.Pix[y*out.Stride+4*x:y*out.Stride+4*x+4], m.Pix[sy*m.Stride+4*sx:])
		}
	}
	return out
}

// eachPixel replaces every pixel's RGB by f's result, rounded and clamped.
func eachPixel(m *image.RGBA, f func(r, g, b float64) (float64, float64, float64)) {
	p := m.Pix
	for i := 0; i+3 < len(p); i += 4 {
		r, g, b := f(float64(p[i]), float64(p[i+1]), float64(p[i+2]))
		p[i], p[i+1], p[i+2] = clamp8(r), clamp8(g), clamp8(b)
	}
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

func grey(m *image.RGBA) {
	eachPixel(m, func(r, g, b float64) (float64, float64, float64) {
		y := 0.299*r + 0.587*g + 0.114*b
		return y, y, y
	})
}

func brightness(m *image.RGBA, f float64) {
	eachPixel(m, func(r, g, b float64) (float64, float64, float64) { return r * f, g * f, b * f })
}

func sepia(m *image.RGBA) {
	eachPixel(m, func(r, g, b float64) (float64, float64, float64) {
		return 0.393*r + 0.769*g + 0.189*b, 0.349*r + 0.686*g + 0.168*b, 0.272*r + 0.534*g + 0.131*b
	})
}

// hue turns every pixel's hue by deg degrees in HSV, keeping saturation and
// value, as an editor's hue slider does.
func hue(m *image.RGBA, deg float64) {
	turn := deg / 60
	eachPixel(m, func(r, g, b float64) (float64, float64, float64) {
		mx, mn := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
		c := mx - mn
		if c == 0 {
			return r, g, b
		}
		var h float64
		switch mx {
		case r:
			h = math.Mod((g-b)/c+6, 6)
		case g:
			h = (b-r)/c + 2
		default:
			h = (r-g)/c + 4
		}
		h = math.Mod(h+turn+36, 6)
		x := c * (1 - math.Abs(math.Mod(h, 2)-1))
		var r1, g1, b1 float64
		switch int(h) {
		case 0:
			r1, g1 = c, x
		case 1:
			r1, g1 = x, c
		case 2:
			g1, b1 = c, x
		case 3:
			g1, b1 = x, c
		case 4:
			r1, b1 = x, c
		default:
			r1, b1 = c, x
		}
		return r1 + mn, g1 + mn, b1 + mn
	})
}

// blur is three box blurs of the given radius in each direction, close to
// a Gaussian of sigma ≈ radius.
func blur(m *image.RGBA, radius int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	a := make([]float64, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				a[3*(y*w+x)+c] = float64(m.Pix[y*m.Stride+4*x+c])
			}
		}
	}
	tmp := make([]float64, len(a))
	for pass := 0; pass < 3; pass++ {
		boxLine(a, tmp, w, h, radius, 3, 3*w) // rows
		boxLine(tmp, a, h, w, radius, 3*w, 3) // columns
	}
	out := image.NewRGBA(m.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := out.Pix[y*out.Stride+4*x:]
			for c := 0; c < 3; c++ {
				o[c] = clamp8(a[3*(y*w+x)+c])
			}
			o[3] = 255
		}
	}
	return out
}

// boxLine averages n samples within radius along each of lines lines of src
// into dst (edges clamped); step is the distance between samples of a line,
// next between lines' starts.
func boxLine(src, dst []float64, n, lines, radius, step, next int) {
	for l := 0; l < lines; l++ {
		for c := 0; c < 3; c++ {
			base := l*next + c
			at := func(i int) float64 { return src[base+min(max(i, 0), n-1)*step] }
			var sum float64
			for i := -radius; i <= radius; i++ {
				sum += at(i)
			}
			k := float64(2*radius + 1)
			for i := 0; i < n; i++ {
				dst[base+i*step] = sum / k
				sum += at(i+radius+1) - at(i-radius)
			}
		}
	}
}
