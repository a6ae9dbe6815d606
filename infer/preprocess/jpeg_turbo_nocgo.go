//go:build !cgo

package preprocess

import (
	"errors"
	"image"
)

// turboLib is never loaded in a build without cgo: libjpeg-turbo is a C
// library.
type turboLib struct{ path string }

func openTurbo(string) (*turboLib, error) {
	return nil, errors.New("built without cgo: install a C compiler (gcc) and rebuild")
}

func (*turboLib) decode([]byte, int) (*image.RGBA, error) { return nil, errTurboSkip }
