package preprocess

import "errors"

// Errors returned by this package. They are wrapped with a short reason;
// test with errors.Is.
var (
	// ErrUnsupported: the bytes are not an image format this package decodes
	// (or a variant of one, such as animated WebP).
	ErrUnsupported = errors.New("unsupported image format")
	// ErrCorrupt: the file claims a supported format but cannot be decoded
	// (truncated, malformed, or the decoder failed).
	ErrCorrupt = errors.New("corrupt image")
	// ErrTooLarge: the image header declares more pixels than Limits.MaxPixels.
	ErrTooLarge = errors.New("image too large")
)
