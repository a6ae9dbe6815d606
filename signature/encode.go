package signature

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
)

// Format is the version of the binary form; Size its length.
//
//	version u8 (=1) | flags u8 (1: grey) | quality u8 | sharpness u16
//	(×10000, saturating) | box x0, y0, x1, y1 u32 | luma Side² u8 |
//	chroma 2·ChromaSide² u8
//
// All integers little-endian. The store keeps it as opaque bytes beside
// each entry, with its own checksum.
const (
	Format = 1
	Size   = 1 + 1 + 1 + 2 + 16 + Side*Side + 2*ChromaSide*ChromaSide
)

// ErrFormat: bytes that are not a signature this build reads.
var ErrFormat = errors.New("not a signature of a known format")

const flagGrey = 1

// MarshalBinary returns the Size-byte form of s.
func (s *Signature) MarshalBinary() ([]byte, error) { return s.Append(nil), nil }

// Append appends the binary form of s to b.
func (s *Signature) Append(b []byte) []byte {
	var flags byte
	if s.Grey {
		flags |= flagGrey
	}
	q := min(max(s.Quality, 0), 255)
	sh := math.Round(float64(s.Sharpness) * 10000)
	b = append(b, Format, flags, byte(q))
	b = binary.LittleEndian.AppendUint16(b, uint16(min(max(sh, 0), math.MaxUint16)))
	for _, v := range []int{s.Box.Min.X, s.Box.Min.Y, s.Box.Max.X, s.Box.Max.Y} {
		b = binary.LittleEndian.AppendUint32(b, uint32(min(max(v, 0), math.MaxUint32)))
	}
	b = append(b, s.Luma[:]...)
	return append(b, s.Chroma[:]...)
}

// UnmarshalBinary reads the form MarshalBinary writes: a known version,
// exactly Size bytes, a box that is a rectangle.
func (s *Signature) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != Format {
		return ErrFormat
	}
	if len(b) != Size {
		return fmt.Errorf("%w: %d bytes, want %d", ErrFormat, len(b), Size)
	}
	if b[1]&^flagGrey != 0 {
		return fmt.Errorf("%w: unknown flags %#x", ErrFormat, b[1])
	}
	var box [4]int
	for i := range box {
		v := binary.LittleEndian.Uint32(b[5+4*i:])
		if v > math.MaxInt32 {
			return fmt.Errorf("%w: box out of range", ErrFormat)
		}
		box[i] = int(v)
	}
	if box[2] < box[0] || box[3] < box[1] {
		return fmt.Errorf("%w: box is not a rectangle", ErrFormat)
	}
	*s = Signature{
		Grey:      b[1]&flagGrey != 0,
		Quality:   int(b[2]),
		Sharpness: float32(binary.LittleEndian.Uint16(b[3:])) / 10000,
		Box:       image.Rect(box[0], box[1], box[2], box[3]),
	}
	o := 21
	o += copy(s.Luma[:], b[o:])
	copy(s.Chroma[:], b[o:])
	return nil
}
