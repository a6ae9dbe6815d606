package preprocess

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Decode sniffs the format from data, refuses images over lim's pixel cap,
// decodes and applies EXIF orientation.
func Decode(data []byte, lim Limits) (img image.Image, info Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%w: decoder panic: %v", ErrCorrupt, r)
		}
	}()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if err == image.ErrFormat {
			return nil, info, fmt.Errorf("%w: unknown format", ErrUnsupported)
		}
		return nil, info, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	info.Format = format
	if int64(cfg.Width)*int64(cfg.Height) > lim.maxPixels() {
		return nil, info, fmt.Errorf("%w: %dx%d pixels exceeds the cap (raise --max-megapixels)", ErrTooLarge, cfg.Width, cfg.Height)
	}
	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, info, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	info.Width, info.Height = img.Bounds().Dx(), img.Bounds().Dy()
	return img, info, nil
}
