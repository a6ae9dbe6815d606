package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// noEmbed is the embedder of an unchanged re-index: any path it is sent
// is a bug in change detection.
type noEmbed struct{}

func (noEmbed) EmbedWith(ctx context.Context, paths <-chan string, _ infer.EmbedOptions, emit func(infer.Item) error) error {
	for p := range paths {
		return fmt.Errorf("unchanged tree, but %s was sent to the model", p)
	}
	return nil
}

// makeTree creates n empty .jpg files in folders of 1000.
func makeTree(b *testing.B, root string, n int) {
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", i/1000))
		if i%1000 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("IMG_%06d.jpg", i)))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkReindexUnchanged100k compares an `index` of an unchanged
// 100,000-file tree (open the writer, walk, compare, no commit) with a
// plain filepath.WalkDir + stat of the same tree, in the same run. Run with
// -benchtime=3x.
func BenchmarkReindexUnchanged100k(b *testing.B) {
	const dim = 512
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_TREE_FILES")); err == nil && v > 0 {
		n = v // smaller trees for profiling
	}
	root := filepath.Join(b.TempDir(), "tree")
	makeTree(b, root, n)
	sdir := filepath.Join(b.TempDir(), "store")
	bind := store.Binding{ModelID: "bench", Digest: "d", Preprocess: "p", Dim: dim}
	w, err := store.OpenWriter(sdir, bind, store.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	vec := make([]float32, dim)
	vec[0] = 1
	i := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if d.Type().IsRegular() {
			info, _ := d.Info()
			e := store.Entry{Path: p, Size: info.Size(), ModTime: info.ModTime(), Width: 4032, Height: 3024, Format: "jpeg",
				SHA256: fmt.Sprintf("%064x", i)}
			i++
			if err := w.Put(e, vec); err != nil {
				b.Fatal(err)
			}
		}
		return nil
	})
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := w.Compact(); err != nil {
		b.Fatal(err)
	}
	w.Close()

	b.Run("walkdir+stat", func(b *testing.B) {
		for b.Loop() {
			count := 0
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if d.Type().IsRegular() && preprocess.IsImageName(d.Name()) {
					if _, err := d.Info(); err == nil {
						count++
					}
				}
				return nil
			})
			if count != n {
				b.Fatalf("walked %d files", count)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	})
	b.Run("index-unchanged", func(b *testing.B) {
		var heap uint64
		for b.Loop() {
			w, err := store.OpenWriter(sdir, bind, store.WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap = ms.HeapAlloc
			st, err := Run(context.Background(), w, noEmbed{}, Options{Roots: []string{root}})
			w.Close()
			if err != nil || st.Unchanged != n {
				b.Fatalf("%v %+v", err, st)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
		b.ReportMetric(float64(heap)/1e6, "writer-heap-MB")
	})
}

// caltechFiles returns the first n image files of caltech101-neardup.
func caltechFiles(b *testing.B, n int) []string {
	all := imageFiles(testenv.SharedData(b, "caltech101-neardup"))
	return all[:min(n, len(all))]
}

// peakHeap samples the heap in use until stop is called.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// make12MP writes n 4000x3000 JPEGs (quality 90) made by scaling
// caltech101-neardup photos up, with noise so each file is distinct.
func make12MP(b *testing.B, dir string, n int) []string {
	var out []string
	rng := rand.New(rand.NewPCG(3, 4))
	for i, src := range caltechFiles(b, n) {
		data, err := os.ReadFile(src)
		if err != nil {
			b.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			continue
		}
		sb := img.Bounds()
		dst := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
		for y := 0; y < 3000; y++ {
			sy := sb.Min.Y + y*sb.Dy()/3000
			for x := 0; x < 4000; x++ {
				r, g, bl, _ := img.At(sb.Min.X+x*sb.Dx()/4000, sy).RGBA()
				j := uint8(rng.IntN(8))
				o := dst.PixOffset(x, y)
				dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2], dst.Pix[o+3] = uint8(r>>8)+j, uint8(g>>8)+j, uint8(bl>>8)+j, 255
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("photo%02d.jpg", i))
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := jpeg.Encode(f, dst, &jpeg.Options{Quality: 90}); err != nil {
			b.Fatal(err)
		}
		f.Close()
		out = append(out, p)
	}
	return out
}

// BenchmarkIndex12MP indexes 12-megapixel JPEGs (decode and resize
// dominate with the tiny encoder) against Embed alone. -benchtime=1x.
func BenchmarkIndex12MP(b *testing.B) {
	files := make12MP(b, b.TempDir(), 16)
	enc, m := testEncoder(b)
	benchIndexVsEmbed(b, enc, m, files)
}

// BenchmarkIndexCaltech indexes 1,000 caltech101-neardup images with the
// tiny test encoder into a fresh store, against the same encoder's Embed
// with results thrown away (the peer: what the store, hashing and catalog
// add). Run with -benchtime=1x.
func BenchmarkIndexCaltech(b *testing.B) {
	files := caltechFiles(b, 1000)
	enc, m := testEncoder(b)
	benchIndexVsEmbed(b, enc, m, files)
}

func benchIndexVsEmbed(b *testing.B, enc *infer.Encoder, m *models.Model, files []string) {
	b.Run("embed-only", func(b *testing.B) {
		for b.Loop() {
			paths := make(chan string)
			go func() {
				defer close(paths)
				for _, p := range files {
					paths <- p
				}
			}()
			stop := peakHeap()
			err := enc.Embed(context.Background(), paths, func(infer.Item) error { return nil })
			b.ReportMetric(float64(stop())/1e6, "peak-heap-MB")
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("index", func(b *testing.B) {
		for b.Loop() {
			w, err := store.OpenWriter(b.TempDir(), Binding(m), store.WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			stop := peakHeap()
			st, err := Run(context.Background(), w, enc, Options{Files: files})
			b.ReportMetric(float64(stop())/1e6, "peak-heap-MB")
			w.Close()
			if err != nil && !errors.Is(err, context.Canceled) {
				b.Fatal(err)
			}
			if st.New+st.Failed != len(files) {
				b.Fatalf("%+v", st)
			}
		}
		b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
}
