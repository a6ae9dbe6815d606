package preprocess

import (
	"fmt"

	"github.com/embedsearch/embedsearch/signature"
)

// BytesSigned is Bytes that also computes the image's dedup signature
// (signature.Compute on the decoded, oriented pixels, with the file's
// compression) into Info.Signature, in its binary form. With a nil dst it
// only decodes and signs: how a store gains signatures for images it has
// vectors of already.
func (p *Preparer) BytesSigned(data []byte, dst []float32) (info Info, err error) {
	defer func() {
		if r := recover(); r != nil { // the safety net of Bytes
			err = fmt.Errorf("%w: internal error preparing image (please report): %v", ErrCorrupt, r)
		}
	}()
	return p.prepareSigned(data, dst)
}

// prepareSigned is BytesSigned without the safety net (the fuzz test
// calls it, so that a bug shows).
func (p *Preparer) prepareSigned(data []byte, dst []float32) (Info, error) {
	if dst != nil && len(dst) < p.TensorLen() {
		return Info{}, fmt.Errorf("preprocess: dst has %d values, need %d", len(dst), p.TensorLen())
	}
	img, info, err := p.decode(data, true)
	if err != nil {
		return info, err
	}
	w, h := img.size()
	s := signature.Compute(w, h, info.Width, info.Height, func(y int) []uint8 { return img.row(y, 0, w) })
	s.Quality = compression(info.Format, data)
	info.Signature = s.Append(nil)
	if dst != nil {
		p.tensor(p.pixels(img, info.Width, info.Height), dst)
	}
	return info, nil
}
