package preprocess

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math/bits"
)

// 32-bit BMP, read here rather than by golang.org/x/image/bmp, which
// refuses bit-field masks other than BGRA and any gap between the headers
// and the pixels (BITMAPV5 files written by Paint.NET and others have one).
// Other bit depths still go to x/image/bmp.
//
// Layout: a 14-byte file header ("BM", file size, reserved, pixel data
// offset), then a DIB header whose first 4 bytes give its length: 40
// (BITMAPINFOHEADER), 52 or 56 (Adobe's V2/V3), 108 (V4) or 124 (V5). With
// BI_BITFIELDS the red, green and blue masks follow a 40-byte header (with
// BI_ALPHABITFIELDS, a Windows CE variant, also the alpha mask) and are
// inside the longer ones. Rows are 4·width bytes, bottom-up unless the
// height is negative.
//
// Colour follows PIL: BI_RGB is BGRX (the fourth byte is ignored, even in
// a V5 file); BI_BITFIELDS takes each channel from its mask; all-zero masks
// mean BGRA. Alpha is never read, as convert("RGB") drops it. PIL accepts
// only the usual byte-aligned masks, 40/108/124-byte headers and no
// BI_ALPHABITFIELDS; here any mask that is one run of bits is read (a
// channel wider than 8 bits keeps its top 8, a narrower one is scaled to
// 0–255, a zero mask gives 0), as browsers show such files.

const (
	bmpFileHeaderLen = 14
	bmpInfoHeaderLen = 40
	bmpBIRGB         = 0
	bmpBIBitfields   = 3
	bmpBIAlphaFields = 6
)

// bmp32 reads the pixels of a validated 32-bit BMP row by row, straight
// from the file's bytes. Not safe for concurrent use (row reuses buf).
type bmp32 struct {
	data    []byte // the whole file; rows start at off
	w, h    int
	off     int
	topDown bool
	ch      [3]bmpChannel // red, green, blue
	bgrx    bool          // the usual masks: bytes B, G, R, unused
	buf     []uint8
}

// bmpChannel takes one colour channel out of a little-endian pixel.
type bmpChannel struct {
	mask  uint32
	shift int // of the mask's lowest bit
	width int // bits in the mask
}

func newBMPChannel(mask uint32) bmpChannel {
	if mask == 0 {
		return bmpChannel{}
	}
	shift := bits.TrailingZeros32(mask)
	return bmpChannel{mask: mask, shift: shift, width: bits.OnesCount32(mask)}
}

func (c bmpChannel) value(p uint32) uint8 {
	v := (p & c.mask) >> c.shift
	switch {
	case c.width >= 8:
		return uint8(v >> (c.width - 8))
	case c.width == 0:
		return 0
	}
	top := uint32(1)<<c.width - 1
	return uint8((v*255 + top/2) / top)
}

// parseBMP32 validates the headers of a 32-bit uncompressed or bit-field
// BMP. It returns nil, nil for any other BMP (left to x/image/bmp) and for
// files too short to say; errors wrap ErrCorrupt or ErrUnsupported. It
// reads only the headers; whether the file holds every row is
// checkLength's job, after the pixel cap has had its say.
func parseBMP32(data []byte) (*bmp32, error) {
	const fixed = bmpFileHeaderLen + bmpInfoHeaderLen
	if len(data) < fixed {
		return nil, nil
	}
	u32 := func(o int) uint32 { return binary.LittleEndian.Uint32(data[o:]) }
	infoLen := int(u32(14))
	switch infoLen {
	case 40, 52, 56, 108, 124:
	default:
		return nil, nil
	}
	bpp, compression := binary.LittleEndian.Uint16(data[28:]), u32(30)
	if bpp != 32 || (compression != bmpBIRGB && compression != bmpBIBitfields && compression != bmpBIAlphaFields) {
		return nil, nil
	}
	headers := bmpFileHeaderLen + infoLen
	switch {
	case compression == bmpBIBitfields && infoLen == bmpInfoHeaderLen:
		headers += 12 // the three masks follow the header
	case compression == bmpBIAlphaFields && infoLen == bmpInfoHeaderLen:
		headers += 16 // and the alpha mask
	}
	if len(data) < headers {
		return nil, fmt.Errorf("%w: bmp: truncated file", ErrCorrupt)
	}
	b := &bmp32{data: data, w: int(int32(u32(18))), h: int(int32(u32(22)))}
	if b.h < 0 {
		b.h, b.topDown = -b.h, true
	}
	if b.w <= 0 || b.h == 0 {
		return nil, fmt.Errorf("%w: bmp: header declares %dx%d pixels", ErrCorrupt, b.w, b.h)
	}
	masks := [3]uint32{0xff0000, 0xff00, 0xff}
	if compression != bmpBIRGB {
		m := [3]uint32{u32(54), u32(58), u32(62)}
		if m != [3]uint32{} { // PIL reads all-zero masks as BGRA
			masks = m
		}
	}
	for i, m := range masks {
		if run := m >> bits.TrailingZeros32(m); run&(run+1) != 0 {
			return nil, fmt.Errorf("%w: bmp: %s mask %#08x is not one run of bits", ErrUnsupported, [3]string{"red", "green", "blue"}[i], m)
		}
		b.ch[i] = newBMPChannel(m)
	}
	b.bgrx = masks == [3]uint32{0xff0000, 0xff00, 0xff}
	// An offset of 0 means the pixels follow the headers, as PIL reads it.
	b.off = int(u32(10))
	switch {
	case b.off == 0:
		b.off = headers
	case b.off < headers:
		return nil, fmt.Errorf("%w: bmp: pixel data offset %d is inside the %d bytes of headers", ErrCorrupt, b.off, headers)
	}
	return b, nil
}

// checkLength refuses a file that ends before its last row.
func (b *bmp32) checkLength() error {
	if b.off > len(b.data) || int64(len(b.data)-b.off)/(4*int64(b.w)) < int64(b.h) {
		return fmt.Errorf("%w: bmp: truncated file (%d bytes, %dx%d pixels from offset %d)", ErrCorrupt, len(b.data), b.w, b.h, b.off)
	}
	return nil
}

func (b *bmp32) config() image.Config {
	return image.Config{ColorModel: color.RGBAModel, Width: b.w, Height: b.h}
}

func (b *bmp32) size() (int, int) { return b.w, b.h }

func (b *bmp32) row(y, x0, x1 int) []uint8 {
	if b.buf == nil {
		b.buf = make([]uint8, 4*b.w)
	}
	b.convert(y, x0, x1, b.buf)
	return b.buf
}

// convert writes columns [x0, x1) of displayed row y as opaque RGBA into
// out, indexed from column 0.
func (b *bmp32) convert(y, x0, x1 int, out []uint8) {
	if !b.topDown {
		y = b.h - 1 - y
	}
	in := b.data[b.off+4*b.w*y:]
	out = out[:4*x1]
	if b.bgrx {
		for x := x0; x < x1; x++ {
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = in[4*x+2], in[4*x+1], in[4*x], 255
		}
		return
	}
	for x := x0; x < x1; x++ {
		p := binary.LittleEndian.Uint32(in[4*x:])
		out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = b.ch[0].value(p), b.ch[1].value(p), b.ch[2].value(p), 255
	}
}

// rgba converts the whole image, for Decode.
func (b *bmp32) rgba() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, b.w, b.h))
	for y := 0; y < b.h; y++ {
		b.convert(y, 0, b.w, m.Pix[y*m.Stride:])
	}
	return m
}
