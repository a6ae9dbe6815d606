package preprocess

import (
	"image"
	"math/rand/v2"
	"testing"

	"github.com/embedsearch/embedsearch/infer/preprocess/internal/hpass"
)

// TestHpassMatchesGoLoop: the resampler gives the same bytes with hpass's
// kernel as with its Go loop, downscaling (the antialiased filter's
// support grows with the factor), upscaling, with a reducing gap and in
// a window, for both filters.
func TestHpassMatchesGoLoop(t *testing.T) {
	if !hpass.Available {
		t.Skip("no AVX2 here: only the Go loop runs")
	}
	r := rand.New(rand.NewPCG(3, 4))
	noise := func(w, h int) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range m.Pix {
			m.Pix[i] = uint8(r.IntN(256))
		}
		for i := 3; i < len(m.Pix); i += 4 {
			m.Pix[i] = 255
		}
		return m
	}
	cases := []struct {
		w, h, ow, oh int
		gap          float64
	}{
		{1200, 900, 224, 168, 0}, {1200, 900, 64, 64, 0}, {1200, 900, 64, 64, 3},
		{37, 23, 224, 224, 0}, {301, 299, 300, 7, 0}, {9, 1000, 3, 50, 0}, {2, 2, 1, 1, 0},
	}
	for _, c := range cases {
		src := rgbaRows{noise(c.w, c.h)}
		for _, f := range []filter{bicubicFilter, bilinearFilter} {
			for _, win := range []image.Rectangle{image.Rect(0, 0, c.ow, c.oh), image.Rect(c.ow/4, c.oh/3, c.ow, c.oh)} {
				if win.Empty() {
					continue
				}
				useHpass = true
				got := resample(src, c.ow, c.oh, win, f, c.gap)
				useHpass = false
				want := resample(src, c.ow, c.oh, win, f, c.gap)
				useHpass = hpass.Available
				for i := range want.pix {
					if got.pix[i] != want.pix[i] {
						t.Fatalf("%dx%d -> %dx%d (gap %g, window %v): byte %d is %d with the kernel, %d with the Go loop",
							c.w, c.h, c.ow, c.oh, c.gap, win, i, got.pix[i], want.pix[i])
					}
				}
			}
		}
	}
}
