package preprocess

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// Benchmarks for decode+preprocess. The large-photo cases use eight
// 12-megapixel JPEGs made at benchmark time from real photos
// (testenv.Photos12MP: enlarged to 4000x3000 with sensor-like noise, 3.4
// to 4.3 MB each) in a temporary folder that is removed afterwards.

var (
	bigOnce  sync.Once
	bigFiles [][]byte
	bigErr   error
)

func bigJPEGs(b *testing.B) [][]byte {
	data := sharedData(b)
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "embedsearch-12mp-")
		if err != nil {
			bigErr = err
			return
		}
		defer os.RemoveAll(dir)
		paths, err := testenv.MakePhotos12MP(data, dir, 8)
		if err != nil {
			bigErr = err
			return
		}
		for _, p := range paths {
			f, err := os.ReadFile(p)
			if err != nil {
				bigErr = err
				return
			}
			bigFiles = append(bigFiles, f)
		}
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigFiles
}

// caltechFiles returns up to n JPEG files of caltech101-neardup's
// distractors (real photos of mixed sizes, mostly around 300x200).
func caltechFiles(b *testing.B, n int) [][]byte {
	dir := filepath.Join(sharedData(b), "caltech101-neardup", "distractors")
	names, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(names) == 0 {
		b.Skipf("no images in %s", dir)
	}
	sort.Strings(names)
	var out [][]byte
	for _, n0 := range names[:min(n, len(names))] {
		f, err := os.ReadFile(n0)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func totalBytes(files [][]byte) int64 {
	var n int64
	for _, f := range files {
		n += int64(len(f))
	}
	return n
}

// BenchmarkDecodePreprocess measures Preparer.Bytes (decode, orient,
// resample, normalise) for a CLIP-style 224 model, one image per op.
func BenchmarkDecodePreprocess(b *testing.B) {
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range []struct {
		name  string
		files func(*testing.B) [][]byte
	}{
		{"caltech", func(b *testing.B) [][]byte { return caltechFiles(b, 200) }},
		{"12mp", bigJPEGs},
	} {
		b.Run(set.name, func(b *testing.B) {
			files := set.files(b)
			b.SetBytes(totalBytes(files) / int64(len(files)))
			b.ReportAllocs()
			dst := make([]float32, p.TensorLen())
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := p.Bytes(files[i%len(files)], dst); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkDecode12MP splits the large-photo cost: the full decode with
// Go's image/jpeg, the full decode to RGB as Decode does it (through
// libjpeg-turbo when it is installed) and the exact resample to 224.
func BenchmarkDecode12MP(b *testing.B) {
	files := bigJPEGs(b)
	b.Run("image-jpeg", func(b *testing.B) {
		b.SetBytes(totalBytes(files) / int64(len(files)))
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := jpeg.Decode(bytes.NewReader(files[i%len(files)])); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
	b.Run("decode-rgb", func(b *testing.B) {
		b.SetBytes(totalBytes(files) / int64(len(files)))
		b.ReportAllocs()
		cpu := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, _, err := decodeRGB(files[i%len(files)], Limits{}, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
	p, err := NewPreparer(clipLike, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	img, info, err := decodeRGB(files[0], Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	// The horizontal pass with hpass's AVX2 kernel and with the Go loop.
	for _, kernel := range []bool{true, false} {
		name := "resample-4000x3000-to-224"
		if !kernel {
			name += "-go-loop"
		}
		b.Run(name, func(b *testing.B) {
			defer func(was bool) { useHpass = was }(useHpass)
			useHpass = kernel && useHpass
			b.ReportAllocs()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				p.pixels(rgbaRows{img}, info.Width, info.Height)
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
