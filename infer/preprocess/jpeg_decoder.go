package preprocess

import (
	"errors"
	"os"
	"sync"
)

// LibJPEGName is the TurboJPEG library (libjpeg-turbo) looked up by the
// dynamic loader when no path is given.
const LibJPEGName = "libturbojpeg.so.0"

// LibJPEGEnv names the environment variable read at the first JPEG when
// UseJPEGLibrary was not called: the path of a libturbojpeg to load, or
// "off" for Go's image/jpeg.
const LibJPEGEnv = "EMBEDSEARCH_LIBJPEG"

// JPEGDecoderInfo says which decoder reads JPEG files.
type JPEGDecoderInfo struct {
	// Library is true when libjpeg-turbo decodes JPEGs (PIL's own
	// library: the same pixels, and DCT-domain scaling); false when Go's
	// image/jpeg does.
	Library bool
	// Path is the library file in use, when Library.
	Path string
	// Why the library is not used, when !Library: disabled, or the
	// loader's message.
	Why string
}

func (d JPEGDecoderInfo) String() string {
	if d.Library {
		return "libjpeg-turbo (" + d.Path + ")"
	}
	return "Go image/jpeg (" + d.Why + ")"
}

var (
	turboMu   sync.Mutex
	turboDone bool // the choice below is made
	turbo     *turboLib
	turboWhy  string
)

// UseJPEGLibrary chooses the JPEG decoder for the whole process: "" loads
// LibJPEGName from the system's library path, "off" uses Go's image/jpeg,
// anything else is the path of a libturbojpeg to load. An error leaves
// Go's decoder in use. Without a call, the first JPEG makes the choice
// that LibJPEGEnv names, else loads LibJPEGName.
// It is meant to be called once, before decoding starts; calls made while
// images are being decoded take effect for the images that follow.
func UseJPEGLibrary(spec string) error {
	turboMu.Lock()
	defer turboMu.Unlock()
	turbo, turboWhy, turboDone = nil, "", true
	switch spec {
	case "off":
		turboWhy = "libjpeg-turbo disabled"
		return nil
	case "":
		spec = LibJPEGName
	}
	t, err := openTurbo(spec)
	if err != nil {
		turboWhy = err.Error()
		return err
	}
	turbo = t
	return nil
}

// JPEGDecoder reports the JPEG decoder in use, loading the library first
// if no choice was made yet.
func JPEGDecoder() JPEGDecoderInfo {
	t, why := loadedTurbo()
	if t == nil {
		return JPEGDecoderInfo{Why: why}
	}
	return JPEGDecoderInfo{Library: true, Path: t.path}
}

func loadedTurbo() (*turboLib, string) {
	turboMu.Lock()
	defer turboMu.Unlock()
	if !turboDone {
		turboDone = true
		switch spec := os.Getenv(LibJPEGEnv); spec {
		case "off":
			turboWhy = "libjpeg-turbo disabled by " + LibJPEGEnv + "=off"
		case "":
			if t, err := openTurbo(LibJPEGName); err != nil {
				turboWhy = err.Error()
			} else {
				turbo = t
			}
		default:
			if t, err := openTurbo(spec); err != nil {
				turboWhy = LibJPEGEnv + ": " + err.Error()
			} else {
				turbo = t
			}
		}
	}
	return turbo, turboWhy
}

// errTurboSkip: the library does not take this file (CMYK, or a warning
// or error while decoding); Go's decoder gets it instead, so that damaged
// files fail, or are read, exactly as they are without the library.
var errTurboSkip = errors.New("left to image/jpeg")
