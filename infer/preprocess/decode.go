package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Format names reported in Info.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatGIF  = "gif"
	FormatBMP  = "bmp"
	FormatTIFF = "tiff"
	FormatWebP = "webp"
)

// sniff names the format of data from its first bytes. For formats this
// package does not decode it returns "" and a description for the error.
func sniff(data []byte) (format, other string) {
	has := func(off int, magic string) bool {
		return len(data) >= off+len(magic) && string(data[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\xff\xd8\xff"):
		return FormatJPEG, ""
	case has(0, "\x89PNG\r\n\x1a\n"):
		return FormatPNG, ""
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return FormatGIF, ""
	case has(0, "BM"):
		return FormatBMP, ""
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		if isTIFFRaw(data) {
			return FormatRAW, ""
		}
		return FormatTIFF, ""
	case has(0, "IIRO"), has(0, "IIRS"), has(0, "MMOR"), has(0, "IIU\x00"), has(0, "FUJIFILMCCD-RAW"):
		return FormatRAW, "" // ORF, RW2, RAF
	case has(0, "RIFF") && has(8, "WEBP"):
		return FormatWebP, ""
	case has(4, "ftyp") && isoFormat(data) != "":
		return isoFormat(data), "" // HEIF, AVIF, CR3
	case has(0, "II\x2b\x00"), has(0, "MM\x00\x2b"):
		return "", "BigTIFF"
	case has(0, "8BPS"):
		return "", "Photoshop PSD"
	case has(0, "\x00\x00\x01\x00"):
		return "", "ICO"
	case has(0, "\x00\x00\x00\x0cjP  "), has(0, "\xff\x4f\xff\x51"):
		return "", "JPEG 2000"
	case has(0, "%PDF"):
		return "", "PDF"
	case has(0, "%!PS"), has(0, "\xc5\xd0\xd3\xc6"):
		return "", "PostScript"
	case has(0, "<svg"), has(0, "<?xml"):
		return "", "SVG/XML"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL "):
		return "", "JPEG XL"
	case has(0, "BLP"):
		return "", "BLP"
	case len(data) == 0:
		return "", "empty file"
	}
	return "", "unknown format"
}

// Decode sniffs the format of data from its content (never a file name),
// refuses images whose header declares more than lim's pixel cap before
// decoding any pixel, decodes the image (the first frame of a GIF), converts
// it to RGB as PIL's convert("RGB") does and applies the EXIF orientation.
// The returned image is an opaque *image.RGBA with Bounds().Min at (0,0).
// A failure is an error, never a panic.
func Decode(data []byte, lim Limits) (_ image.Image, info Info, err error) {
	defer func() {
		if r := recover(); r != nil { // safety net, as in Preparer.Bytes
			err = fmt.Errorf("%w: internal error decoding image (please report): %v", ErrCorrupt, r)
		}
	}()
	img, info, err := decodeRGB(data, lim, nil)
	if err != nil {
		return nil, info, err
	}
	return img, info, nil
}

// target gives the size an image displayed at w×h will be resampled to.
type target func(w, h int) (int, int)

// draftMargin is how many times larger than the resample target, on both
// sides, a JPEG decoded at reduced scale stays.
const draftMargin = 4

// draftScale is the scale 1/s at which PIL's draft("RGB", (m·tw, m·th))
// decodes a w×h JPEG, m being draftMargin and tw×th the resample target:
// the largest of 8, 4 and 2 that divides neither side below m times the
// target (by floor division, as PIL does), else 1. Turning both the image
// and the target by 90° gives the same scale.
func draftScale(w, h, tw, th int) int {
	s := min(w/(draftMargin*max(tw, 1)), h/(draftMargin*max(th, 1)))
	for _, d := range []int{8, 4, 2} {
		if s >= d {
			return d
		}
	}
	return 1
}

// decodeRGB is Decode without the image.Image interface in the way. With a
// target and lim.jpegDraft, a JPEG may come back smaller than Info's size.
func decodeRGB(data []byte, lim Limits, tgt target) (*image.RGBA, Info, error) {
	r, info, err := decodeRows(data, lim, tgt, false)
	if err != nil {
		return nil, info, err
	}
	return r.(rgbaRows).m, info, nil
}

// decodeRows decodes data for resampling. With lazy set, a JPEG that needs
// no transposing orientation stays in the decoder's YCbCr planes and is
// converted row by row as the resampler reads it, which saves converting
// (and holding) a full RGBA copy of a large photo.
func decodeRows(data []byte, lim Limits, tgt target, lazy bool) (img rows, info Info, err error) {
	format, other := sniff(data)
	if format == "" {
		return nil, info, fmt.Errorf("%w: %s", ErrUnsupported, other)
	}
	info.Format = format
	switch format {
	case FormatHEIF, FormatAVIF:
		m, info, err := decodeHEIF(data, format, lim, tgt)
		if err != nil {
			return nil, info, err
		}
		return rgbaRows{m}, info, nil
	case FormatRAW:
		return decodeRAW(data, lim, tgt, lazy)
	}
	cfg, err := decodeConfig(format, data)
	if err != nil {
		return nil, info, err
	}
	if err := checkPixels(cfg.Width, cfg.Height, lim); err != nil {
		return nil, info, err
	}
	switch format {
	case FormatWebP:
		if err := checkWebP(data); err != nil {
			return nil, info, err
		}
	case FormatGIF:
		// The first frame may claim to be larger than the screen that
		// DecodeConfig reports (PIL grows the image to fit it).
		if fw, fh, _, ok := gifFirstFrame(data); ok {
			if err := checkPixels(max(fw, cfg.Width), max(fh, cfg.Height), lim); err != nil {
				return nil, info, err
			}
		}
	}
	ex := readMeta(format, data)
	info.Orientation = ex.Orientation
	info.Taken, info.Make, info.Model, info.GPS = ex.Taken, ex.Make, ex.Model, ex.GPS

	if format == FormatBMP {
		// A 32-bit BMP (the header was validated above) is read straight
		// from the file's bytes; BMP has no EXIF, so nothing to orient.
		if b, _ := parseBMP32(data); b != nil {
			if err := b.checkLength(); err != nil {
				return nil, info, err
			}
			info.Width, info.Height = b.w, b.h
			if lazy {
				return b, info, nil
			}
			return rgbaRows{b.rgba()}, info, nil
		}
	}
	if format == FormatJPEG {
		if t, _ := loadedTurbo(); t != nil {
			dw, dh := cfg.Width, cfg.Height
			if info.Orientation >= 5 {
				dw, dh = dh, dw
			}
			denom := 1
			if tgt != nil && lim.jpegDraft {
				tw, th := tgt(dw, dh)
				denom = draftScale(dw, dh, tw, th)
			}
			if rgb, err := t.decode(data, denom); err == nil {
				info.Width, info.Height = dw, dh
				return rgbaRows{orient(rgb, info.Orientation)}, info, nil
			}
		}
	}
	src, err := decodePixels(format, data)
	if err != nil {
		return nil, info, err
	}
	if format == FormatGIF {
		src = gifCanvas(src, data, cfg.Width, cfg.Height)
	}
	b := src.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		// GIF frames may be smaller than the screen; every other decoder
		// must agree with its own header.
		if format != FormatGIF || !b.In(image.Rect(0, 0, cfg.Width, cfg.Height)) {
			return nil, info, fmt.Errorf("%w: %s decoded %dx%d, header says %dx%d", ErrCorrupt, format, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
		}
	}
	if m, ok := src.(*image.YCbCr); ok && lazy && format == FormatJPEG && info.Orientation <= 4 {
		if r := newYCbCrRows(m, info.Orientation); r != nil {
			info.Width, info.Height = cfg.Width, cfg.Height
			return draftWithout(r, format, lim, tgt), info, nil
		}
	}
	rgb := orient(toRGBA(src, format, cfg.Width, cfg.Height), info.Orientation)
	info.Width, info.Height = rgb.Rect.Dx(), rgb.Rect.Dy()
	return draftWithout(rgbaRows{rgb}, format, lim, tgt), info, nil
}

// draftWithout stands in for draft() when libjpeg-turbo cannot decode a
// JPEG (absent, or a CMYK file): the full-size image box-filtered by the
// scale the library would have used. At 1/8 DCT scaling gives each 8×8
// block's mean, so this comes close (measured in README) and makes the
// resample as cheap.
func draftWithout(r rows, format string, lim Limits, tgt target) rows {
	if format != FormatJPEG || !lim.jpegDraft || tgt == nil {
		return r
	}
	w, h := r.size()
	tw, th := tgt(w, h)
	if s := draftScale(w, h, tw, th); s > 1 {
		return rgbaRows{reduce(r, s, s)}
	}
	return r
}

func checkPixels(w, h int, lim Limits) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: header declares %dx%d pixels", ErrCorrupt, w, h)
	}
	if int64(w)*int64(h) > lim.maxPixels() {
		return fmt.Errorf("%w: %dx%d is %.1f megapixels, over the limit of %.1f",
			ErrTooLarge, w, h, float64(w)*float64(h)/1e6, float64(lim.maxPixels())/1e6)
	}
	return nil
}

// guard runs a third-party decoder, turning a panic into ErrCorrupt.
func guard[T any](format string, f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("%w: %s decoder failed: %v", ErrCorrupt, format, r)
		}
	}()
	v, err = f()
	if err != nil {
		err = classify(format, err)
	}
	return v, err
}

// classify wraps a decoder error in ErrUnsupported (a valid file using a
// feature the decoder lacks) or ErrCorrupt, without the decoder's own
// "png: " style prefix.
func classify(format string, err error) error {
	if errors.Is(err, ErrUnsupported) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooLarge) {
		return err // our own decoders' errors (bmp.go) come classified
	}
	msg := err.Error()
	for {
		p, rest, ok := strings.Cut(msg, ": ")
		if !ok || !slices.Contains([]string{"jpeg", "png", "gif", "bmp", "tiff", "webp", "vp8", "vp8l", "ccitt", "lzw"}, p) {
			break
		}
		msg = rest
	}
	var (
		jpegU jpeg.UnsupportedError
		pngU  png.UnsupportedError
		tiffU tiff.UnsupportedError
	)
	switch {
	case errors.As(err, &jpegU), errors.As(err, &pngU), errors.As(err, &tiffU), errors.Is(err, bmp.ErrUnsupported):
		return fmt.Errorf("%w: %s: %s", ErrUnsupported, format, msg)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %s: truncated file", ErrCorrupt, format)
	}
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, format, msg)
}

func decodeConfig(format string, data []byte) (image.Config, error) {
	return guard(format, func() (image.Config, error) {
		r := bytes.NewReader(data)
		switch format {
		case FormatJPEG:
			return jpeg.DecodeConfig(r)
		case FormatPNG:
			return png.DecodeConfig(r)
		case FormatGIF:
			return gif.DecodeConfig(r)
		case FormatBMP:
			if b, err := parseBMP32(data); b != nil || err != nil {
				if err != nil {
					return image.Config{}, err
				}
				return b.config(), nil
			}
			return bmp.DecodeConfig(r)
		case FormatTIFF:
			return tiff.DecodeConfig(r)
		case FormatWebP:
			return webp.DecodeConfig(r)
		}
		return image.Config{}, fmt.Errorf("no decoder for %s", format)
	})
}

func decodePixels(format string, data []byte) (image.Image, error) {
	return guard(format, func() (image.Image, error) {
		r := bytes.NewReader(data)
		switch format {
		case FormatJPEG:
			return jpeg.Decode(r)
		case FormatPNG:
			return png.Decode(r)
		case FormatGIF:
			return gif.Decode(r)
		case FormatBMP:
			return bmp.Decode(r)
		case FormatTIFF:
			return tiff.Decode(r)
		case FormatWebP:
			return webp.Decode(r)
		}
		return nil, fmt.Errorf("no decoder for %s", format)
	})
}

// checkWebP refuses WebP variants the decoder cannot read, with a reason
// instead of the decoder's generic "invalid format".
func checkWebP(data []byte) error {
	// RIFF header (12 bytes), then chunks: fourcc, little-endian size, data.
	if len(data) >= 30 && string(data[12:16]) == "VP8X" {
		const animationBit = 1 << 1
		if data[20]&animationBit != 0 {
			return fmt.Errorf("%w: animated WebP", ErrUnsupported)
		}
	}
	return nil
}

// gifFirstFrame scans a GIF file up to its first image descriptor and
// returns the frame's right and bottom edges and the colour table the frame
// uses (its local table, else the global one) as stored in the file.
func gifFirstFrame(data []byte) (right, bottom int, table []byte, ok bool) {
	i := 13
	if len(data) < i {
		return 0, 0, nil, false
	}
	if flags := data[10]; flags&0x80 != 0 {
		n := 3 << (1 + flags&7)
		if i+n <= len(data) {
			table = data[i : i+n]
		}
		i += n
	}
	for i < len(data) {
		switch data[i] {
		case 0x21: // extension: label, then sub-blocks until a zero length
			i += 2
			for i < len(data) && data[i] != 0 {
				i += 1 + int(data[i])
			}
			i++
		case 0x2c: // image descriptor
			if i+10 > len(data) {
				return 0, 0, nil, false
			}
			u16 := func(o int) int { return int(data[o]) | int(data[o+1])<<8 }
			if flags := data[i+9]; flags&0x80 != 0 {
				n := 3 << (1 + flags&7)
				table = nil
				if i+10+n <= len(data) {
					table = data[i+10 : i+10+n]
				}
			}
			return u16(i+1) + u16(i+5), u16(i+3) + u16(i+7), table, true
		default:
			return 0, 0, nil, false
		}
	}
	return 0, 0, nil, false
}

// gifCanvas makes the first frame of a GIF look as PIL shows it: the
// stored colour of the transparent palette entry is put back (image/gif
// replaces it with transparent black), and a frame smaller than the screen
// is placed on a screen filled with the transparent index, or index 0.
func gifCanvas(img image.Image, data []byte, w, h int) image.Image {
	m, ok := img.(*image.Paletted)
	if !ok {
		return img
	}
	_, _, table, ok := gifFirstFrame(data)
	if !ok {
		return img
	}
	pal := append(color.Palette(nil), m.Palette...)
	bg := uint8(0)
	for i, c := range pal {
		if _, _, _, a := c.RGBA(); a == 0 && 3*i+2 < len(table) {
			pal[i] = color.RGBA{table[3*i], table[3*i+1], table[3*i+2], 255}
			bg = uint8(i)
		}
	}
	m.Palette = pal
	full := image.Rect(0, 0, w, h)
	if m.Rect == full || !m.Rect.In(full) {
		return m
	}
	canvas := image.NewPaletted(full, pal)
	for i := range canvas.Pix {
		canvas.Pix[i] = bg
	}
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		copy(canvas.Pix[canvas.PixOffset(m.Rect.Min.X, y):], m.Pix[m.PixOffset(m.Rect.Min.X, y):m.PixOffset(m.Rect.Max.X, y)])
	}
	return canvas
}
