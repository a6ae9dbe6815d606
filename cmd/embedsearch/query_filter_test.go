package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// exifJPEG writes a small JPEG whose EXIF names the camera's make and
// model (IFD0 tags 0x010f and 0x0110, little-endian TIFF).
func exifJPEG(t *testing.T, path string, shade uint8, camMake, model string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			img.Set(x, y, color.RGBA{uint8(x * 6), shade, uint8(y * 8), 255})
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	tiff = le.AppendUint16(tiff, 2)
	data := 8 + 2 + 2*12 + 4 // values too long to sit in their entry follow the IFD
	var extra []byte
	for _, tag := range []struct {
		id    uint16
		value string
	}{{0x010f, camMake}, {0x0110, model}} {
		v := append([]byte(tag.value), 0)
		tiff = le.AppendUint16(tiff, tag.id)
		tiff = le.AppendUint16(tiff, 2) // ASCII
		tiff = le.AppendUint32(tiff, uint32(len(v)))
		if len(v) <= 4 {
			tiff = append(tiff, append(v, make([]byte, 4-len(v))...)...)
		} else {
			tiff = le.AppendUint32(tiff, uint32(data+len(extra)))
			extra = append(extra, v...)
		}
	}
	tiff = append(le.AppendUint32(tiff, 0), extra...)
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	b := enc.Bytes()
	out := append([]byte{0xff, 0xd8, 0xff, 0xe1}, binary.BigEndian.AppendUint16(nil, uint16(len(app1)+2))...)
	out = append(append(out, app1...), b[2:]...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestQueryFilterExact: `query --filter` on a local store finds a camera
// make "A" (an English stopword to a text analyzer) and a model "IT ON" by
// any of its words, in any case, and a path, folder or name with a space
// by its quoted value; a quoted model is its words in that order.
func TestQueryFilterExact(t *testing.T) {
	dir := t.TempDir()
	mine, canon, other := filepath.Join(dir, "my photo.jpg"), filepath.Join(dir, "canon.jpg"), filepath.Join(dir, "y z", "IMG 2.JPG")
	exifJPEG(t, mine, 10, "A", "IT ON")
	exifJPEG(t, canon, 120, "Canon", "EOS 5D Mark II")
	exifJPEG(t, other, 240, "ON", "5D")
	s := filepath.Join(t.TempDir(), "store")
	if code, out, errs := embedCLI(t, "", "index", "--store", s, "--model", tinyModel, dir); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"make:A", []string{mine}},
		{"make:a model:on", []string{mine}},
		{"make:canon", []string{canon}},
		{"camera:ON", []string{mine, other}},
		{"-make:A", []string{canon, other}},
		{`model:"eos 5d"`, []string{canon}},
		{`model:"on it"`, nil},
		{`path:"` + mine + `"`, []string{mine}},
		{`name:"my photo.jpg"`, []string{mine}},
		{`name:"img 2.jpg"`, []string{other}},
		{`dir:"` + filepath.Dir(other) + `"`, []string{other}},
		{`-path:"` + mine + `" make:on`, []string{other}},
	} {
		code, out, errs := embedCLI(t, "", "query", "--store", s, "--paths", "-k", "10", "--filter", tc.filter, canon)
		if code != 0 {
			t.Errorf("--filter %s: exit %d: %s", tc.filter, code, errs)
			continue
		}
		var got []string
		if out != "" {
			got = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		}
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("--filter %s: got %q, want %q", tc.filter, got, want)
		}
	}
}
