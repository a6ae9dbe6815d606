package copies

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
)

// Op is the kind of change an Edit makes.
type Op int

// The ops and what their Amount means.
const (
	Reencode   Op = iota // pixels unchanged; only Format and Quality matter
	Resize               // Amount: scale of both sides (0.5 halves them)
	Squash               // Amount: scale of the height, the width kept
	Crop                 // Amount: share of each cut side kept; Anchor: what stays
	Border               // Amount: band width as a share of the shorter side; plain colour
	Frame                // Amount: frame width as a share of the shorter side; a light mat inside a dark moulding
	Canvas               // Amount: canvas side over photo side (> 1); the photo placed off centre on a plain canvas
	Flip                 // mirror left to right
	Rotate               // Amount: degrees clockwise, 90, 180 or 270
	Text                 // Amount: caption height as a share of the image height
	Hue                  // Amount: hue turn in degrees
	Grey                 // Rec. 601 luma
	Brightness           // Amount: factor on every channel (1.3 brighter, 0.7 darker)
	Sepia                // the classic sepia matrix
	Blur                 // Amount: blur radius as a share of the shorter side
	Orient               // Amount: EXIF orientation 2..8 written in the file; the pixels turned so a viewer shows the original
	numOps
)

var opNames = [...]string{"reencode", "resize", "squash", "crop", "border", "frame", "canvas",
	"flip", "rotate", "text", "hue", "grey", "brightness", "sepia", "blur", "orient"}

func (o Op) String() string {
	if o >= 0 && o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Anchor says which part of the image a Crop keeps.
type Anchor int

// Anchors. Centre cuts every side; the others cut one side only (Left keeps
// the left part, cutting the right side), or two (TopLeft).
const (
	Centre Anchor = iota
	Left
	Right
	Top
	Bottom
	TopLeft
)

// Format is the file format of a copy.
type Format int

// Formats. JPEG's quality is Edit.Quality (0 means DefaultQuality).
const (
	JPEG Format = iota
	PNG
)

// DefaultQuality is the JPEG quality of an Edit whose Quality is 0.
const DefaultQuality = 90

// Edit is one named change. The zero value re-encodes as JPEG at
// DefaultQuality.
type Edit struct {
	Name    string
	Op      Op
	Amount  float64
	Anchor  Anchor
	Format  Format
	Quality int    // JPEG quality, 1..100; 0 means DefaultQuality
	Seed    uint64 // random choices: a caption's words, place and colour, a canvas's colour and offset
}

// ErrEdit is returned for an Edit whose parameters are out of range.
var ErrEdit = errors.New("copies: bad edit")

// Edits lists the named edits: each is a copy a person would call the same
// photo. The list and its order are stable.
func Edits() []Edit {
	return []Edit{
		{Name: "jpeg-q20", Op: Reencode, Quality: 20},
		{Name: "jpeg-q50", Op: Reencode, Quality: 50},
		{Name: "png", Op: Reencode, Format: PNG},
		{Name: "half", Op: Resize, Amount: 0.5},
		{Name: "thumb", Op: Resize, Amount: 0.25, Quality: 80},
		{Name: "squash", Op: Squash, Amount: 0.75},
		{Name: "crop80", Op: Crop, Amount: 0.8},
		{Name: "crop60", Op: Crop, Amount: 0.6},
		{Name: "crop-left", Op: Crop, Amount: 0.75, Anchor: Left},
		{Name: "crop-top", Op: Crop, Amount: 0.75, Anchor: Top},
		{Name: "border", Op: Border, Amount: 0.05, Seed: 1},
		{Name: "frame", Op: Frame, Amount: 0.08},
		{Name: "canvas", Op: Canvas, Amount: 1.4, Seed: 2},
		{Name: "mirror", Op: Flip},
		{Name: "rot90", Op: Rotate, Amount: 90},
		{Name: "rot180", Op: Rotate, Amount: 180},
		{Name: "text", Op: Text, Amount: 0.1, Seed: 3},
		{Name: "hue", Op: Hue, Amount: 40},
		{Name: "grey", Op: Grey},
		{Name: "bright", Op: Brightness, Amount: 1.3},
		{Name: "dark", Op: Brightness, Amount: 0.7},
		{Name: "sepia", Op: Sepia},
		{Name: "blur", Op: Blur, Amount: 0.01},
		{Name: "exif6", Op: Orient, Amount: 6},
		{Name: "exif8", Op: Orient, Amount: 8},
	}
}

// Lookup returns the named edit from Edits.
func Lookup(name string) (Edit, bool) {
	for _, e := range Edits() {
		if e.Name == name {
			return e, true
		}
	}
	return Edit{}, false
}

// Variants draws n edits from seed: every op, with its parameters, the JPEG
// quality (40..95, one in eight saved as PNG) and its own seed spread over
// the ranges real copies show. The same seed gives the same edits; names
// are "op-i".
func Variants(seed uint64, n int) []Edit {
	rng := rand.New(rand.NewPCG(seed, 0x636f70696573))
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	out := make([]Edit, n)
	for i := range out {
		e := Edit{Op: Op(rng.IntN(int(numOps))), Quality: 40 + rng.IntN(56), Seed: rng.Uint64()}
		if rng.IntN(8) == 0 {
			e.Format = PNG
		}
		switch e.Op {
		case Resize:
			e.Amount = u(0.2, 0.9)
		case Squash:
			e.Amount = u(0.6, 0.9)
		case Crop:
			e.Amount = u(0.6, 0.95)
			e.Anchor = Anchor(rng.IntN(6))
		case Border:
			e.Amount = u(0.02, 0.1)
		case Frame:
			e.Amount = u(0.04, 0.12)
		case Canvas:
			e.Amount = u(1.1, 1.6)
		case Rotate:
			e.Amount = float64(90 * (1 + rng.IntN(3)))
		case Text:
			e.Amount = u(0.05, 0.15)
		case Hue:
			e.Amount = u(15, 60) * float64(1-2*rng.IntN(2))
		case Brightness:
			e.Amount = u(0.65, 1.4)
		case Blur:
			e.Amount = u(0.003, 0.015)
		case Orient:
			e.Amount = float64(2 + rng.IntN(7))
			e.Format = JPEG
		}
		e.Name = fmt.Sprintf("%s-%d", e.Op, i)
		out[i] = e
	}
	return out
}

// Make returns the copy of src that e makes, encoded, and its file name
// extension (".jpg" or ".png"). An Orient copy is a JPEG holding an EXIF
// Orientation tag.
func Make(src image.Image, e Edit) (data []byte, ext string, err error) {
	if err := check(e); err != nil {
		return nil, "", err
	}
	img := Apply(src, e)
	var b bytes.Buffer
	switch e.Format {
	case PNG:
		if err := png.Encode(&b, img); err != nil {
			return nil, "", fmt.Errorf("copies: encode png: %w", err)
		}
		return b.Bytes(), ".png", nil
	}
	q := e.Quality
	if q == 0 {
		q = DefaultQuality
	}
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, "", fmt.Errorf("copies: encode jpeg: %w", err)
	}
	data = b.Bytes()
	if e.Op == Orient {
		data = withOrientation(data, int(e.Amount))
	}
	return data, ".jpg", nil
}

func check(e Edit) error {
	bad := func(what string) error { return fmt.Errorf("%w %q: %s", ErrEdit, e.Name, what) }
	switch {
	case e.Op < 0 || e.Op >= numOps:
		return bad("unknown op")
	case e.Format != JPEG && e.Format != PNG:
		return bad("unknown format")
	case e.Quality < 0 || e.Quality > 100:
		return bad("JPEG quality outside 1..100")
	case math.IsNaN(e.Amount) || math.IsInf(e.Amount, 0):
		return bad("amount is not a number")
	}
	switch e.Op {
	case Resize, Squash:
		if e.Amount <= 0 || e.Amount > 4 {
			return bad("scale outside (0, 4]")
		}
	case Crop:
		if e.Amount <= 0 || e.Amount > 1 || e.Anchor < Centre || e.Anchor > TopLeft {
			return bad("crop share outside (0, 1] or unknown anchor")
		}
	case Border, Frame, Blur, Text:
		if e.Amount <= 0 || e.Amount >= 0.5 {
			return bad("share outside (0, 0.5)")
		}
	case Canvas:
		if e.Amount < 1 || e.Amount > 4 {
			return bad("canvas ratio outside [1, 4]")
		}
	case Rotate:
		if e.Amount != 90 && e.Amount != 180 && e.Amount != 270 {
			return bad("rotation other than 90, 180 or 270")
		}
	case Brightness:
		if e.Amount <= 0 {
			return bad("brightness factor not positive")
		}
	case Orient:
		if o := e.Amount; o != math.Trunc(o) || o < 2 || o > 8 {
			return bad("EXIF orientation outside 2..8")
		}
		if e.Format != JPEG {
			return bad("EXIF orientation needs JPEG")
		}
	}
	return nil
}

// Apply returns e's pixels made from src: a new opaque *image.RGBA with
// Bounds().Min at (0, 0). An Edit that Make would refuse returns a plain
// copy of src.
func Apply(src image.Image, e Edit) *image.RGBA {
	m := toRGBA(src)
	if check(e) != nil {
		return m
	}
	rng := rand.New(rand.NewPCG(e.Seed, 0x65646974))
	w, h := m.Rect.Dx(), m.Rect.Dy()
	short := float64(min(w, h))
	switch e.Op {
	case Resize:
		return scale(m, px(float64(w)*e.Amount), px(float64(h)*e.Amount))
	case Squash:
		return scale(m, w, px(float64(h)*e.Amount))
	case Crop:
		return crop(m, e.Amount, e.Anchor)
	case Border:
		return border(m, px(short*e.Amount), randColour(rng))
	case Frame:
		return frame(m, px(short*e.Amount))
	case Canvas:
		return canvas(m, e.Amount, rng)
	case Flip:
		return orient(m, 2)
	case Rotate:
		return orient(m, map[float64]int{90: 6, 180: 3, 270: 8}[e.Amount])
	case Text:
		caption(m, e.Amount, rng)
	case Hue:
		hue(m, e.Amount)
	case Grey:
		grey(m)
	case Brightness:
		brightness(m, e.Amount)
	case Sepia:
		sepia(m)
	case Blur:
		return blur(m, max(1, int(math.Round(short*e.Amount))))
	case Orient:
		// Stored pixels are the inverse of what the tag asks a viewer to do.
		o := int(e.Amount)
		switch o {
		case 6:
			o = 8
		case 8:
			o = 6
		}
		return orient(m, o)
	}
	return m
}

func px(v float64) int { return max(1, int(math.Round(v))) }
