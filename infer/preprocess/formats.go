package preprocess

import (
	"path/filepath"
	"strings"
)

// imageExts are the file name extensions of the formats Decode reads: the
// one table by which walks take files (index, embed) and a query argument
// is told from text. Choosing by name keeps an unchanged re-index at one
// lstat per file; sniffing content would add an open and a read for every
// file. Decode itself never looks at names.
var imageExts = map[string]string{
	".jpg": FormatJPEG, ".jpeg": FormatJPEG, ".jpe": FormatJPEG, ".jfif": FormatJPEG,
	".png": FormatPNG, ".gif": FormatGIF, ".bmp": FormatBMP,
	".tif": FormatTIFF, ".tiff": FormatTIFF, ".webp": FormatWebP,
	".heic": FormatHEIF, ".heif": FormatHEIF, ".hif": FormatHEIF, ".avif": FormatAVIF,
	".dng": FormatRAW, ".cr2": FormatRAW, ".cr3": FormatRAW, ".nef": FormatRAW, ".nrw": FormatRAW,
	".arw": FormatRAW, ".orf": FormatRAW, ".rw2": FormatRAW, ".raf": FormatRAW,
}

// Formats decoded through a library or a preview (see heif.go, raw.go).
const (
	FormatHEIF = "heif" // HEIC and other HEIF images, through libheif
	FormatAVIF = "avif" // through libheif
	FormatRAW  = "raw"  // a camera RAW's largest embedded JPEG preview
)

// otherImageExts are image formats Decode does not read, by extension: a
// walk counts them as unsupported rather than as "not images", and a query
// argument with such a name is a file, not text.
var otherImageExts = map[string]string{
	".jxl": "JPEG XL", ".jp2": "JPEG 2000", ".psd": "PSD", ".svg": "SVG", ".ico": "ICO",
	".pef": "PEF", ".srw": "SRW", ".x3f": "X3F", ".3fr": "3FR", ".iiq": "IIQ", ".rwl": "RWL",
}

// UnsupportedImageName names the image format a file name announces when
// Decode does not read it ("HEIC", "CR2"...), else "".
func UnsupportedImageName(name string) string {
	return otherImageExts[strings.ToLower(filepath.Ext(name))]
}

// IsImageName reports whether a file with this name is taken as an image
// by a walk.
func IsImageName(name string) bool {
	_, ok := imageExts[strings.ToLower(filepath.Ext(name))]
	return ok
}

// Sniff names the format of an image from its first bytes (16 are enough),
// "" when Decode does not read it.
func Sniff(head []byte) string {
	f, _ := sniff(head)
	return f
}
