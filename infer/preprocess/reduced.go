package preprocess

import (
	"fmt"
	"image"
)

// DecodeReduced is Decode for an image that will be shown no larger than
// maxSide pixels on its longer side (a thumbnail): a JPEG may be decoded at
// reduced scale, 1/2, 1/4 or 1/8 (libjpeg-turbo's DCT scaling, as PIL's
// draft(); without libjpeg-turbo a full decode box-filtered by the same
// scale), keeping at least twice maxSide on each side (PIL's thumbnail()
// keeps as much: its reducing_gap of 2). The returned
// image may be smaller than Info's size (the image as displayed, EXIF
// orientation applied); other formats decode as Decode does.
func DecodeReduced(data []byte, lim Limits, maxSide int) (_ image.Image, info Info, err error) {
	defer func() {
		if r := recover(); r != nil { // safety net, as in Decode
			err = fmt.Errorf("%w: internal error decoding image (please report): %v", ErrCorrupt, r)
		}
	}()
	lim.jpegDraft = true
	// draftScale keeps draftMargin (4) times its target: a target of half
	// maxSide keeps twice maxSide.
	half := max(1, maxSide/2)
	fit := func(w, h int) (int, int) {
		if s := max(w, h); s > half && maxSide > 0 {
			return max(1, w*half/s), max(1, h*half/s)
		}
		return w, h
	}
	img, info, err := decodeRGB(data, lim, fit)
	if err != nil {
		return nil, info, err
	}
	return img, info, nil
}
