package preprocess

import (
	"fmt"
	"image"
	"os"
	"time"

	"github.com/embedsearch/embedsearch/models"
)

// DefaultMaxPixels is the pixel cap used when Limits.MaxPixels is 0.
const DefaultMaxPixels = 128_000_000

// Limits bounds what Decode accepts.
type Limits struct {
	// MaxPixels refuses images whose header declares more than this many
	// pixels (width*height) before any pixel is decoded. 0 means DefaultMaxPixels.
	MaxPixels int64
}

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

// GPS is a position from EXIF, in decimal degrees (south and west negative).
type GPS struct{ Lat, Lon float64 }

// Info describes a decoded image.
type Info struct {
	Format        string    // "jpeg","png","gif","bmp","tiff","webp"
	Width, Height int       // as displayed, i.e. after EXIF orientation
	Orientation   int       // EXIF 1..8; 0 when absent
	Taken         time.Time // EXIF DateTimeOriginal (zero when absent)
	Make, Model   string
	GPS           *GPS
}

// Preparer turns images into model input tensors. It is immutable and safe
// for concurrent use.
type Preparer struct {
	p   models.Preprocess
	lim Limits
}

// NewPreparer checks p and returns a Preparer for it.
func NewPreparer(p models.Preprocess, lim Limits) (*Preparer, error) {
	if p.Crop[0] <= 0 || p.Crop[1] <= 0 {
		return nil, fmt.Errorf("preprocess: crop %v must be positive", p.Crop)
	}
	return &Preparer{p: p, lim: lim}, nil
}

// TensorLen is the number of float32 values of one tensor: 3*H*W.
func (p *Preparer) TensorLen() int { return 3 * p.p.Crop[0] * p.p.Crop[1] }

// Bytes decodes data, applies EXIF orientation and writes the tensor into
// dst (NCHW, len(dst) >= TensorLen()).
func (p *Preparer) Bytes(data []byte, dst []float32) (Info, error) {
	img, info, err := Decode(data, p.lim)
	if err != nil {
		return info, err
	}
	return info, p.Image(img, dst)
}

// File is Bytes on the contents of the file at path.
func (p *Preparer) File(path string, dst []float32) (Info, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Info{}, err
	}
	return p.Bytes(data, dst)
}

// Image writes the tensor of an already decoded and oriented image into dst.
func (p *Preparer) Image(img image.Image, dst []float32) error {
	n := p.TensorLen()
	if len(dst) < n {
		return fmt.Errorf("preprocess: dst has %d values, need %d", len(dst), n)
	}
	// Placeholder until the PIL-exact resampler lands.
	h, w := p.p.Crop[0], p.p.Crop[1]
	b := img.Bounds()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx := b.Min.X + x*b.Dx()/w
			sy := b.Min.Y + y*b.Dy()/h
			r, g, bb, _ := img.At(sx, sy).RGBA()
			for c, v := range [3]uint32{r, g, bb} {
				f := float64(v>>8)*p.p.Rescale - p.p.Mean[c]
				dst[c*h*w+y*w+x] = float32(f / p.p.Std[c])
			}
		}
	}
	return nil
}
