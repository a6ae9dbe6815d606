package preprocess

import (
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needLibheif skips a test when libheif cannot be loaded (scripts/test.sh
// installs it; TestHEIFWithoutLibheif covers its absence).
func needLibheif(t *testing.T) {
	t.Helper()
	if _, err := HEIFDecoder(); err != nil {
		t.Skipf("libheif is needed (Debian: apt-get install libheif1): %v", err)
	}
}

func readHEIF(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "heif", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decodeFixture(t *testing.T, name string) (*image.RGBA, Info) {
	t.Helper()
	img, info, err := Decode(readHEIF(t, name), Limits{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img.(*image.RGBA), info
}

// meanAbsDiff is the mean absolute difference of the RGB values of two
// images of one size.
func meanAbsDiff(t *testing.T, a, b *image.RGBA) float64 {
	t.Helper()
	if a.Rect != b.Rect {
		t.Fatalf("sizes %v and %v", a.Rect, b.Rect)
	}
	sum := 0
	for i := range a.Pix {
		if i%4 == 3 {
			continue
		}
		d := int(a.Pix[i]) - int(b.Pix[i])
		sum += max(d, -d)
	}
	return float64(sum) / float64(len(a.Pix)/4*3)
}

// TestHEIFDecodes: a HEIC, an AVIF and a grid-tiled HEIC (2×2 tiles, as
// phones write them) made from one picture decode to it, within lossy
// coding's error.
func TestHEIFDecodes(t *testing.T) {
	needLibheif(t)
	f, err := os.Open(filepath.Join("testdata", "heif", "src.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srcImg, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	src := toRGBA(srcImg, "", 256, 192)
	for _, c := range []struct {
		name, format string
		maxDiff      float64
	}{
		{"photo.heic", FormatHEIF, 2},
		{"grid.heic", FormatHEIF, 2},
		{"photo.avif", FormatAVIF, 4},
	} {
		img, info := decodeFixture(t, c.name)
		if info.Format != c.format || info.Width != 256 || info.Height != 192 {
			t.Errorf("%s: info %+v", c.name, info)
		}
		if d := meanAbsDiff(t, img, src); d > c.maxDiff {
			t.Errorf("%s: mean difference from the source %.2f/255, want <= %v", c.name, d, c.maxDiff)
		} else {
			t.Logf("%s: mean difference from the source %.2f/255", c.name, d)
		}
	}
}

// TestHEIFTransforms: the same tiles with irot and imir on the grid item
// decode to the plain grid turned and mirrored accordingly (exactly: the
// coded tiles are the same bytes). irot turns anti-clockwise; imir 0
// mirrors top to bottom, 1 left to right (ISO/IEC 23008-12:2022, where
// the 2017 edition's "axis" was ambiguous; libheif and libavif agree);
// irot comes first.
func TestHEIFTransforms(t *testing.T) {
	needLibheif(t)
	plain, _ := decodeFixture(t, "grid.heic")
	for _, c := range []struct {
		name   string
		orient []int // EXIF orientations applied in turn to the plain grid
	}{
		{"grid-irot1.heic", []int{8}},          // 90° anti-clockwise
		{"grid-imir0.heic", []int{4}},          // top to bottom
		{"grid-irot3-imir1.heic", []int{6, 2}}, // 90° clockwise, then left to right
	} {
		want := plain
		for _, o := range c.orient {
			want = orient(want, o)
		}
		got, info := decodeFixture(t, c.name)
		if info.Width != want.Rect.Dx() || info.Height != want.Rect.Dy() {
			t.Errorf("%s: info %dx%d, want %v", c.name, info.Width, info.Height, want.Rect)
			continue
		}
		if d := meanAbsDiff(t, got, want); d != 0 {
			t.Errorf("%s: differs from the transformed grid by %.2f/255 on average", c.name, d)
		}
	}
}

// TestHEIFThumbnail: with a resample target and reduced-scale decoding
// allowed (the manifest's jpeg_draft), the embedded 64×48 thumbnail is
// decoded when it is at least 4× the target on both sides, else the
// primary image; Info always gives the primary image's size. Without the
// permission, and in Decode (no target), the primary image is decoded.
func TestHEIFThumbnail(t *testing.T) {
	needLibheif(t)
	data := readHEIF(t, "photo.heic")
	for _, c := range []struct {
		tw, th int
		draft  bool
		want   image.Point
	}{
		{16, 12, true, image.Pt(64, 48)},
		{16, 12, false, image.Pt(256, 192)},
		{17, 12, true, image.Pt(256, 192)},
		{224, 168, true, image.Pt(256, 192)},
	} {
		r, info, err := decodeRows(data, Limits{jpegDraft: c.draft}, func(w, h int) (int, int) { return c.tw, c.th }, true)
		if err != nil {
			t.Fatal(err)
		}
		if w, h := r.size(); image.Pt(w, h) != c.want || info.Width != 256 || info.Height != 192 {
			t.Errorf("target %dx%d, draft %v: decoded %dx%d (info %dx%d), want %v (info 256x192)", c.tw, c.th, c.draft, w, h, info.Width, info.Height, c.want)
		}
	}
}

// TestHEIFLimitsAndDamage: the pixel cap holds before decoding, and a
// truncated or damaged file is ErrCorrupt, never a crash.
func TestHEIFLimitsAndDamage(t *testing.T) {
	needLibheif(t)
	data := readHEIF(t, "grid.heic")
	if _, _, err := Decode(data, Limits{MaxPixels: 256*192 - 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the pixel cap: %v, want ErrTooLarge", err)
	}
	for n := 16; n < len(data); n += len(data) / 40 {
		if _, _, err := Decode(data[:n], Limits{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
	bad := append([]byte(nil), data...)
	for i := len(bad) - 4000; i < len(bad); i += 7 {
		bad[i] ^= 0x5a
	}
	Decode(bad, Limits{}) // damaged coded data: any outcome but a crash
}

// TestHEIFWithoutLibheif: where libheif cannot be loaded, a HEIC or AVIF
// fails on its own with ErrUnsupported and ErrNoLibheif, naming libheif.
// Runs in a child process whose EMBEDSEARCH_LIBHEIF names no library.
func TestHEIFWithoutLibheif(t *testing.T) {
	if os.Getenv("EMBEDSEARCH_TEST_HEIF_CHILD") == "1" {
		for _, name := range []string{"photo.heic", "photo.avif"} {
			_, info, err := Decode(readHEIF(t, name), Limits{})
			if !errors.Is(err, ErrUnsupported) || !errors.Is(err, ErrNoLibheif) || !strings.Contains(err.Error(), "libheif") {
				t.Errorf("%s without libheif: %v, want ErrUnsupported and ErrNoLibheif", name, err)
			}
			if info.Format == "" {
				t.Errorf("%s: format not reported", name)
			}
		}
		if _, err := HEIFDecoder(); !errors.Is(err, ErrNoLibheif) {
			t.Errorf("HEIFDecoder: %v", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHEIFWithoutLibheif$", "-test.count=1")
	cmd.Env = append(os.Environ(), "EMBEDSEARCH_TEST_HEIF_CHILD=1", LibheifEnv+"="+filepath.Join(t.TempDir(), "libheif.so.1"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
