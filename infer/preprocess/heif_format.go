package preprocess

import (
	"encoding/binary"
	"errors"
)

// The parts of HEIF support that need no libheif, built with or without cgo
// (heif.go decodes through libheif; heif_nocgo.go says why it cannot).

// ErrNoLibheif: HEIC, HEIF and AVIF images are decoded by libheif, loaded
// at run time, and it could not be loaded. Such errors also wrap
// ErrUnsupported.
var ErrNoLibheif = errors.New("libheif not found")

// LibheifEnv names the environment variable that gives the path of the
// libheif shared library, overriding the search of the system's.
const LibheifEnv = "EMBEDSEARCH_LIBHEIF"

func heifName(format string) string {
	if format == FormatAVIF {
		return "AVIF"
	}
	return "HEIF"
}

// isoFormat names the format of an ISO base media file from the brands of
// its ftyp box: FormatAVIF, FormatHEIF, FormatRAW (Canon CR3) or "".
func isoFormat(data []byte) string {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return ""
	}
	size := int(binary.BigEndian.Uint32(data))
	if size < 16 || size > len(data) || size > 1024 {
		size = 16 // the major brand alone
	}
	isHEIF := false
	for i := 8; i+4 <= size; i += 4 {
		if i == 12 {
			continue // minor version
		}
		switch string(data[i : i+4]) {
		case "avif", "avis":
			return FormatAVIF
		case "crx ":
			return FormatRAW
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1":
			isHEIF = true
		}
	}
	if isHEIF {
		return FormatHEIF
	}
	return ""
}
