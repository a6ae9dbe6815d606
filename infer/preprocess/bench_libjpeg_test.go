//go:build libjpeg

package preprocess

import (
	"image"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkJPEGPaths compares JPEG decode+preprocess paths on the same
// files, interleaved image by image so that a busy machine slows them
// alike, and reports each path's milliseconds per image (median wall time,
// mean process CPU time) and, for
// the other paths, the worst agreement with libjpeg's full-size decode,
// which gives PIL's pixels exactly (% of pixel values within 2/255, mean
// absolute difference in 1/255).
func BenchmarkJPEGPaths(b *testing.B) {
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	type path struct {
		name   string
		lib    func([]byte, int, Limits) (*image.RGBA, error)
		margin int
	}
	paths := []path{
		{"libjpeg", decodeJPEGLib, 0}, // full size: PIL's exact pixels, the reference
		{"image-jpeg", nil, 0},
		{"libjpeg-dct-x4", decodeJPEGLib, 4},
		{"libjpeg-dct-x2", decodeJPEGLib, 2},
	}
	for _, set := range []struct {
		name  string
		files func(*testing.B) [][]byte
	}{
		{"caltech", func(b *testing.B) [][]byte { return caltechFiles(b, 200) }},
		{"12mp", bigJPEGs},
		{"photos", realPhotos},
	} {
		b.Run(set.name, func(b *testing.B) {
			files := set.files(b)
			saved, savedMargin := jpegLib, scaleMargin
			defer func() { jpegLib, scaleMargin = saved, savedMargin }()
			times := make([][]time.Duration, len(paths))
			cpus := make([][]time.Duration, len(paths))
			worst := make([]diffStats, len(paths))
			for i := range worst {
				worst[i].within2 = 1
			}
			b.SetBytes(totalBytes(files) / int64(len(files)))
			for i := 0; i < b.N; i++ {
				f := files[i%len(files)]
				var ref rgbBuf
				for j, pt := range paths {
					jpegLib, scaleMargin = pt.lib, pt.margin
					start, cpu := time.Now(), cpuTime()
					img, info, err := decodeRows(f, Limits{}, p.target, true)
					if err != nil {
						b.Fatal(err)
					}
					px := p.pixels(img, info.Width, info.Height)
					times[j] = append(times[j], time.Since(start))
					cpus[j] = append(cpus[j], cpuTime()-cpu)
					if j == 0 {
						ref = px
					} else if i < len(files) {
						st := compare(px.pix, ref.pix)
						if st.within2 < worst[j].within2 {
							worst[j].within2 = st.within2
						}
						worst[j].mae = max(worst[j].mae, st.mae)
					}
				}
			}
			for j, pt := range paths {
				b.ReportMetric(median(times[j]), pt.name+"-ms")
				b.ReportMetric(mean(cpus[j]), pt.name+"-cpums")
				if j > 0 {
					b.ReportMetric(100*worst[j].within2, pt.name+"-%within2")
					b.ReportMetric(worst[j].mae, pt.name+"-mae")
				}
			}
		})
	}
}

// realPhotos are the largest real (not upscaled) photos in ../shared/data,
// 1280 to 1800 pixels wide and sharp, where DCT scaling changes the most.
func realPhotos(b *testing.B) [][]byte {
	data := sharedData(b)
	var out [][]byte
	for _, f := range []string{
		"pdq-bridge-variants/bridge-mods/sharpen-a-lot.jpg",
		"pdq-bridge-variants/reg-test-input/dih/bridge-6-flipy.jpg",
		"exif-orientation/Landscape_1.jpg",
		"exif-orientation/Portrait_1.jpg",
		"caltech101-neardup/distractors/images_BACKGROUND_Google_image_0013.jpg",
	} {
		b2, err := os.ReadFile(filepath.Join(data, f))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, b2)
	}
	return out
}

// mean in milliseconds. CPU time is counted in scheduler ticks on some
// kernels, so per-image CPU times are averaged rather than taking a median.
func mean(t []time.Duration) float64 {
	var sum time.Duration
	for _, d := range t {
		sum += d
	}
	return float64(sum.Microseconds()) / 1000 / float64(len(t))
}

// median in milliseconds.
func median(t []time.Duration) float64 {
	sort.Slice(t, func(a, c int) bool { return t[a] < t[c] })
	return float64(t[len(t)/2].Microseconds()) / 1000
}
