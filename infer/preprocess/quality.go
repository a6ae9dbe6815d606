package preprocess

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/embedsearch/embedsearch/signature"
)

// stdLuminance is the JPEG standard's luminance quantisation table (Annex
// K), in natural order; IJG libjpeg scales it by quality.
var stdLuminance = [64]float64{
	16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
	14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
	18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
	49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
}

// compression is how hard the file was compressed, as signature.Quality
// says it: for a JPEG the IJG quality its luminance table is closest to
// (1..100), lossless formats signature.QualityLossless, else unknown.
func compression(format string, data []byte) int {
	switch format {
	case FormatJPEG:
		return jpegQuality(data)
	case FormatPNG, FormatBMP, FormatTIFF, FormatGIF:
		// GIF's palette may have lost colours, but nothing a re-encode
		// at another quality would lose again.
		return signature.QualityLossless
	case FormatWebP:
		if webpLossless(data) {
			return signature.QualityLossless
		}
	}
	return signature.QualityUnknown
}

// jpegQuality estimates the quality a JPEG was saved at from its first
// luminance quantisation table (table 0): the IJG scale factor that maps
// the standard table to it (a least-squares ratio, before rounding), turned
// back into a quality. Tables that are not scaled standard ones (a camera's
// own) get the quality whose tables are as coarse on average. 0 when the
// file has no readable table.
func jpegQuality(data []byte) int {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return signature.QualityUnknown
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return signature.QualityUnknown
		}
		marker := data[i+1]
		if marker == 0xff {
			i++
			continue
		}
		if marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7) {
			i += 2
			continue
		}
		if marker == 0xda || marker == 0xd9 {
			return signature.QualityUnknown
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return signature.QualityUnknown
		}
		if marker == 0xdb { // DQT: one or more tables
			seg := data[i+4 : i+2+n]
			for len(seg) > 0 {
				precision, id := seg[0]>>4, seg[0]&15
				size := 64 << precision
				if precision > 1 || len(seg) < 1+size {
					return signature.QualityUnknown
				}
				if id == 0 {
					return qualityOf(seg[1:1+size], precision == 1)
				}
				seg = seg[1+size:]
			}
		}
		i += 2 + n
	}
	return signature.QualityUnknown
}

// zigzag[k] is the natural-order index of the k-th value of a table as a
// JPEG file stores it.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

func qualityOf(table []byte, wide bool) int {
	// Values at the top of their range were clamped there (low qualities
	// scale most of the table past 255): they say nothing of the scale.
	top := 255.0
	if wide {
		top = 32767
	}
	var num, den float64
	for k := range 64 {
		q := float64(table[k])
		if wide {
			q = float64(binary.BigEndian.Uint16(table[2*k:]))
		}
		if q >= top {
			continue
		}
		s := stdLuminance[zigzag[k]]
		num += q * s
		den += s * s
	}
	if den == 0 {
		return 1 // every value clamped: as coarse as a table gets
	}
	scale := 100 * num / den // IJG: q = (s·scale + 50) / 100
	var quality float64
	switch {
	case scale <= 0:
		return signature.QualityUnknown
	case scale <= 100:
		quality = (200 - scale) / 2
	default:
		quality = 5000 / scale
	}
	return int(min(100, max(1, math.Round(quality))))
}

// webpLossless reports whether a WebP file's image is VP8L (lossless).
func webpLossless(data []byte) bool {
	return len(data) >= 16 && (string(data[12:16]) == "VP8L" ||
		(string(data[12:16]) == "VP8X" && bytes.Contains(data[16:min(len(data), 4096)], []byte("VP8L"))))
}
