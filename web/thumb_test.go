package web

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"testing"

	"golang.org/x/image/draw"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/testenv"
)

// BenchmarkThumb12MP: a thumbnail of a 12-MP camera photo from a
// reduced-scale decode (makeThumb, what serve does) against the same from
// a full decode (the peer). $THUMB_PHOTO names a JPEG to use instead of
// making one (for timing whole runs: see README).
func BenchmarkThumb12MP(b *testing.B) {
	path := os.Getenv("THUMB_PHOTO")
	if path == "" {
		paths, err := testenv.MakePhotos12MP(testenv.SharedData(b), b.TempDir(), 1)
		if err != nil {
			b.Fatal(err)
		}
		path = paths[0]
	}
	photo, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("reduced", func(b *testing.B) {
		for b.Loop() {
			if _, err := makeThumb(photo, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			img, _, err := preprocess.Decode(photo, preprocess.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			r := img.Bounds()
			w, h := ThumbSize, r.Dy()*ThumbSize/r.Dx()
			dst := image.NewRGBA(image.Rect(0, 0, w, h))
			draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, r, draw.Src, nil)
			jpeg.Encode(&bytes.Buffer{}, dst, &jpeg.Options{Quality: 82})
		}
	})
}
