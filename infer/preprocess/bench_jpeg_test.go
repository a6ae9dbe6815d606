package preprocess

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/internal/testenv"
	"github.com/embedsearch/embedsearch/models"
)

// jpegPath is one way of turning a JPEG into a tensor.
type jpegPath struct {
	name string
	lib  bool // libjpeg-turbo, else image/jpeg
	p    models.Preprocess
}

var builtinLike = models.Preprocess{
	Resize: models.ResizeSquash, Size: 64, Crop: [2]int{64, 64}, Interpolation: models.InterpBicubic,
	Rescale: 1.0 / 255, Mean: [3]float64{0.485, 0.456, 0.406}, Std: [3]float64{0.229, 0.224, 0.225},
}

// BenchmarkJPEGPaths runs JPEG decode+preprocess paths on the same files,
// interleaved image by image so that a busy machine slows them alike, and
// reports for each path its mean CPU and median wall milliseconds per
// image (Preparer.Bytes: decode, resample, tensor) and, over the first
// pass, its worst agreement with libjpeg-turbo's full-size decode and the
// target's exact resample, which are PIL's pixels (% of values within
// 2/255, mean absolute difference in 1/255).
//
// Targets: clip224 (a zoo-style model: shortest side 224, centre crop)
// with image/jpeg at full size (the product before libjpeg-turbo),
// libjpeg-turbo at full size (the default) and draft (--fast-decode: 1/2
// to 1/8 scale keeping 4 times the target); builtin64 (the built-in
// model's 64x64 squash) with builtin-v2's preprocessing through image/jpeg
// (before) and builtin-v3's (draft, reducing gap 3) through libjpeg-turbo.
//
// Sets: 12mp, eight 4000x3000 photos of testenv.Photos12MP (real photos
// enlarged, with sensor-like noise: 3.4 to 4.3 MB); poster, the one real
// photo of about 12 megapixels in the data (2799x3999, a scan of a poster:
// sharp text and lines); caltech, 200 small photos (about 300x200).
//
//	go test ./infer/preprocess -run '^$' -bench JPEGPaths -benchtime 16x
func BenchmarkJPEGPaths(b *testing.B) {
	if turbo, why := loadedTurbo(); turbo == nil {
		b.Skipf("libjpeg-turbo not installed (Debian: apt-get install libturbojpeg0): %s", why)
	}
	clipDraft := clipLike
	clipDraft.JPEGDraft = true
	v3 := builtinLike
	v3.JPEGDraft, v3.ReducingGap = true, 3
	targets := []struct {
		name  string
		exact models.Preprocess
		paths []jpegPath
	}{
		{"clip224", clipLike, []jpegPath{
			{"image-jpeg", false, clipLike},
			{"libjpeg-turbo", true, clipLike},
			{"draft", true, clipDraft},
		}},
		{"builtin64", builtinLike, []jpegPath{
			{"v2-image-jpeg", false, builtinLike},
			{"v3-libjpeg-turbo", true, v3},
		}},
	}
	sets := []struct {
		name  string
		files func(*testing.B) [][]byte
	}{
		{"12mp", bigJPEGs},
		{"poster", func(b *testing.B) [][]byte { return readFiles(b, filepath.Join(sharedData(b), testenv.RealPhoto12MP)) }},
		{"caltech", func(b *testing.B) [][]byte { return caltechFiles(b, 200) }},
	}
	for _, tg := range targets {
		for _, set := range sets {
			b.Run(tg.name+"/"+set.name, func(b *testing.B) {
				files := set.files(b)
				benchJPEGPaths(b, files, tg.exact, tg.paths)
			})
		}
	}
}

func benchJPEGPaths(b *testing.B, files [][]byte, exact models.Preprocess, paths []jpegPath) {
	lib, _ := loadedTurbo()
	defer func() {
		turboMu.Lock()
		turbo = lib
		turboMu.Unlock()
	}()
	use := func(on bool) {
		turboMu.Lock()
		turbo = nil
		if on {
			turbo = lib
		}
		turboMu.Unlock()
	}
	ref, err := NewPreparer(exact, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	preps := make([]*Preparer, len(paths))
	for j, pt := range paths {
		if preps[j], err = NewPreparer(pt.p, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	wall := make([][]time.Duration, len(paths))
	cpu := make([]time.Duration, len(paths))
	worst := make([]diffStats, len(paths))
	for j := range worst {
		worst[j].within2 = 1
	}
	dst := make([]float32, max(ref.TensorLen(), preps[0].TensorLen()))
	b.SetBytes(totalBytes(files) / int64(len(files)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := files[i%len(files)]
		var want rgbBuf
		if i < len(files) {
			use(true)
			r, info, err := ref.decode(f, true)
			if err != nil {
				b.Fatal(err)
			}
			want = ref.pixels(r, info.Width, info.Height)
		}
		for j, pt := range paths {
			use(pt.lib)
			start, c := time.Now(), cpuTime()
			if _, err := preps[j].Bytes(f, dst); err != nil {
				b.Fatal(err)
			}
			wall[j] = append(wall[j], time.Since(start))
			cpu[j] += cpuTime() - c
			if i < len(files) {
				r, info, err := preps[j].decode(f, true)
				if err != nil {
					b.Fatal(err)
				}
				st := compare(preps[j].pixels(r, info.Width, info.Height).pix, want.pix)
				worst[j].within2 = min(worst[j].within2, st.within2)
				worst[j].mae = max(worst[j].mae, st.mae)
			}
		}
	}
	for j, pt := range paths {
		b.ReportMetric(float64(cpu[j].Microseconds())/1000/float64(b.N), pt.name+"-cpums")
		b.ReportMetric(medianMs(wall[j]), pt.name+"-ms")
		b.ReportMetric(100*worst[j].within2, pt.name+"-%within2")
		b.ReportMetric(worst[j].mae, pt.name+"-mae")
	}
}

func readFiles(b *testing.B, paths ...string) [][]byte {
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func medianMs(t []time.Duration) float64 {
	sort.Slice(t, func(a, c int) bool { return t[a] < t[c] })
	return float64(t[len(t)/2].Microseconds()) / 1000
}
