package preprocess

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/internal/testenv"
	"github.com/embedsearch/embedsearch/models"
)

// bmpReference is one entry of testdata/bmp_reference.json, written by
// testdata/gen_bmp_reference.py: PIL's convert("RGB") bytes of a BMP.
type bmpReference struct {
	Image          string `json:"image"` // testdata/... here, else under ../shared/data
	SHA256         string `json:"sha256"`
	Width, Height  int
	Offset, Length int
}

// bmpPixels decodes data both ways the package does, Decode's full image
// and the rows Preparer.Bytes resamples from, and returns the RGB bytes of
// each.
func bmpPixels(t *testing.T, data []byte) (full, lazy []uint8, info Info) {
	t.Helper()
	m, info, err := Decode(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := decodeRows(data, Limits{}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	rgb := func(row []uint8, w int) (out []uint8) {
		for x := 0; x < w; x++ {
			out = append(out, row[4*x:4*x+3]...)
		}
		return out
	}
	img := m.(*image.RGBA)
	w, h := r.size()
	if w != img.Rect.Dx() || h != img.Rect.Dy() {
		t.Fatalf("rows are %dx%d, Decode's image %v", w, h, img.Rect)
	}
	for y := 0; y < h; y++ {
		full = append(full, rgb(img.Pix[y*img.Stride:], w)...)
		lazy = append(lazy, rgb(r.row(y, 0, w), w)...)
	}
	return full, lazy, info
}

// TestBMPMatchesPIL decodes 32-bit BMPs, ours in testdata/bmp (header,
// mask and row-order variants) and all of pngsuite's (BITMAPV5 with a gap
// before the pixels), and requires PIL's pixels exactly.
func TestBMPMatchesPIL(t *testing.T) {
	entries, blob := loadReferenceFiles[bmpReference](t, "bmp_reference")
	pngsuite := 0
	for _, ref := range entries {
		if strings.HasPrefix(ref.Image, "pngsuite/") {
			pngsuite++
		}
		t.Run(ref.Image, func(t *testing.T) {
			path := ref.Image
			if !strings.HasPrefix(path, "testdata/") {
				path = filepath.Join(testenv.SharedData(t, filepath.Dir(ref.Image)), filepath.Base(ref.Image))
			}
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(file); hex.EncodeToString(sum[:]) != ref.SHA256 {
				t.Fatalf("%s changed since the references were made; rerun testdata/gen_bmp_reference.py", ref.Image)
			}
			full, lazy, info := bmpPixels(t, file)
			if info.Format != FormatBMP || info.Width != ref.Width || info.Height != ref.Height {
				t.Fatalf("info %+v, PIL says %dx%d", info, ref.Width, ref.Height)
			}
			want := blob[ref.Offset : ref.Offset+ref.Length]
			if !bytes.Equal(full, want) {
				t.Errorf("Decode differs from PIL: %v", compare(full, want))
			}
			if !bytes.Equal(lazy, want) {
				t.Errorf("rows differ from PIL: %v", compare(lazy, want))
			}
		})
	}
	if pngsuite != 161 {
		t.Errorf("references cover %d of pngsuite's 161 BMPs", pngsuite)
	}
}

// bmpFile builds a 32-bit BMP of w×len(px)/w pixels, given as stored
// little-endian values in display order. masks go into the header (after
// it for a 40-byte header with bit fields); gap bytes separate the headers
// from the pixels.
func bmpFile(infoLen int, compression uint32, masks []uint32, w int, px []uint32, topDown bool, gap int) []byte {
	h := len(px) / w
	info := make([]byte, infoLen)
	le := binary.LittleEndian
	le.PutUint32(info[0:], uint32(infoLen))
	le.PutUint32(info[4:], uint32(w))
	le.PutUint32(info[8:], uint32(h))
	if topDown {
		le.PutUint32(info[8:], uint32(-h))
	}
	le.PutUint16(info[12:], 1)
	le.PutUint16(info[14:], 32)
	le.PutUint32(info[16:], compression)
	var extra []byte
	for i, m := range masks {
		if infoLen >= 40+4*(i+1) {
			le.PutUint32(info[40+4*i:], m)
		} else {
			extra = le.AppendUint32(extra, m)
		}
	}
	off := 14 + infoLen + len(extra) + gap
	out := []byte("BM")
	out = le.AppendUint32(out, uint32(off+4*len(px)))
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, uint32(off))
	out = append(append(append(out, info...), extra...), make([]byte, gap)...)
	for y := 0; y < h; y++ {
		row := y
		if !topDown {
			row = h - 1 - y
		}
		for _, p := range px[row*w : (row+1)*w] {
			out = le.AppendUint32(out, p)
		}
	}
	return out
}

// TestBMPBitFields reads masks and headers PIL refuses, as browsers show
// them: wide channels keep their top 8 bits, narrow ones are scaled.
func TestBMPBitFields(t *testing.T) {
	for _, c := range []struct {
		name        string
		infoLen     int
		compression uint32
		masks       []uint32
		px          []uint32
		want        []uint8 // RGB
	}{
		{"10-10-10-2", 124, 3, []uint32{0x3ff00000, 0xffc00, 0x3ff, 0xc0000000},
			[]uint32{0x3ff<<20 | 0x200<<10 | 0x001, 0x0ff<<20 | 0x3fc<<10 | 0x3ff}, []uint8{255, 128, 0, 63, 255, 255}},
		{"5-6-5", 108, 3, []uint32{0xf800, 0x7e0, 0x1f, 0},
			[]uint32{0x1f<<11 | 32<<5 | 1, 1<<11 | 63<<5 | 30}, []uint8{255, 130, 8, 8, 255, 247}},
		{"no green", 56, 3, []uint32{0xff0000, 0, 0xff, 0}, []uint32{0x11223344, 0xffffffff}, []uint8{0x22, 0, 0x44, 255, 0, 255}},
		{"bmpsuite g/rgb32bf layout", 40, 3, []uint32{0xff000000, 0xff0, 0xff0000},
			[]uint32{0x12345678}, []uint8{0x12, 0x67, 0x34}},
		{"header of 52", 52, 3, []uint32{0xff, 0xff00, 0xff0000}, []uint32{0x00a0b0c0}, []uint8{0xc0, 0xb0, 0xa0}},
		{"BI_ALPHABITFIELDS", 40, 6, []uint32{0xff00, 0xff0000, 0xff000000, 0xff}, []uint32{0x10203040}, []uint8{0x30, 0x20, 0x10}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, topDown := range []bool{false, true} {
				full, lazy, _ := bmpPixels(t, bmpFile(c.infoLen, c.compression, c.masks, len(c.px), c.px, topDown, 3))
				if !bytes.Equal(full, c.want) || !bytes.Equal(lazy, c.want) {
					t.Errorf("top-down %v: Decode %v, rows %v, want %v", topDown, full, lazy, c.want)
				}
			}
		})
	}
}

// TestBMPRefused: malformed 32-bit BMPs fail with the right sentinel and a
// reason, on both decoding paths; the pixel cap is checked before the
// file's length, as for every format.
func TestBMPRefused(t *testing.T) {
	valid := bmpFile(124, 3, []uint32{0xff0000, 0xff00, 0xff, 0xff000000}, 2, []uint32{1, 2, 3, 4}, false, 12)
	bf40 := bmpFile(40, 3, []uint32{0xff0000, 0xff00, 0xff}, 2, []uint32{1, 2, 3, 4}, false, 0)
	set := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	for _, c := range []struct {
		name string
		data []byte
		want error
		says string
	}{
		{"last byte missing", valid[:len(valid)-1], ErrCorrupt, "truncated"},
		{"masks after the header cut", bf40[:60], ErrCorrupt, "truncated"},
		{"offset inside the headers", set(valid, 10, 100), ErrCorrupt, "inside the 138 bytes of headers"},
		{"offset past the end", set(valid, 10, uint32(len(valid)+1)), ErrCorrupt, "truncated"},
		{"offset near 4 GiB", set(valid, 10, math.MaxUint32), ErrCorrupt, "truncated"},
		{"width 0", set(valid, 18, 0), ErrCorrupt, "0x2 pixels"},
		{"negative width", set(valid, 18, uint32(0xfffffffb)), ErrCorrupt, "-5x2 pixels"},
		{"height 0", set(valid, 22, 0), ErrCorrupt, "2x0 pixels"},
		{"huge and short", set(set(valid, 18, 100_000), 22, 100_000), ErrTooLarge, "megapixels, over the limit of"},
		{"most negative height", set(set(valid, 18, 1<<30), 22, 1<<31), ErrTooLarge, "megapixels, over the limit of"},
		{"widest row", set(valid, 18, math.MaxInt32), ErrTooLarge, "megapixels, over the limit of"},
		{"mask not one run of bits", set(valid, 54, 0xff00ff), ErrUnsupported, "red mask 0x00ff00ff"},
		{"RLE", set(valid, 30, 1), ErrUnsupported, "bmp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Decode(c.data, Limits{})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("Decode: %v, want %v saying %q", err, c.want, c.says)
			}
			_, _, err = decodeRows(c.data, Limits{}, nil, true)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("rows: %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
	if _, _, err := Decode(valid, Limits{}); err != nil {
		t.Fatalf("the unmutated file: %v", err)
	}
}

// TestBMPSuite32 decodes the 32-bit files of Jason Summers' BMP Suite
// (pillow-test-images), most of which PIL refuses: each shows the same
// picture as the suite's own reference, html/rgb24.png, except that the
// rgba files have a transparency demo where rgb24 is white: red pixels of
// falling alpha and green (0,255,0) ones under alpha 0, whose stored
// colours convert("RGB") keeps.
func TestBMPSuite32(t *testing.T) {
	dir := testenv.SharedData(t, "pillow-test-images", "images", "bmp")
	png, err := os.ReadFile(filepath.Join(dir, "html", "rgb24.png"))
	if err != nil {
		t.Fatal(err)
	}
	ref, _, err := Decode(png, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := ref.(*image.RGBA).Pix
	for _, name := range []string{"g/rgb32.bmp", "g/rgb32bf.bmp", "q/rgb32bf-xbgr.bmp", "q/rgb32fakealpha.bmp",
		"q/rgb32h52.bmp", "q/rgba32.bmp", "q/rgba32abf.bmp", "q/rgba32h56.bmp", "q/rgb32-111110.bmp"} {
		t.Run(name, func(t *testing.T) {
			file, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := Decode(file, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := img.(*image.RGBA).Pix
			if len(got) != len(want) {
				t.Fatalf("decoded %v, reference %v", img.Bounds(), ref.Bounds())
			}
			// rgb32-111110 has 11-11-10-bit channels; the suite's writer
			// scaled them from 8 bits, so the top 8 bits may be 1 low.
			tol := 0
			if strings.Contains(name, "111110") {
				tol = 1
			}
			demo := 0
			for i := 0; i < len(got); i += 4 {
				if strings.Contains(name, "rgba") && bytes.Equal(want[i:i+3], []uint8{255, 255, 255}) &&
					(bytes.Equal(got[i:i+3], []uint8{0, 255, 0}) || bytes.Equal(got[i:i+3], []uint8{255, 0, 0})) {
					demo++
					continue
				}
				if st := compare(got[i:i+3], want[i:i+3]); st.max > tol {
					t.Fatalf("pixel %d is %v, html/rgb24.png has %v", i/4, got[i:i+3], want[i:i+3])
				}
			}
			if strings.Contains(name, "rgba") && demo != 416 {
				t.Errorf("%d pixels of the transparency demo, want 416", demo)
			}
		})
	}
}

func FuzzBMP(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bmp/*.bmp")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(bmpFile(40, 6, []uint32{0xff00, 0xff0000, 0xff000000, 0xff}, 3, []uint32{1, 2, 3, 4, 5, 6}, true, 0))
	f.Add(bmpFile(124, 3, []uint32{0x3ff00000, 0xffc00, 0x3ff, 0}, 1, []uint32{7, 8}, false, 5))
	p, err := NewPreparer(models.Preprocess{
		Resize: models.ResizeShortestCrop, Size: 9, Crop: [2]int{8, 8}, Interpolation: models.InterpBicubic,
		Rescale: 1.0 / 255, Std: [3]float64{1, 1, 1},
	}, Limits{MaxPixels: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = append([]byte("BM"), data...)
		// Unguarded, so that a panic in our own decoder fails the fuzzer.
		b, err := parseBMP32(data)
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error outside the sentinels: %v", err)
		}
		if b != nil && int64(b.w)*int64(b.h) <= 1<<16 && b.checkLength() == nil {
			m := b.rgba()
			for y := 0; y < b.h; y++ {
				row := b.row(y, 0, b.w)
				if !bytes.Equal(row[:4*b.w], m.Pix[y*m.Stride:][:4*b.w]) {
					t.Fatalf("row %d differs from the full image", y)
				}
			}
		}
		dst := make([]float32, p.TensorLen())
		if _, err := p.prepare(data, dst); err != nil && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error outside the sentinels: %v", err)
		}
	})
}

// BenchmarkBMP32 prepares a 3-megapixel 32-bit BMP, usual (BGRX) and
// 10-bit masks, read row by row from the file's bytes.
func BenchmarkBMP32(b *testing.B) {
	const w, h = 2000, 1500
	px := make([]uint32, w*h)
	for i := range px {
		px[i] = uint32(i) * 2654435761
	}
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, p.TensorLen())
	for _, c := range []struct {
		name  string
		masks []uint32
	}{
		{"bgrx", []uint32{0xff0000, 0xff00, 0xff, 0}},
		{"10bit", []uint32{0x3ff00000, 0xffc00, 0x3ff, 0}},
	} {
		file := bmpFile(124, 3, c.masks, w, px, false, 12)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(file)))
			for range b.N {
				if _, err := p.Bytes(file, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
