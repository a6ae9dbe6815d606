package preprocess

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/embedsearch/embedsearch/models"
)

// seedImages encodes a small test picture in every format the encoders in
// our dependencies can write, plus a JPEG carrying an EXIF block.
func seedImages(t testing.TB) [][]byte {
	m := image.NewNRGBA(image.Rect(0, 0, 13, 7))
	for y := 0; y < 7; y++ {
		for x := 0; x < 13; x++ {
			m.Set(x, y, color.NRGBA{uint8(20 * x), uint8(30 * y), uint8(x * y), uint8(255 - 9*x)})
		}
	}
	var out [][]byte
	enc := []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return png.Encode(b, m) },
		func(b *bytes.Buffer) error { return jpeg.Encode(b, m, &jpeg.Options{Quality: 80}) },
		func(b *bytes.Buffer) error { return gif.Encode(b, m, nil) },
		func(b *bytes.Buffer) error { return bmp.Encode(b, m) },
		func(b *bytes.Buffer) error { return tiff.Encode(b, m, &tiff.Options{Compression: tiff.Deflate}) },
		func(b *bytes.Buffer) error { return jpeg.Encode(b, image.NewGray(image.Rect(0, 0, 9, 17)), nil) },
	}
	for _, e := range enc {
		var b bytes.Buffer
		if err := e(&b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	// A JPEG with an APP1 EXIF block (orientation 6) after SOI.
	j := out[1]
	exif := append([]byte("Exif\x00\x00"), tiffWithOrientation(true, 6)...)
	app1 := append([]byte{0xff, 0xe1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	out = append(out, append(append(append([]byte{}, j[:2]...), app1...), j[2:]...))
	return out
}

// corpusSeeds adds the small files of the robustness corpora as seeds when
// ../shared/data is present.
func corpusSeeds(f *testing.F) {
	data := findSharedData()
	if data == "" {
		return
	}
	for _, pattern := range []string{"pngsuite/png/*.png", "pillow-test-images/images/*.*", "pillow-test-images/images/bmp/*/*.bmp"} {
		names, _ := filepath.Glob(filepath.Join(data, pattern))
		for _, n := range names {
			if fi, err := os.Stat(n); err == nil && fi.Size() <= 4096 {
				if b, err := os.ReadFile(n); err == nil {
					f.Add(b)
				}
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range seedImages(f) {
		f.Add(s)
	}
	corpusSeeds(f)
	p, err := NewPreparer(models.Preprocess{
		Resize: models.ResizeShortestCrop, Size: 9, Crop: [2]int{8, 8}, Interpolation: models.InterpBicubic,
		Rescale: 1.0 / 255, Std: [3]float64{1, 1, 1},
	}, Limits{MaxPixels: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dst := make([]float32, p.TensorLen())
		info, err := p.prepare(data, dst) // unguarded: a panic must fail the fuzzer
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error outside the sentinels: %v", err)
			}
			return
		}
		if info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > 1<<20 {
			t.Fatalf("decoded with info %+v", info)
		}
	})
}

func FuzzEXIF(f *testing.F) {
	f.Add(tiffWithOrientation(false, 6))
	f.Add(tiffWithOrientation(true, 3))
	for _, s := range seedImages(f) {
		f.Add(s)
	}
	corpusSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ex := parseEXIF(data)
		if ex.Orientation < 0 || ex.Orientation > 8 {
			t.Fatalf("orientation %d", ex.Orientation)
		}
		for _, format := range []string{FormatJPEG, FormatPNG, FormatWebP, FormatTIFF} {
			readMeta(format, data)
		}
	})
}
