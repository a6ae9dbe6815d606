package preprocess

import (
	"fmt"
	"image"
	"math"
	"os"
	"time"

	"github.com/embedsearch/embedsearch/models"
)

// DefaultMaxPixels is the pixel cap used when Limits.MaxPixels is 0.
const DefaultMaxPixels = 128_000_000

// Limits bounds what Decode accepts.
type Limits struct {
	// MaxPixels refuses images whose header declares more than this many
	// pixels (width*height) before any pixel is decoded. 0 means
	// DefaultMaxPixels.
	MaxPixels int64

	// jpegDraft is set by a Preparer whose preprocessing asks for PIL's
	// draft(): a JPEG is then decoded at reduced scale for the resample
	// target (the RAW previews that are JPEGs included).
	jpegDraft bool
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

// GPS is a position from EXIF in decimal degrees (south and west negative).
type GPS struct{ Lat, Lon float64 }

// Info describes a decoded image.
type Info struct {
	Format        string    // "jpeg","png","gif","bmp","tiff","webp","heif","avif","raw"
	Width, Height int       // as displayed, i.e. after EXIF orientation
	Orientation   int       // EXIF 1..8; 0 when absent
	Taken         time.Time // EXIF DateTimeOriginal (zero when absent)
	Make, Model   string
	GPS           *GPS
	// Signature is the image's dedup signature in its binary form
	// (package signature), set by BytesSigned only.
	Signature []byte
}

// Preparer turns images into model input tensors for one manifest's
// Preprocess block. It is immutable and safe for concurrent use.
type Preparer struct {
	p      models.Preprocess
	lim    Limits
	filter filter
	scale  [3]float32 // Rescale/Std per channel
	offset [3]float32 // -Mean/Std per channel
}

// NewPreparer checks p and returns a Preparer for it.
func NewPreparer(p models.Preprocess, lim Limits) (*Preparer, error) {
	pr := &Preparer{p: p, lim: lim}
	if p.Crop[0] <= 0 || p.Crop[1] <= 0 {
		return nil, fmt.Errorf("preprocess: crop %v must be positive", p.Crop)
	}
	switch p.Resize {
	case models.ResizeShortestCrop:
		if p.Size < p.Crop[0] || p.Size < p.Crop[1] {
			return nil, fmt.Errorf("preprocess: size %d smaller than crop %v", p.Size, p.Crop)
		}
	case models.ResizeSquash, models.ResizePad:
	default:
		return nil, fmt.Errorf("preprocess: resize mode %q (want shortest_crop, squash or pad)", p.Resize)
	}
	switch p.Interpolation {
	case models.InterpBicubic:
		pr.filter = bicubicFilter
	case models.InterpBilinear:
		pr.filter = bilinearFilter
	default:
		return nil, fmt.Errorf("preprocess: interpolation %q (want bicubic or bilinear)", p.Interpolation)
	}
	if p.ReducingGap != 0 && !(p.ReducingGap >= 1) {
		return nil, fmt.Errorf("preprocess: reducing_gap %v (want 0 for none, or 1 or more)", p.ReducingGap)
	}
	for c := 0; c < 3; c++ {
		if p.Std[c] == 0 || math.IsNaN(p.Std[c]) {
			return nil, fmt.Errorf("preprocess: std[%d] is %v", c, p.Std[c])
		}
		pr.scale[c] = float32(p.Rescale / p.Std[c])
		pr.offset[c] = float32(-p.Mean[c] / p.Std[c])
	}
	return pr, nil
}

// TensorLen is the number of float32 values of one tensor: 3*H*W.
func (p *Preparer) TensorLen() int { return 3 * p.p.Crop[0] * p.p.Crop[1] }

// Bytes decodes data, applies EXIF orientation and writes the tensor into
// dst (NCHW with N=1, len(dst) >= TensorLen()). A failure is an error for
// this one image, never a panic.
func (p *Preparer) Bytes(data []byte, dst []float32) (info Info, err error) {
	defer func() {
		// Third-party decoders are already guarded; this is the safety net
		// for a bug of ours, so that one image cannot stop a batch. The
		// fuzz tests call prepare directly so that such bugs still show.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: internal error preparing image (please report): %v", ErrCorrupt, r)
		}
	}()
	return p.prepare(data, dst)
}

func (p *Preparer) prepare(data []byte, dst []float32) (Info, error) {
	if len(dst) < p.TensorLen() {
		return Info{}, fmt.Errorf("preprocess: dst has %d values, need %d", len(dst), p.TensorLen())
	}
	img, info, err := p.decode(data, true)
	if err != nil {
		return info, err
	}
	p.tensor(p.pixels(img, info.Width, info.Height), dst)
	return info, nil
}

// decode is decodeRows for the resample target, with the manifest's JPEG
// decoding: at a reduced scale when it asks for PIL's draft().
func (p *Preparer) decode(data []byte, lazy bool) (rows, Info, error) {
	lim := p.lim
	lim.jpegDraft = p.p.JPEGDraft
	return decodeRows(data, lim, p.target, lazy)
}

// File is Bytes on the contents of the file at path.
func (p *Preparer) File(path string, dst []float32) (Info, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Info{}, err
	}
	return p.Bytes(data, dst)
}

// Image writes the tensor of an already decoded and oriented image into
// dst. Alpha is dropped as in Decode.
func (p *Preparer) Image(img image.Image, dst []float32) error {
	if len(dst) < p.TensorLen() {
		return fmt.Errorf("preprocess: dst has %d values, need %d", len(dst), p.TensorLen())
	}
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("%w: empty image", ErrCorrupt)
	}
	m, ok := img.(*image.RGBA)
	if !ok || b.Min != (image.Point{}) || !opaque(m.Pix, 4, 3) {
		m = toRGBA(img, "", b.Dx(), b.Dy())
	}
	p.tensor(p.pixels(rgbaRows{m}, m.Rect.Dx(), m.Rect.Dy()), dst)
	return nil
}

// target is the size an image displayed at w×h is resampled to before
// cropping or padding.
func (p *Preparer) target(w, h int) (int, int) {
	switch p.p.Resize {
	case models.ResizeSquash:
		return p.p.Crop[1], p.p.Crop[0]
	case models.ResizePad:
		return fitInside(w, h, p.p.Crop[1], p.p.Crop[0])
	}
	return shortestSide(w, h, p.p.Size)
}

// pixels is the uint8 RGB image of Crop size that the model sees, before
// rescaling and normalisation. The geometry follows the image's displayed
// size w×h; m may be a reduced-scale decode of it.
func (p *Preparer) pixels(m rows, w, h int) rgbBuf {
	ch, cw := p.p.Crop[0], p.p.Crop[1]
	switch p.p.Resize {
	case models.ResizeSquash:
		return resample(m, cw, ch, image.Rect(0, 0, cw, ch), p.filter, p.p.ReducingGap)
	case models.ResizePad:
		nw, nh := fitInside(w, h, cw, ch)
		inner := resample(m, nw, nh, image.Rect(0, 0, nw, nh), p.filter, p.p.ReducingGap)
		out := rgbBuf{w: cw, h: ch, pix: make([]uint8, 3*cw*ch)}
		for i := 0; i < cw*ch; i++ {
			copy(out.pix[3*i:3*i+3], p.p.PadColor[:])
		}
		left, top := (cw-nw)/2, (ch-nh)/2
		for y := 0; y < nh; y++ {
			copy(out.pix[3*((top+y)*cw+left):], inner.pix[3*nw*y:3*nw*(y+1)])
		}
		return out
	default: // shortest_crop
		rw, rh := shortestSide(w, h, p.p.Size)
		top := int(math.RoundToEven(float64(rh-ch) / 2))
		left := int(math.RoundToEven(float64(rw-cw) / 2))
		return resample(m, rw, rh, image.Rect(left, top, left+cw, top+ch), p.filter, p.p.ReducingGap)
	}
}

// shortestSide is torchvision's Resize(size) output size for an int size:
// the shorter side becomes size, the longer int(size*long/short).
func shortestSide(w, h, size int) (int, int) {
	if w <= h {
		return size, int(float64(size) * float64(h) / float64(w))
	}
	return int(float64(size) * float64(w) / float64(h)), size
}

// fitInside is the largest w×h with the image's aspect ratio that fits in
// cw×ch, the free side rounded half up (at least 1 pixel).
func fitInside(w, h, cw, ch int) (int, int) {
	if int64(w)*int64(ch) >= int64(h)*int64(cw) { // wider than the box
		nh := int((2*int64(h)*int64(cw) + int64(w)) / (2 * int64(w)))
		return cw, max(1, min(nh, ch))
	}
	nw := int((2*int64(w)*int64(ch) + int64(h)) / (2 * int64(h)))
	return max(1, min(nw, cw)), ch
}

// tensor writes x*Rescale, then (x-Mean)/Std, as NCHW float32.
func (p *Preparer) tensor(px rgbBuf, dst []float32) {
	n := px.w * px.h
	for c := 0; c < 3; c++ {
		s, o := p.scale[c], p.offset[c]
		plane := dst[c*n : (c+1)*n]
		for i := range plane {
			plane[i] = float32(px.pix[3*i+c])*s + o
		}
	}
}
