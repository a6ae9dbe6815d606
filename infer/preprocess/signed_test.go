package preprocess

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/embedsearch/embedsearch/signature"
)

func testPicture(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x * y) % 251), 255})
		}
	}
	return m
}

// Go's encoder scales the standard tables as IJG libjpeg does, so the
// estimate must give the quality back (±1 for rounding of the table).
func TestJPEGQuality(t *testing.T) {
	m := testPicture(64, 48)
	for _, q := range []int{5, 20, 50, 75, 90, 95, 100} {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		got := compression(FormatJPEG, b.Bytes())
		if got < q-1 || got > q+1 {
			t.Errorf("quality %d estimated as %d", q, got)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	if got := compression(FormatPNG, b.Bytes()); got != signature.QualityLossless {
		t.Errorf("PNG: %d", got)
	}
	for _, bad := range [][]byte{nil, {0xff, 0xd8}, {0xff, 0xd8, 0xff, 0xdb, 0, 200}, {0xff, 0xd8, 0xff, 0xdb, 0, 3, 0x20}} {
		if got := jpegQuality(bad); got != signature.QualityUnknown {
			t.Errorf("%v: %d", bad, got)
		}
	}
}

// The caltech101-neardup originals were saved at quality 75 and its copies
// at 90 (PIL's estimate too), its exif8 copies at 92.
func TestJPEGQualityOfRealFiles(t *testing.T) {
	dir := filepath.Join(sharedData(t), "caltech101-neardup", "dups", "g0001")
	for name, want := range map[string]int{"original.jpg": 75, "text.jpg": 90, "exif8.jpg": 92} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := compression(FormatJPEG, data); got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
}

func TestBytesSigned(t *testing.T) {
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m := testPicture(120, 80)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	plain := make([]float32, p.TensorLen())
	info, err := p.Bytes(b.Bytes(), plain)
	if err != nil || info.Signature != nil {
		t.Fatalf("Bytes: %v, signature %d bytes", err, len(info.Signature))
	}
	signed := make([]float32, p.TensorLen())
	info, err = p.BytesSigned(b.Bytes(), signed)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plain, signed) {
		t.Fatal("BytesSigned changed the tensor")
	}
	var s signature.Signature
	if err := s.UnmarshalBinary(info.Signature); err != nil {
		t.Fatal(err)
	}
	if s.Box != image.Rect(0, 0, 120, 80) || s.Quality != 85 || s.Grey {
		t.Fatalf("signature: box %v quality %d grey %v", s.Box, s.Quality, s.Grey)
	}
	// No tensor: decode and sign only, the same signature.
	info2, err := p.BytesSigned(b.Bytes(), nil)
	if err != nil || !bytes.Equal(info2.Signature, info.Signature) {
		t.Fatalf("signature only: %v, same %v", err, bytes.Equal(info2.Signature, info.Signature))
	}
	if _, err := p.BytesSigned([]byte("not an image"), nil); err == nil {
		t.Fatal("garbage signed")
	}
}

func FuzzBytesSigned(f *testing.F) {
	for _, b := range seedImages(f) {
		f.Add(b)
	}
	p, err := NewPreparer(clipLike, Limits{MaxPixels: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := p.prepareSigned(b, nil)
		if err != nil {
			return
		}
		var s signature.Signature
		if err := s.UnmarshalBinary(info.Signature); err != nil {
			t.Fatalf("decoded image, unreadable signature: %v", err)
		}
		if s.Box.Empty() || s.Box.Max.X > info.Width || s.Box.Max.Y > info.Height {
			t.Fatalf("box %v outside %dx%d", s.Box, info.Width, info.Height)
		}
		jpegQuality(b)
	})
}
