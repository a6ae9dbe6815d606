package preprocess

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// TestDecodeReduced: a large JPEG comes back at a reduced scale that
// keeps at least 4 times the asked size, with the full size in Info and
// the same picture as a full decode; a small one comes back whole.
func TestDecodeReduced(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for y := range 1200 {
		for x := range 1600 {
			img.Set(x, y, color.RGBA{uint8(x / 7), uint8(y / 5), uint8((x + y) / 11), 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	got, info, err := DecodeReduced(b.Bytes(), Limits{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	w, h := got.Bounds().Dx(), got.Bounds().Dy()
	if info.Width != 1600 || info.Height != 1200 || w != 200 || h != 150 {
		t.Fatalf("decoded %dx%d of %dx%d; want 200x150 (1/8: at least twice 100x75) of 1600x1200", w, h, info.Width, info.Height)
	}
	full, _, _ := Decode(b.Bytes(), Limits{})
	for _, p := range []image.Point{{10, 10}, {100, 75}, {190, 140}} {
		r1, g1, b1, _ := got.At(p.X, p.Y).RGBA()
		r2, g2, b2, _ := full.At(p.X*8+4, p.Y*8+4).RGBA()
		if d := absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2); d > 3*6*257 {
			t.Errorf("pixel %v differs from the full decode's by %d", p, d/257)
		}
	}
	small, _, err := DecodeReduced(b.Bytes(), Limits{}, 2000)
	if err != nil || small.Bounds().Dx() != 1600 {
		t.Fatalf("maxSide above the size: %v, %v", small.Bounds(), err)
	}
	if _, _, err := DecodeReduced(b.Bytes(), Limits{MaxPixels: 1000}, 100); err == nil {
		t.Fatal("the pixel cap was not applied")
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
