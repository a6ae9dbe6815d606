package preprocess

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/models"
)

// clipLike is a typical CLIP-style preprocessing block.
var clipLike = models.Preprocess{
	Resize: models.ResizeShortestCrop, Size: 224, Crop: [2]int{224, 224},
	Interpolation: models.InterpBicubic, Rescale: 1.0 / 255,
	Mean: [3]float64{0.48145466, 0.4578275, 0.40821073},
	Std:  [3]float64{0.26862954, 0.26130258, 0.27577711},
}

// TestOrientationGroups: the nine files of each exif-orientation group show
// the same picture stored in the 8 EXIF orientations (and none), so after
// orientation their tensors must agree and the reported orientation must be
// the labelled one. Each file was JPEG-encoded separately, so the tensors
// are not identical: PIL's own tensors for these files have cosines of
// 0.993 to 0.998 with the group's first file (ours are the same to 4
// digits); the embedding's cosine >= 0.999 is checked where the model runs.
// As a control, ignoring the orientation must visibly break the agreement.
func TestOrientationGroups(t *testing.T) {
	dir := filepath.Join(sharedData(t), "exif-orientation")
	labels := readLabels(t, filepath.Join(dir, "labels.tsv"))
	groups, err := os.ReadFile(filepath.Join(dir, "groups.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	lines := strings.Split(strings.TrimSpace(string(groups)), "\n")
	if raceEnabled {
		lines = lines[:1] // one group of 9 full-size photos is enough under -race
	}
	for _, line := range lines {
		files := strings.Split(line, "\t")
		if len(files) != 9 {
			t.Fatalf("group %q: %d files, want 9", line, len(files))
		}
		var first []float32
		var firstInfo Info
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			img, info, err := decodeRGB(data, Limits{}, nil)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			v := make([]float32, p.TensorLen())
			if err := p.Image(img, v); err != nil {
				t.Fatal(err)
			}
			// Preparer.Bytes converts JPEGs with orientations 1-4 row by
			// row; it must give exactly the full-image path's tensor.
			lazy := make([]float32, p.TensorLen())
			if _, err := p.Bytes(data, lazy); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(lazy, v) {
				t.Errorf("%s: Bytes and Image paths differ (orientation %d)", f, info.Orientation)
			}
			want, _ := strconv.Atoi(labels[f])
			if info.Orientation != want {
				t.Errorf("%s: orientation %d, want %d", f, info.Orientation, want)
			}
			if first == nil {
				first, firstInfo = v, info
				continue
			}
			if info.Width != firstInfo.Width || info.Height != firstInfo.Height {
				t.Errorf("%s: displayed size %dx%d, %s is %dx%d", f, info.Width, info.Height, files[0], firstInfo.Width, firstInfo.Height)
			}
			c := cosine(first, v)
			if c < 0.99 {
				t.Errorf("%s vs %s: cosine %.5f < 0.99", f, files[0], c)
			}
			// Control: the same image with its orientation undone.
			u := make([]float32, p.TensorLen())
			if err := p.Image(orient(img, undo[info.Orientation]), u); err != nil {
				t.Fatal(err)
			}
			cu := cosine(first, u)
			if info.Orientation >= 2 && cu > 0.95 {
				t.Errorf("%s: ignoring orientation %d still gives cosine %.4f: the test cannot tell orientations apart", f, info.Orientation, cu)
			}
			t.Logf("%s vs %s: cosine %.5f (orientation ignored: %.4f)", f, files[0], c, cu)
			n++
		}
	}
	if n == 0 {
		t.Fatal("no pairs compared")
	}
}

// TestOrientationWebP: the WebP EXIF chunk is read too; each rotated copy
// of hopper must match the JPEG with the same orientation after
// orientation is applied (different codecs, so a looser cosine).
func TestOrientationWebP(t *testing.T) {
	dir := filepath.Join(sharedData(t), "pillow-test-images", "images")
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for o := 2; o <= 8; o++ {
		var vecs [2][]float32
		for i, ext := range []string{"jpg", "webp"} {
			vecs[i] = make([]float32, p.TensorLen())
			info, err := p.File(filepath.Join(dir, "hopper_orientation_"+strconv.Itoa(o)+"."+ext), vecs[i])
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != o {
				t.Errorf("%s %d: orientation %d", ext, o, info.Orientation)
			}
		}
		if c := cosine(vecs[0], vecs[1]); c < 0.99 {
			t.Errorf("orientation %d: jpeg vs webp cosine %.4f", o, c)
		}
	}
}

// TestEXIFTags checks the descriptive tags against exiftool's reading of
// the same file (values copied from `exiftool -n`).
func TestEXIFTags(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sharedData(t), "pillow-test-images", "images", "ultrahdr.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	ex := readMeta(FormatJPEG, data)
	if ex.Make != "Google" || ex.Model != "Pixel 6" || ex.Orientation != 1 {
		t.Errorf("make %q model %q orientation %d", ex.Make, ex.Model, ex.Orientation)
	}
	want := time.Date(2024, 5, 7, 9, 33, 4, 0, time.FixedZone("", 8*3600))
	if !ex.Taken.Equal(want) {
		t.Errorf("taken %v, want %v", ex.Taken, want)
	}
	if ex.GPS == nil || math.Abs(ex.GPS.Lat-30.62765) > 1e-6 || math.Abs(ex.GPS.Lon-119.738766666667) > 1e-6 {
		t.Errorf("gps %+v", ex.GPS)
	}
	// The file's pixel data is cut short: Decode must say so yet still
	// not lose the reason.
	if _, _, err := Decode(data, Limits{}); err == nil {
		t.Error("truncated ultrahdr.jpg decoded")
	}
}

// TestParseEXIFHandmade covers byte orders, the SHORT/LONG forms and
// hostile offsets with a hand-built TIFF block.
func TestParseEXIFHandmade(t *testing.T) {
	for _, o := range []int{1, 3, 6, 8} {
		for _, big := range []bool{false, true} {
			b := tiffWithOrientation(big, o)
			if got := parseEXIF(b).Orientation; got != o {
				t.Errorf("big-endian %v orientation %d: got %d", big, o, got)
			}
		}
	}
	if got := parseEXIF(tiffWithOrientation(false, 9)).Orientation; got != 0 {
		t.Errorf("orientation 9 reported as %d, want 0 (ignored as PIL does)", got)
	}
	b := tiffWithOrientation(false, 6)
	b[4] = 0xf0 // IFD offset beyond the block
	if got := parseEXIF(b).Orientation; got != 0 {
		t.Errorf("bad IFD offset: orientation %d", got)
	}
}

func tiffWithOrientation(big bool, o int) []byte {
	le := func(v ...byte) []byte { return v }
	var b []byte
	if big {
		b = le('M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, 0, 0, 0, 0)
	} else {
		b = le('I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, byte(o), 0, 0, 0, 0, 0, 0, 0)
	}
	return b
}

// undo[o] is the orientation that reverses orientation o.
var undo = [9]int{0, 1, 2, 3, 4, 5, 8, 7, 6}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// TestOrientationTIFF: g4_orientation_N.tif store one bilevel picture in
// each orientation with the TIFF's own Orientation tag, so the displayed
// images must agree (the files were encoded separately: PIL's own loads of
// them agree on 99.74-99.83% of pixels). PIL 9.4's exif_transpose applies
// a TIFF's orientation a second time after its TIFF loader already did;
// we apply it once, so these files are not in the PIL reference set.
func TestOrientationTIFF(t *testing.T) {
	dir := filepath.Join(sharedData(t), "pillow-test-images", "images")
	var first *image.RGBA
	for o := 1; o <= 8; o++ {
		data, err := os.ReadFile(filepath.Join(dir, "g4_orientation_"+strconv.Itoa(o)+".tif"))
		if err != nil {
			t.Fatal(err)
		}
		img, info, err := decodeRGB(data, Limits{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Orientation != o {
			t.Errorf("orientation %d read as %d", o, info.Orientation)
		}
		if first == nil {
			first = img
			continue
		}
		if img.Rect != first.Rect {
			t.Errorf("orientation %d: displayed as %v, orientation 1 as %v", o, img.Rect, first.Rect)
			continue
		}
		same := 0
		for i := 0; i < len(img.Pix); i += 4 {
			if img.Pix[i] == first.Pix[i] {
				same++
			}
		}
		if frac := float64(same) / float64(len(img.Pix)/4); frac < 0.99 {
			t.Errorf("orientation %d: only %.2f%% of pixels agree with orientation 1", o, 100*frac)
		} else {
			t.Logf("orientation %d: %.2f%% of pixels agree with orientation 1", o, 100*frac)
		}
	}
}

// TestOrientationPNGText: PIL also takes the orientation from ImageMagick's
// "Raw profile type exif" text chunk and, failing EXIF, from XMP.
func TestOrientationPNGText(t *testing.T) {
	dir := filepath.Join(sharedData(t), "pillow-test-images", "images")
	for _, f := range []string{"exif_imagemagick_orientation.png", "xmp_tags_orientation.png"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if _, info, err := Decode(data, Limits{}); err != nil || info.Orientation != 3 {
			t.Errorf("%s: orientation %d (err %v), want 3 as exiftool and PIL read it", f, info.Orientation, err)
		}
	}
}
