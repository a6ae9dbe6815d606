//go:build ignore

// make.go turns the source files that make.sh unpacks into the demo photos:
// photos from scikit-image's data folder made at most 640 pixels on their
// longer side, and Poly Haven HDR panoramas (linear 16-bit RGB, decoded
// from OpenEXR by ImageMagick) tone-mapped as ImageMagick's
// "-colorspace sRGB -auto-level" does, cut to their horizon band
// (512×176) like a phone's panorama. All saved as JPEG, quality 88.
//
//	go run make.go SKIMAGE_DATA_DIR HDRI_RAW_DIR OUT_DIR
package main

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
)

// skimage names the scikit-image files used and what they are called here.
// Its grass and gravel textures are left out: grey textures, each the other's
// near-duplicate to the built-in model.
var skimage = [][2]string{
	{"astronaut.png", "astronaut"}, {"brick.png", "brick-wall"}, {"camera.png", "photographer"},
	{"cell.png", "cell"}, {"chelsea.png", "cat"}, {"clock_motion.png", "clock"},
	{"coffee.png", "coffee"}, {"coins.png", "coins"}, {"hubble_deep_field.jpg", "deep-field"},
	{"retina.jpg", "retina"}, {"rocket.jpg", "rocket"},
}

var hdri = []string{"apartment", "bridge", "city", "dawn", "esplanade", "forest", "hall", "lab",
	"lobby", "night", "park", "sky", "studio", "sunrise", "sunset", "venice", "warehouse", "workshop"}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: go run make.go SKIMAGE_DATA_DIR HDRI_RAW_DIR OUT_DIR")
		os.Exit(2)
	}
	sk, raw, out := os.Args[1], os.Args[2], os.Args[3]
	for _, p := range skimage {
		f, err := os.Open(filepath.Join(sk, p[0]))
		check(err)
		img, _, err := image.Decode(f)
		f.Close()
		check(err)
		save(filepath.Join(out, p[1]+".jpg"), fit(img, 640))
	}
	for _, name := range hdri {
		data, err := os.ReadFile(filepath.Join(raw, name+".rgb16"))
		check(err)
		save(filepath.Join(out, "pano-"+name+".jpg"), panorama(data, 512, 256))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func fit(img image.Image, side int) image.Image {
	b := img.Bounds()
	s := float64(side) / float64(max(b.Dx(), b.Dy()))
	if s >= 1 {
		return img
	}
	w, h := int(math.Round(float64(b.Dx())*s)), int(math.Round(float64(b.Dy())*s))
	var dst draw.Image = image.NewRGBA(image.Rect(0, 0, w, h))
	if _, grey := img.(*image.Gray); grey {
		dst = image.NewGray(image.Rect(0, 0, w, h))
	}
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

// panorama tone-maps a w×h linear 16-bit big-endian RGB panorama and cuts
// its horizon band. The DWA-compressed sources hold a few broken pixels in
// the sun and in lamps (one channel at full scale, another at zero, and
// black pixels among them): those are set to white, as the light source
// they are in.
func panorama(data []byte, w, h int) image.Image {
	if len(data) != 6*w*h {
		check(fmt.Errorf("raw panorama: %d bytes, want %d", len(data), 6*w*h))
	}
	px := make([][3]float64, w*h)
	broken := make([]bool, w*h)
	for i := range px {
		full, zero := false, false
		for c := 0; c < 3; c++ {
			v := binary.BigEndian.Uint16(data[6*i+2*c:])
			px[i][c] = float64(v) / 65535
			full = full || v == 65535
			zero = zero || v == 0
		}
		broken[i] = full && zero
	}
	for changed := true; changed; {
		changed = false
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*w + x
				if broken[i] || px[i] != [3]float64{} {
					continue
				}
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						xx, yy := (x+dx+w)%w, y+dy
						if yy >= 0 && yy < h && broken[yy*w+xx] {
							broken[i], changed = true, true
						}
					}
				}
			}
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range px {
		if broken[i] {
			px[i] = [3]float64{1, 1, 1}
		}
		for c := 0; c < 3; c++ {
			v := srgb(px[i][c])
			px[i][c] = v
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	const top, band = 40, 176
	out := image.NewRGBA(image.Rect(0, 0, w, band))
	for y := 0; y < band; y++ {
		for x := 0; x < w; x++ {
			p := px[(y+top)*w+x]
			var c [3]uint8
			for k := range c {
				c[k] = uint8(math.Round(255 * (p[k] - lo) / (hi - lo)))
			}
			out.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	return out
}

func srgb(v float64) float64 {
	if v <= 0.0031308 {
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

func save(path string, img image.Image) {
	f, err := os.Create(path)
	check(err)
	check(jpeg.Encode(f, img, &jpeg.Options{Quality: 88}))
	check(f.Close())
	fmt.Println(path)
}
