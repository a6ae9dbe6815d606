package signature

import (
	"image"
	"math"
)

// Side is the side of the luma thumbnail, ChromaSide of the chroma ones.
const (
	Side       = 32
	ChromaSide = 16
)

// Compression levels beside a JPEG quality estimate (1..100).
const (
	QualityUnknown  = 0
	QualityLossless = 101
)

// Signature is what index keeps of each image for dedup: a thumbnail of
// its real pixels, for a second look at a candidate pair, and what the
// keeper is chosen by.
type Signature struct {
	// Box is the image's real pixels: the displayed image less uniform
	// borders, in displayed pixels.
	Box image.Rectangle
	// Grey: the image has (next to) no colour.
	Grey bool
	// Quality is the JPEG quality estimate from the quantisation tables
	// (1..100), QualityLossless for lossless formats, QualityUnknown else.
	Quality int
	// Sharpness is the energy of one-pixel luma differences over that of
	// two-pixel differences (0..~1; a blur lowers it).
	Sharpness float32
	// Luma is the Box region squashed to Side×Side, row-major; Chroma its
	// Cb then Cr planes (B−Y, R−Y halved, +128) at ChromaSide×ChromaSide.
	Luma   [Side * Side]uint8
	Chroma [2 * ChromaSide * ChromaSide]uint8
}

// RealPixels is the area of Box.
func (s *Signature) RealPixels() int64 { return int64(s.Box.Dx()) * int64(s.Box.Dy()) }

// Apart is how far two images' pixels are as they stand, with no
// alignment: the RMS difference of their luma and chroma thumbnails (each a
// share of the full range) plus how much their real pixels' shapes differ
// (|log| of the ratio of aspect ratios). Re-encodes of one picture are
// next to 0 apart; every edit (a turn, a mirror, a squash, a colour change,
// a caption) moves a copy away from its source. Among copies of one
// picture, the source is the one least apart from the others.
func Apart(a, b *Signature) float64 {
	rms := func(x, y []uint8) float64 {
		var s float64
		for i := range x {
			d := float64(x[i]) - float64(y[i])
			s += d * d
		}
		return math.Sqrt(s/float64(len(x))) / 255
	}
	shape := 0.0
	if a.Box.Dx() > 0 && a.Box.Dy() > 0 && b.Box.Dx() > 0 && b.Box.Dy() > 0 {
		ra := float64(a.Box.Dx()) / float64(a.Box.Dy())
		rb := float64(b.Box.Dx()) / float64(b.Box.Dy())
		shape = math.Abs(math.Log(ra / rb))
	}
	return rms(a.Luma[:], b.Luma[:]) + rms(a.Chroma[:], b.Chroma[:]) + shape
}
