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
// each reference image and mode: at least 99.9% of values within 2/255 and
// a mean absolute difference under 0.5/255.
func TestMatchesPIL(t *testing.T) {
	data := sharedData(t)
	refs, blob := loadReferences(t)
	if len(refs) == 0 {
		t.Fatal("no references")
	}
	for _, r := range refs {
		t.Run(r.Image+"/"+r.Mode, func(t *testing.T) {
			file, err := os.ReadFile(filepath.Join(data, r.Image))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(file)
			if hex.EncodeToString(sum[:]) != r.SHA256 {
				t.Fatalf("%s changed since the references were made; rerun testdata/gen_reference.py", r.Image)
			}
			p, err := NewPreparer(models.Preprocess{
				Resize: r.Resize, Size: r.Size, Crop: r.Crop, Interpolation: r.Interpolation,
				Rescale: 1, Mean: [3]float64{}, Std: [3]float64{1, 1, 1}, PadColor: r.PadColor,
			}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			// The path Preparer.Bytes takes (JPEGs converted row by row).
			img, info, err := decodeRows(file, Limits{}, p.target, true)
			if err != nil {
				t.Fatal(err)
			}
			got := p.pixels(img, info.Width, info.Height)
			// The path Decode takes (a full RGB image) must give the same.
			full, _, err := decodeRGB(file, Limits{}, p.target)
			if err != nil {
				t.Fatal(err)
			}
			if other := p.pixels(rgbaRows{full}, info.Width, info.Height); !bytes.Equal(other.pix, got.pix) {
				t.Errorf("row-by-row and full-image paths differ: %v", compare(other.pix, got.pix))
			}
			want := blob[r.Offset : r.Offset+r.Length]
			if got.w != r.Crop[1] || got.h != r.Crop[0] || len(got.pix) != len(want) {
				t.Fatalf("got %dx%d (%d values), want %dx%d (%d values)", got.w, got.h, len(got.pix), r.Crop[1], r.Crop[0], len(want))
			}
			st := compare(got.pix, want)
			t.Log(st)
			if st.within2 < 0.999 || st.mae >= 0.5 {
				t.Errorf("differs from PIL beyond tolerance: %v", st)
			}
			// Lossless formats decode to PIL's exact pixels, so any
			// difference would come from the resampler, which is a port.
			if info.Format != FormatJPEG && info.Format != FormatWebP && st.max != 0 {
				t.Errorf("%s: resampling differs from PIL: %v", info.Format, st)
			}
		})
	}
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
