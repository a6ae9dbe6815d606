package copies

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"github.com/embedsearch/embedsearch/infer/preprocess"
)

// testPhoto is a 120×80 image with no symmetry: gradients, a disc and a
// bar, so that any wrong turn, flip or offset changes pixels.
func testPhoto() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			c := color.RGBA{uint8(2 * x), uint8(3 * y), uint8(255 - x - y), 255}
			if (x-30)*(x-30)+(y-25)*(y-25) < 150 {
				c = color.RGBA{230, 40, 40, 255}
			}
			if x > 80 && x < 110 && y > 50 && y < 60 {
				c = color.RGBA{20, 20, 200, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func TestEditsAreDeterministicAndDecode(t *testing.T) {
	src := testPhoto()
	seen := map[string]bool{}
	for _, e := range Edits() {
		if seen[e.Name] {
			t.Fatalf("name %q twice", e.Name)
		}
		seen[e.Name] = true
		a, ext, err := Make(src, e)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		b, _, _ := Make(src, e)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs gave different bytes", e.Name)
		}
		want := ".jpg"
		if e.Format == PNG {
			want = ".png"
		}
		if ext != want {
			t.Errorf("%s: ext %q, want %q", e.Name, ext, want)
		}
		if _, _, err := preprocess.Decode(a, preprocess.Limits{}); err != nil {
			t.Errorf("%s: does not decode: %v", e.Name, err)
		}
		if e2, ok := Lookup(e.Name); !ok || e2 != e {
			t.Errorf("Lookup(%q) = %v, %v", e.Name, e2, ok)
		}
	}
	if src.Pix[0] != 0 || src.Pix[1] != 0 || src.Pix[2] != 255 {
		t.Errorf("source changed: %v", src.Pix[:4])
	}
}

func pix(m *image.RGBA, x, y int) [3]uint8 {
	i := m.PixOffset(x, y)
	return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
}

// sameRegion fails unless out equals src's rectangle r moved to at.
func sameRegion(t *testing.T, name string, out, src *image.RGBA, r image.Rectangle, at image.Point) {
	t.Helper()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if g, w := pix(out, x-r.Min.X+at.X, y-r.Min.Y+at.Y), pix(src, x, y); g != w {
				t.Fatalf("%s: pixel from (%d,%d) is %v, want %v", name, x, y, g, w)
			}
		}
	}
}

func TestGeometry(t *testing.T) {
	src := testPhoto()
	cases := []struct {
		e      Edit
		w, h   int
		region image.Rectangle // the source part that must appear unchanged
		at     image.Point     // where it appears
	}{
		{Edit{Op: Crop, Amount: 0.8}, 96, 64, image.Rect(12, 8, 108, 72), image.Pt(0, 0)},
		{Edit{Op: Crop, Amount: 0.75, Anchor: Left}, 90, 80, image.Rect(0, 0, 90, 80), image.Pt(0, 0)},
		{Edit{Op: Crop, Amount: 0.75, Anchor: Right}, 90, 80, image.Rect(30, 0, 120, 80), image.Pt(0, 0)},
		{Edit{Op: Crop, Amount: 0.75, Anchor: Top}, 120, 60, image.Rect(0, 0, 120, 60), image.Pt(0, 0)},
		{Edit{Op: Crop, Amount: 0.75, Anchor: Bottom}, 120, 60, image.Rect(0, 20, 120, 80), image.Pt(0, 0)},
		{Edit{Op: Crop, Amount: 0.5, Anchor: TopLeft}, 60, 40, image.Rect(0, 0, 60, 40), image.Pt(0, 0)},
		{Edit{Op: Border, Amount: 0.05}, 128, 88, src.Rect, image.Pt(4, 4)},
		{Edit{Op: Frame, Amount: 0.1}, 136, 96, src.Rect, image.Pt(8, 8)},
		{Edit{Op: Resize, Amount: 0.5}, 60, 40, image.Rectangle{}, image.Point{}},
		{Edit{Op: Squash, Amount: 0.75}, 120, 60, image.Rectangle{}, image.Point{}},
		{Edit{Op: Rotate, Amount: 90}, 80, 120, image.Rectangle{}, image.Point{}},
	}
	for _, c := range cases {
		out := Apply(src, c.e)
		if out.Rect.Dx() != c.w || out.Rect.Dy() != c.h {
			t.Errorf("%v %v: %v, want %dx%d", c.e.Op, c.e.Amount, out.Rect.Size(), c.w, c.h)
			continue
		}
		sameRegion(t, c.e.Op.String(), out, src, c.region, c.at)
	}

	bord := Apply(src, Edit{Op: Border, Amount: 0.05, Seed: 7})
	if pix(bord, 0, 0) != pix(bord, 127, 87) || pix(bord, 0, 0) != pix(bord, 3, 50) {
		t.Errorf("border is not one colour: %v %v %v", pix(bord, 0, 0), pix(bord, 127, 87), pix(bord, 3, 50))
	}

	can := Apply(src, Edit{Op: Canvas, Amount: 1.5, Seed: 5})
	if can.Rect.Dx() != 180 || can.Rect.Dy() != 120 {
		t.Fatalf("canvas: %v", can.Rect)
	}
	found := false
	for y := 0; y <= 40 && !found; y++ {
		for x := 0; x <= 60 && !found; x++ {
			found = pix(can, x, y) == pix(src, 0, 0) && pix(can, x+119, y+79) == pix(src, 119, 79) &&
				pix(can, x+30, y+25) == pix(src, 30, 25)
			if found {
				sameRegion(t, "canvas", can, src, src.Rect, image.Pt(x, y))
			}
		}
	}
	if !found {
		t.Error("canvas: the photo is not on it")
	}
}

func TestTurnsAndFlips(t *testing.T) {
	src := testPhoto()
	w, h := 120, 80
	check := func(name string, out *image.RGBA, ow, oh int, from func(x, y int) (int, int)) {
		t.Helper()
		if out.Rect.Dx() != ow || out.Rect.Dy() != oh {
			t.Fatalf("%s: %v", name, out.Rect)
		}
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				sx, sy := from(x, y)
				if pix(out, x, y) != pix(src, sx, sy) {
					t.Fatalf("%s: (%d,%d) is not source (%d,%d)", name, x, y, sx, sy)
				}
			}
		}
	}
	check("mirror", Apply(src, Edit{Op: Flip}), w, h, func(x, y int) (int, int) { return w - 1 - x, y })
	check("rot90", Apply(src, Edit{Op: Rotate, Amount: 90}), h, w, func(x, y int) (int, int) { return y, h - 1 - x })
	check("rot180", Apply(src, Edit{Op: Rotate, Amount: 180}), w, h, func(x, y int) (int, int) { return w - 1 - x, h - 1 - y })
	check("rot270", Apply(src, Edit{Op: Rotate, Amount: 270}), h, w, func(x, y int) (int, int) { return w - 1 - y, x })
}

// meanDiff is the mean absolute difference of two same-sized images' RGB.
func meanDiff(a, b image.Image) float64 {
	var s float64
	r := a.Bounds()
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			r1, g1, b1, _ := a.At(r.Min.X+x, r.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			s += math.Abs(float64(r1>>8)-float64(r2>>8)) + math.Abs(float64(g1>>8)-float64(g2>>8)) + math.Abs(float64(b1>>8)-float64(b2>>8))
		}
	}
	return s / float64(3*r.Dx()*r.Dy())
}

// A viewer that honours EXIF (our own decoder) shows every orientation
// copy as the original; one that ignores it shows the turned pixels.
func TestOrientationCopiesShowTheOriginal(t *testing.T) {
	src := testPhoto()
	for o := 2; o <= 8; o++ {
		data, ext, err := Make(src, Edit{Op: Orient, Amount: float64(o), Quality: 95})
		if err != nil || ext != ".jpg" {
			t.Fatalf("orientation %d: %v %q", o, err, ext)
		}
		shown, _, err := preprocess.Decode(data, preprocess.Limits{})
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		if shown.Bounds().Size() != src.Rect.Size() {
			t.Fatalf("orientation %d: shown %v, want %v", o, shown.Bounds().Size(), src.Rect.Size())
		}
		if d := meanDiff(shown, src); d > 3 {
			t.Errorf("orientation %d: shown image differs from the original by %.2f/255 on average", o, d)
		}
		raw, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if o >= 5 && raw.Bounds().Dx() != 80 {
			t.Errorf("orientation %d: stored pixels are not turned: %v", o, raw.Bounds())
		}
		if d := meanDiff(raw, src); o < 5 && d < 10 {
			t.Errorf("orientation %d: stored pixels are the original's (diff %.2f)", o, d)
		}
	}
}

func TestColours(t *testing.T) {
	one := func(c color.RGBA, e Edit) [3]uint8 {
		m := image.NewRGBA(image.Rect(0, 0, 1, 1))
		m.SetRGBA(0, 0, c)
		return pix(Apply(m, e), 0, 0)
	}
	cases := []struct {
		in   color.RGBA
		e    Edit
		want [3]uint8
	}{
		{color.RGBA{255, 0, 0, 255}, Edit{Op: Hue, Amount: 120}, [3]uint8{0, 255, 0}},
		{color.RGBA{255, 0, 0, 255}, Edit{Op: Hue, Amount: -120}, [3]uint8{0, 0, 255}},
		{color.RGBA{200, 100, 50, 255}, Edit{Op: Hue, Amount: 360}, [3]uint8{200, 100, 50}},
		{color.RGBA{90, 90, 90, 255}, Edit{Op: Hue, Amount: 45}, [3]uint8{90, 90, 90}},
		{color.RGBA{100, 150, 200, 255}, Edit{Op: Grey}, [3]uint8{141, 141, 141}},
		{color.RGBA{100, 150, 200, 255}, Edit{Op: Brightness, Amount: 1.3}, [3]uint8{130, 195, 255}},
		{color.RGBA{100, 150, 200, 255}, Edit{Op: Sepia}, [3]uint8{192, 171, 134}},
		{color.RGBA{0, 0, 0, 0}, Edit{Op: Reencode}, [3]uint8{255, 255, 255}}, // transparent shows white
	}
	for _, c := range cases {
		if got := one(c.in, c.e); got != c.want {
			t.Errorf("%v %v on %v: %v, want %v", c.e.Op, c.e.Amount, c.in, got, c.want)
		}
	}
}

func TestBlurAndText(t *testing.T) {
	src := testPhoto()
	flat := image.NewRGBA(image.Rect(0, 0, 50, 30))
	for i := range flat.Pix {
		flat.Pix[i] = 77
		if i%4 == 3 {
			flat.Pix[i] = 255
		}
	}
	if p := pix(Apply(flat, Edit{Op: Blur, Amount: 0.1}), 10, 10); p != [3]uint8{77, 77, 77} {
		t.Errorf("blur of a flat image: %v", p)
	}
	b := Apply(src, Edit{Op: Blur, Amount: 0.05})
	// The disc's edge (x = 30+12) is softened: the pixel just outside it
	// takes some of its red.
	if in, out := pix(src, 43, 25)[0], pix(b, 43, 25)[0]; out <= in {
		t.Errorf("blur: the edge is not softened (%d -> %d)", in, out)
	}

	changed := func(m *image.RGBA) float64 {
		n := 0
		for y := 0; y < 80; y++ {
			for x := 0; x < 120; x++ {
				if pix(m, x, y) != pix(src, x, y) {
					n++
				}
			}
		}
		return float64(n) / (120 * 80)
	}
	t1, t2 := Apply(src, Edit{Op: Text, Amount: 0.15, Seed: 1}), Apply(src, Edit{Op: Text, Amount: 0.15, Seed: 2})
	for _, m := range []*image.RGBA{t1, t2} {
		if f := changed(m); f < 0.01 || f > 0.3 {
			t.Errorf("text changed %.3f of the pixels, want a caption's share", f)
		}
	}
	if bytes.Equal(t1.Pix, t2.Pix) {
		t.Error("text: two seeds gave the same caption")
	}
}

func TestVariants(t *testing.T) {
	a, b := Variants(42, 300), Variants(42, 300)
	ops := map[Op]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("variant %d differs between runs: %+v %+v", i, a[i], b[i])
		}
		if err := check(a[i]); err != nil {
			t.Errorf("variant %d: %v", i, err)
		}
		ops[a[i].Op] = true
	}
	if len(ops) != int(numOps) {
		t.Errorf("300 variants cover %d ops of %d", len(ops), numOps)
	}
	if c := Variants(43, 300); c[0] == a[0] && c[1] == a[1] {
		t.Error("another seed gave the same variants")
	}
	src := testPhoto()
	for _, e := range a[:40] {
		if _, _, err := Make(src, e); err != nil {
			t.Errorf("%s: %v", e.Name, err)
		}
	}
}

func TestBadEditsAreRefused(t *testing.T) {
	src := testPhoto()
	for _, e := range []Edit{
		{Op: numOps},
		{Op: Crop, Amount: 1.5},
		{Op: Crop, Amount: 0.5, Anchor: 99},
		{Op: Resize, Amount: 0},
		{Op: Rotate, Amount: 45},
		{Op: Orient, Amount: 9},
		{Op: Orient, Amount: 6, Format: PNG},
		{Op: Hue, Amount: math.NaN()},
		{Op: Reencode, Quality: 101},
		{Op: Canvas, Amount: 0.5},
	} {
		if _, _, err := Make(src, e); !errors.Is(err, ErrEdit) {
			t.Errorf("%+v: err %v, want ErrEdit", e, err)
		}
	}
}

func TestPNGIsLossless(t *testing.T) {
	src := testPhoto()
	data, _, err := Make(src, Edit{Op: Reencode, Format: PNG})
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if d := meanDiff(m, src); d != 0 {
		t.Errorf("png copy differs by %v", d)
	}
}
