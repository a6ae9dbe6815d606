package testenv

import (
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
)

// photoSources are the largest real photos in ../shared/data with distinct
// content (1000 to 1800 pixels wide), the sources of the 12-megapixel set.
var photoSources = []string{
	"exif-orientation/Landscape_1.jpg",
	"caltech101-neardup/distractors/images_BACKGROUND_Google_image_0460.jpg",
	"pdq-bridge-variants/reg-test-input/dih/bridge-1-original.jpg",
	"caltech101-neardup/distractors/images_BACKGROUND_Google_image_0232.jpg",
	"caltech101-neardup/distractors/images_BACKGROUND_Google_image_0013.jpg",
	"caltech101-neardup/distractors/images_BACKGROUND_Google_image_0265.jpg",
	"caltech101-neardup/distractors/images_BACKGROUND_Google_image_0259.jpg",
	"caltech101-neardup/distractors/images_BACKGROUND_Google_image_0331.jpg",
}

// RealPhoto12MP is the one real photo of about 12 megapixels in the data
// (2799x3999, a scanned poster: sharp text and lines).
const RealPhoto12MP = "caltech101-neardup/distractors/images_BACKGROUND_Google_image_0451.jpg"

// MakePhotos12MP writes n JPEG files of 4000x3000 pixels into dir, made as
// a phone's photos look to a decoder: a real photo from data (the
// ../shared/data folder) enlarged bilinearly to cover 4000x3000 and
// centre-cropped, plus sensor-like noise (Gaussian, 5 levels of luma and
// 2 of chroma, the same on every run), saved by image/jpeg at quality
// 92 with 4:2:0 chroma: 3 to 5 MB a file. Sources repeat after 8 files.
// It returns the paths.
func MakePhotos12MP(data, dir string, n int) ([]string, error) {
	const w, h = 4000, 3000
	var paths []string
	for i := 0; i < n; i++ {
		src := photoSources[i%len(photoSources)]
		f, err := os.Open(filepath.Join(data, src))
		if err != nil {
			return nil, err
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		b := img.Bounds()
		scale := math.Max(float64(w)/float64(b.Dx()), float64(h)/float64(b.Dy()))
		sw, sh := int(math.Ceil(float64(b.Dx())*scale)), int(math.Ceil(float64(b.Dy())*scale))
		big := image.NewRGBA(image.Rect(0, 0, sw, sh))
		draw.BiLinear.Scale(big, big.Rect, img, b, draw.Src, nil)
		x0, y0 := (sw-w)/2, (sh-h)/2
		out := image.NewRGBA(image.Rect(0, 0, w, h))
		rng := rand.New(rand.NewPCG(uint64(i), 15))
		for y := 0; y < h; y++ {
			row := big.Pix[(y0+y)*big.Stride+4*x0:]
			o := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				luma := rng.NormFloat64() * 5
				for c := 0; c < 3; c++ {
					v := float64(row[4*x+c]) + luma + rng.NormFloat64()*2
					o[4*x+c] = uint8(math.Max(0, math.Min(255, math.Round(v))))
				}
				o[4*x+3] = 255
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("photo%02d.jpg", i))
		if err := writeJPEG(p, out); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func writeJPEG(path string, m image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := jpeg.Encode(f, m, &jpeg.Options{Quality: 92}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Photos12MP is MakePhotos12MP into a temporary folder of the test,
// skipping the test when ../shared/data is absent.
func Photos12MP(t testing.TB, n int) []string {
	t.Helper()
	data := SharedData(t)
	paths, err := MakePhotos12MP(data, t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	return paths
}
