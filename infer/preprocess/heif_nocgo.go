//go:build !cgo

package preprocess

import (
	"fmt"
	"image"
)

// errNoCgoHEIF is why a build without cgo decodes no HEIF or AVIF: libheif
// is a C library.
var errNoCgoHEIF = fmt.Errorf("%w (built without cgo: install a C compiler (gcc) and rebuild)", ErrNoLibheif)

// HEIFDecoder names the decoder of HEIC and AVIF images, or says why there
// is none (ErrNoLibheif).
func HEIFDecoder() (string, error) { return "", errNoCgoHEIF }

func decodeHEIF(_ []byte, format string, _ Limits, _ target) (*image.RGBA, Info, error) {
	return nil, Info{Format: format}, fmt.Errorf("%w: %s: %w", ErrUnsupported, heifName(format), errNoCgoHEIF)
}
