package preprocess

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/embedsearch/embedsearch/models"
)

type reference struct {
	Image         string   `json:"image"`
	SHA256        string   `json:"sha256"`
	Mode          string   `json:"mode"`
	Resize        string   `json:"resize"`
	Size          int      `json:"size"`
	Crop          [2]int   `json:"crop"`
	Interpolation string   `json:"interpolation"`
	PadColor      [3]uint8 `json:"pad_color"`
	JPEGDraft     bool     `json:"jpeg_draft"`
	ReducingGap   float64  `json:"reducing_gap"`
	Offset        int      `json:"offset"`
	Length        int      `json:"length"`
}

func loadReferences(t *testing.T) ([]reference, []byte) {
	return loadReferenceFiles[reference](t, "reference")
}

// loadReferenceFiles reads a set of PIL references made by a generator in
// testdata: NAME.json (the entries, each naming its offset and length) and
// NAME.bin.gz (the pixels or tensors, back to back).
func loadReferenceFiles[T any](t *testing.T, name string) ([]T, []byte) {
	t.Helper()
	var index struct{ Entries []T }
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", name+".bin.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return index.Entries, blob
}

// TestMatchesPIL compares our pixels, before normalisation, with PIL's for
// each reference image and mode, once with each JPEG decoder:
//   - libjpeg-turbo (PIL's own library): JPEGs exactly, also at the
//     reduced scales of draft(); Adobe CMYK files go to image/jpeg.
//   - image/jpeg: at least 99.9% of values within 2/255 and a mean
//     absolute difference under 0.5/255, except for draft(), which it
//     cannot do: its stand-in (a box filter by the same scale) is held to
//     draftWithoutTolerance.
//
// Lossless formats are exact with either.
func TestMatchesPIL(t *testing.T) {
	data := sharedData(t)
	refs, blob := loadReferences(t)
	if len(refs) == 0 {
		t.Fatal("no references")
	}
	for _, lib := range []bool{true, false} {
		name := "image-jpeg"
		if lib {
			name = "libjpeg-turbo"
		}
		t.Run(name, func(t *testing.T) {
			useJPEGLibrary(t, lib)
			for _, r := range refs {
				t.Run(r.Image+"/"+r.Mode, func(t *testing.T) { matchPIL(t, data, r, blob, lib) })
			}
		})
	}
}

// draftWithoutTolerance bounds how far the stand-in for draft() without
// libjpeg-turbo may be from PIL's draft(), for the references: the worst
// measured (the sharp 11-megapixel poster at 64x64) is 91.0% of values
// within 2/255 and a mean absolute difference of 0.70/255.
var draftWithoutTolerance = struct{ within2, mae float64 }{0.90, 1.0}

// useJPEGLibrary makes the test decode JPEGs with libjpeg-turbo (skipping
// when it is not installed) or with image/jpeg, and puts the process's
// choice back afterwards.
func useJPEGLibrary(t *testing.T, lib bool) {
	t.Helper()
	turboMu.Lock()
	saved, savedWhy, savedDone := turbo, turboWhy, turboDone
	turboMu.Unlock()
	t.Cleanup(func() {
		turboMu.Lock()
		turbo, turboWhy, turboDone = saved, savedWhy, savedDone
		turboMu.Unlock()
	})
	spec := "off"
	if lib {
		spec = ""
	}
	if err := UseJPEGLibrary(spec); err != nil {
		t.Skipf("libjpeg-turbo not installed (Debian: apt-get install libturbojpeg0): %v", err)
	}
}

func matchPIL(t *testing.T, data string, r reference, blob []byte, lib bool) {
	file, err := os.ReadFile(filepath.Join(data, r.Image))
	if err != nil {
		t.Fatal(err)
	}
	if raceEnabled && (r.JPEGDraft || r.ReducingGap > 0) && (!lib || isCMYKJPEG(file)) {
		t.Skip("image/jpeg decodes these large photos 15 times slower under -race; the run without -race checks them")
	}
	sum := sha256.Sum256(file)
	if hex.EncodeToString(sum[:]) != r.SHA256 {
		t.Fatalf("%s changed since the references were made; rerun testdata/gen_reference.py", r.Image)
	}
	p, err := NewPreparer(models.Preprocess{
		Resize: r.Resize, Size: r.Size, Crop: r.Crop, Interpolation: r.Interpolation,
		Rescale: 1, Mean: [3]float64{}, Std: [3]float64{1, 1, 1}, PadColor: r.PadColor,
		JPEGDraft: r.JPEGDraft, ReducingGap: r.ReducingGap,
	}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// The path Preparer.Bytes takes (JPEGs converted row by row).
	img, info, err := p.decode(file, true)
	if err != nil {
		t.Fatal(err)
	}
	got := p.pixels(img, info.Width, info.Height)
	// The path Decode takes (a full RGB image) must give the same.
	full, _, err := p.decode(file, false)
	if err != nil {
		t.Fatal(err)
	}
	if other := p.pixels(full, info.Width, info.Height); !bytes.Equal(other.pix, got.pix) {
		t.Errorf("row-by-row and full-image paths differ: %v", compare(other.pix, got.pix))
	}
	want := blob[r.Offset : r.Offset+r.Length]
	if got.w != r.Crop[1] || got.h != r.Crop[0] || len(got.pix) != len(want) {
		t.Fatalf("got %dx%d (%d values), want %dx%d (%d values)", got.w, got.h, len(got.pix), r.Crop[1], r.Crop[0], len(want))
	}
	st := compare(got.pix, want)
	t.Log(st)
	jpegLib := info.Format == FormatJPEG && lib && !isCMYKJPEG(file)
	switch {
	case info.Format != FormatJPEG && info.Format != FormatWebP, jpegLib:
		// Decoded to PIL's exact pixels, so any difference would come from
		// the resampler, which is a port.
		if st.max != 0 {
			t.Errorf("%s: differs from PIL: %v", info.Format, st)
		}
	case info.Format == FormatJPEG && r.JPEGDraft:
		if st.within2 < draftWithoutTolerance.within2 || st.mae >= draftWithoutTolerance.mae {
			t.Errorf("draft() stand-in differs from PIL's draft() beyond tolerance: %v", st)
		}
	case st.within2 < 0.999 || st.mae >= 0.5:
		t.Errorf("differs from PIL beyond tolerance: %v", st)
	}
}

// isCMYKJPEG reports whether an Adobe APP14 marker says the JPEG holds
// CMYK or YCCK (4 components), which libjpeg-turbo leaves to image/jpeg.
func isCMYKJPEG(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 64<<10)], []byte("Adobe")) && jpegComponents(data) == 4
}

// jpegComponents is the component count of the first SOF marker, 0 if
// none is found.
func jpegComponents(data []byte) int {
	for i := 2; i+9 < len(data); {
		if data[i] != 0xff {
			return 0
		}
		m := data[i+1]
		n := int(data[i+2])<<8 | int(data[i+3])
		if m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc {
			return int(data[i+9])
		}
		i += 2 + n
	}
	return 0
}

type diffStats struct {
	within2, mae float64
	max          int
	exact        float64
}

func (s diffStats) String() string {
	return fmt.Sprintf("within 2/255: %.4f%%, exact: %.2f%%, mean abs diff: %.4f/255, max: %d/255", 100*s.within2, 100*s.exact, s.mae, s.max)
}

func compare(got, want []uint8) diffStats {
	var s diffStats
	var sum, in2, exact int
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d < 0 {
			d = -d
		}
		sum += d
		if d <= 2 {
			in2++
		}
		if d == 0 {
			exact++
		}
		s.max = max(s.max, d)
	}
	n := float64(len(got))
	s.within2, s.exact, s.mae = float64(in2)/n, float64(exact)/n, float64(sum)/n
	return s
}
