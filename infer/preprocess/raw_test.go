package preprocess

import (
	"bytes"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/image/tiff"
)

// rawFixtures are testdata/raw's files (made by genraw.go) and the
// orientation each RAW's own tags give (0: none).
var rawFixtures = []struct {
	name        string
	orientation int
	make        string
}{
	{"orient6.dng", 6, "Testcam"},
	{"orient8.cr2", 8, "Canon"}, // its preview's own EXIF says 3: the RAW's tag wins
	{"plain.cr3", 0, ""},
	{"plain.nef", 1, "NIKON CORPORATION"},
	{"orient6.arw", 6, "SONY"},
	{"orient3.orf", 3, "OLYMPUS IMAGING CORP."},
	{"plain.rw2", 1, "Panasonic"},
	{"plain.raf", 0, ""},
}

func readRAW(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "raw", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRAWPreviewMatchesExiftool: the preview taken from each RAW is, byte
// for byte, the larger of what exiftool extracts as PreviewImage and as
// JpgFromRaw (never the thumbnail, never the lossless sensor data).
func TestRAWPreviewMatchesExiftool(t *testing.T) {
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		t.Skip("exiftool is the oracle of this test (Debian: apt-get install libimage-exiftool-perl)")
	}
	for _, f := range rawFixtures {
		path := filepath.Join("testdata", "raw", f.name)
		var want []byte
		wantPix := 0
		for _, tag := range []string{"-PreviewImage", "-JpgFromRaw"} {
			out, err := exec.Command(exiftool, "-b", tag, path).Output()
			if err != nil {
				t.Fatalf("exiftool %s %s: %v", tag, f.name, err)
			}
			if w, h, ok := jpegSize(out); ok && w*h > wantPix {
				want, wantPix = out, w*h
			}
		}
		if want == nil {
			t.Fatalf("%s: exiftool finds no preview", f.name)
		}
		got, _, err := rawPreview(readRAW(t, f.name))
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: preview of %d bytes, exiftool's has %d", f.name, len(got), len(want))
		}
	}
}

// TestRAWDecodes: each RAW decodes to its preview (testdata/raw/preview.jpg)
// turned as the RAW's own orientation tag says, with the RAW's Make.
func TestRAWDecodes(t *testing.T) {
	ref, _, err := Decode(readRAW(t, "preview.jpg"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rawFixtures {
		img, info, err := Decode(readRAW(t, f.name), Limits{})
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		want := orient(ref.(*image.RGBA), f.orientation)
		got := img.(*image.RGBA)
		if info.Format != FormatRAW || info.Make != f.make || info.Width != want.Rect.Dx() || info.Height != want.Rect.Dy() {
			t.Errorf("%s: info %+v, want format raw, make %q, %v", f.name, info, f.make, want.Rect)
			continue
		}
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%s: pixels differ from the preview in orientation %d", f.name, f.orientation)
		}
	}
}

// TestRAWSniff: RAWs are told from TIFF images by content, and a RAW
// without a JPEG preview is unsupported, not corrupt.
func TestRAWSniff(t *testing.T) {
	for _, f := range rawFixtures {
		if got, _ := sniff(readRAW(t, f.name)); got != FormatRAW {
			t.Errorf("%s sniffed as %q", f.name, got)
		}
	}
	tif := &bytes.Buffer{}
	if err := tiff.Encode(tif, image.NewRGBA(image.Rect(0, 0, 4, 4)), nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := sniff(tif.Bytes()); got != FormatTIFF {
		t.Errorf("a TIFF image sniffed as %q", got)
	}
	// The DNG without its preview: IFD0's thumbnail is no preview.
	dng := readRAW(t, "orient6.dng")
	p, _, _ := rawPreview(dng)
	i := bytes.Index(dng, p)
	noPreview := append([]byte(nil), dng...)
	copy(noPreview[i:], make([]byte, 4))
	if _, _, err := Decode(noPreview, Limits{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DNG without a preview: %v, want ErrUnsupported", err)
	}
}

func FuzzRAWPreview(f *testing.F) {
	for _, r := range rawFixtures {
		f.Add(readRAW(f, r.name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		isTIFFRaw(data)
		if p, _, err := rawPreview(data); err == nil {
			if _, _, ok := jpegSize(p); !ok {
				t.Fatal("a preview that is not a JPEG")
			}
		}
	})
}
