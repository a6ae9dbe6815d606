package preprocess

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/models"
)

// TestDraftScale checks the scale choice against PIL's draft() rule:
// floor division of each side by 4 times the target, then the largest of
// 8, 4, 2 not above the smaller quotient.
func TestDraftScale(t *testing.T) {
	for _, c := range []struct{ w, h, tw, th, want int }{
		{4000, 3000, 64, 64, 8},     // 62, 46 → 8
		{4000, 3000, 298, 224, 2},   // 3, 3 → 2
		{3000, 4000, 224, 298, 2},   // the same turned
		{1280, 1024, 90, 72, 2},     // 3, 3 → 2
		{2047, 2047, 64, 64, 4},     // 7, 7 → 4
		{2048, 2048, 64, 64, 8},     // 8, 8 → 8
		{511, 4000, 64, 64, 1},      // 1 on the short side
		{300, 200, 64, 64, 1},       // small photo: full size
		{4000, 3000, 4000, 3000, 1}, // no downscale at all
	} {
		if got := draftScale(c.w, c.h, c.tw, c.th); got != c.want {
			t.Errorf("draftScale(%d, %d, %d, %d) = %d, want %d", c.w, c.h, c.tw, c.th, got, c.want)
		}
	}
}

// TestJPEGLibraryChoice: a library that cannot be loaded is an error and
// leaves image/jpeg in use, saying why; "off" disables the library; JPEGs
// decode either way.
func TestJPEGLibraryChoice(t *testing.T) {
	useJPEGLibrary(t, false)
	data := smallJPEG(t)
	err := UseJPEGLibrary(filepath.Join(t.TempDir(), "libturbojpeg.so.0"))
	if err == nil {
		t.Fatal("a missing library loaded")
	}
	d := JPEGDecoder()
	if d.Library || !strings.Contains(d.Why, "libturbojpeg.so.0") || !strings.HasPrefix(d.String(), "Go image/jpeg") {
		t.Errorf("after a failed load: %+v (%s)", d, d)
	}
	if _, _, err := Decode(data, Limits{}); err != nil {
		t.Errorf("decode without the library: %v", err)
	}
	if err := UseJPEGLibrary("off"); err != nil {
		t.Fatal(err)
	}
	if d := JPEGDecoder(); d.Library || d.Why != "libjpeg-turbo disabled" {
		t.Errorf("off: %+v", d)
	}
	if err := UseJPEGLibrary(""); err != nil {
		t.Skipf("libjpeg-turbo not installed (Debian: apt-get install libturbojpeg0): %v", err)
	}
	if d := JPEGDecoder(); !d.Library || d.Path == "" || !strings.HasPrefix(d.String(), "libjpeg-turbo (") {
		t.Errorf("default: %+v", d)
	}
	if _, _, err := Decode(data, Limits{}); err != nil {
		t.Errorf("decode with the library: %v", err)
	}
}

// TestJPEGLibraryDamagedFiles: a file libjpeg-turbo warns about or cannot
// read goes to image/jpeg, so that it fails (or is read) exactly as it is
// without the library.
func TestJPEGLibraryDamagedFiles(t *testing.T) {
	data := smallJPEG(t)
	cases := map[string][]byte{
		"truncated":   data[:len(data)/2],
		"no EOI":      data[:len(data)-2],
		"bad huffman": append(append([]byte{}, data[:len(data)-100]...), bytes.Repeat([]byte{0xff, 0x00}, 48)...),
		"header only": data[:600],
	}
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	results := map[bool]map[string]string{}
	for _, lib := range []bool{false, true} {
		t.Run(map[bool]string{false: "image-jpeg", true: "libjpeg-turbo"}[lib], func(t *testing.T) {
			useJPEGLibrary(t, lib)
			results[lib] = map[string]string{}
			for name, b := range cases {
				_, err := p.Bytes(b, make([]float32, p.TensorLen()))
				results[lib][name] = errString(err)
			}
		})
	}
	if len(results[true]) == 0 {
		return // skipped: no library
	}
	for name := range cases {
		if results[true][name] != results[false][name] {
			t.Errorf("%s: with libjpeg-turbo %q, without %q", name, results[true][name], results[false][name])
		}
	}
	if !strings.Contains(results[true]["truncated"], ErrCorrupt.Error()) {
		t.Errorf("truncated: %q, want %v", results[true]["truncated"], ErrCorrupt)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestJPEGDraftSizes: with jpeg_draft a 12-megapixel JPEG is decoded at
// 1/8 for a 64x64 target and at 1/2 for a 224 crop; Info keeps the
// displayed size; without jpeg_draft it is decoded at full size.
func TestJPEGDraftSizes(t *testing.T) {
	useJPEGLibrary(t, true)
	m := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	for i := range m.Pix {
		m.Pix[i] = uint8(i / 4001)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	squash := models.Preprocess{Resize: models.ResizeSquash, Size: 64, Crop: [2]int{64, 64}, Interpolation: models.InterpBicubic,
		Rescale: 1, Std: [3]float64{1, 1, 1}}
	for _, c := range []struct {
		name     string
		p        models.Preprocess
		draft    bool
		wantW    int
		wantInfo int
	}{
		{"squash64", squash, true, 500, 4000},
		{"clip224", clipLike, true, 2000, 4000},
		{"no draft", squash, false, 4000, 4000},
	} {
		c.p.JPEGDraft = c.draft
		p, err := NewPreparer(c.p, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		r, info, err := p.decode(buf.Bytes(), true)
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := r.size(); w != c.wantW || info.Width != c.wantInfo {
			t.Errorf("%s: decoded %d wide (Info %d), want %d (Info %d)", c.name, w, info.Width, c.wantW, c.wantInfo)
		}
	}
}

func smallJPEG(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedData(t), "caltech101-neardup", "dups", "g0000", "original.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil {
		t.Fatal(errors.Join(errors.New("not a JPEG"), err))
	}
	return data
}
