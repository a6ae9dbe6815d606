package signature

import "image"

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
