package copies

import (
	"image"
	"image/color"
	"math/rand/v2"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var captionWords = []string{"(c)", "2019", "2024", "holiday", "summer", "IMG_4031", "family", "trip",
	"photo", "by", "Anna", "Tom", "www.example.com", "best", "day", "ever", "copyright", "12/08"}

// caption draws two to four random words, share of the image height tall
// (smaller when they would not fit its width), at a random place in the
// image, in a random colour, half of the time over a black shadow. The
// letters are the 7×13 bitmap font enlarged bilinearly, as captioning apps
// and screenshots show them.
func caption(m *image.RGBA, share float64, rng *rand.Rand) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	words := make([]string, 2+rng.IntN(3))
	for i := range words {
		words[i] = captionWords[rng.IntN(len(captionWords))]
	}
	text := strings.Join(words, " ")
	col := randColour(rng)
	shadow := rng.IntN(2) == 0

	face := basicfont.Face7x13
	glyphs := image.NewAlpha(image.Rect(0, 0, face.Advance*len(text), face.Height))
	d := font.Drawer{Dst: glyphs, Src: image.Opaque, Face: face, Dot: fixed.P(0, face.Ascent)}
	d.DrawString(text)

	s := share * float64(h) / float64(face.Height)
	s = min(s, float64(w)/float64(glyphs.Rect.Dx()))
	tw, th := px(float64(glyphs.Rect.Dx())*s), px(float64(face.Height)*s)
	mask := image.NewAlpha(image.Rect(0, 0, tw, th))
	draw.BiLinear.Scale(mask, mask.Rect, glyphs, glyphs.Rect, draw.Src, nil)

	at := image.Pt(rng.IntN(max(1, w-tw)), rng.IntN(max(1, h-th)))
	if shadow {
		off := max(1, th/12)
		r := mask.Rect.Add(at).Add(image.Pt(off, off))
		draw.DrawMask(m, r, image.NewUniform(color.RGBA{0, 0, 0, 255}), image.Point{}, mask, image.Point{}, draw.Over)
	}
	draw.DrawMask(m, mask.Rect.Add(at), image.NewUniform(col), image.Point{}, mask, image.Point{}, draw.Over)
}
