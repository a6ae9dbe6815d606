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
}

// otherImageExts are image formats Decode does not read, by extension: a
// walk counts them as unsupported rather than as "not images", and a query
// argument with such a name is a file, not text.
var otherImageExts = map[string]string{
	".heic": "HEIC", ".heif": "HEIF", ".avif": "AVIF", ".jxl": "JPEG XL", ".jp2": "JPEG 2000",
	".psd": "PSD", ".svg": "SVG", ".ico": "ICO",
	".dng": "DNG", ".cr2": "CR2", ".cr3": "CR3", ".nef": "NEF", ".arw": "ARW", ".orf": "ORF",
	".rw2": "RW2", ".raf": "RAF",
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
