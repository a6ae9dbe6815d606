package preprocess

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/embedsearch/embedsearch/models"
)

// TestExtremeShapes: tiny and very elongated images go through every resize
// mode without panicking, and a uniform image stays uniform (every filter
// here sums to one, so a flat input must give a flat, exact output).
func TestExtremeShapes(t *testing.T) {
	grey := color.NRGBA{90, 140, 200, 255}
	for _, mode := range []string{models.ResizeShortestCrop, models.ResizeSquash, models.ResizePad} {
		for _, interp := range []string{models.InterpBicubic, models.InterpBilinear} {
			p, err := NewPreparer(models.Preprocess{
				Resize: mode, Size: 32, Crop: [2]int{24, 32}, Interpolation: interp,
				Rescale: 1, Std: [3]float64{1, 1, 1}, PadColor: [3]uint8{90, 140, 200},
			}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for _, sz := range []image.Point{{1, 1}, {1, 5000}, {5000, 1}, {2, 3}, {33, 24}, {32, 24}} {
				m := image.NewNRGBA(image.Rect(0, 0, sz.X, sz.Y))
				for i := 0; i < len(m.Pix); i += 4 {
					m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = grey.R, grey.G, grey.B, 255
				}
				dst := make([]float32, p.TensorLen())
				if err := p.Image(m, dst); err != nil {
					t.Fatalf("%s %s %v: %v", mode, interp, sz, err)
				}
				n := len(dst) / 3
				for c, want := range []float32{90, 140, 200} {
					for _, v := range dst[c*n : (c+1)*n] {
						if v != want || math.IsNaN(float64(v)) {
							t.Fatalf("%s %s %v: channel %d has %v, want %v", mode, interp, sz, c, v, want)
						}
					}
				}
			}
		}
	}
}
