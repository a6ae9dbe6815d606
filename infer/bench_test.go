package infer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/embedsearch/embedsearch/models"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// BenchmarkPipeline measures, in one run and over the same files:
//
//	prep-img/s      decode+preprocess alone, Workers goroutines reading the files
//	infer-img/s     inference alone on ready tensors (the model's ceiling)
//	pipeline-img/s  Embed, the whole pipeline
//	pipeline/ceiling  pipeline-img/s over the lower of the two ceilings
//
// The model is $EMBEDSEARCH_BENCH_MODEL, else the built-in model, else
// testdata/models/tiny224 (a cheap graph at CLIP's 224x224 input, so that
// preprocessing costs what it costs for real models). The file sets are 200
// photos of caltech101-neardup and eight 12-megapixel JPEGs made from its
// originals with ImageMagick (resize to cover 4000x3000, centre crop,
// quality 90) in a temporary folder.
//
//	go test ./infer -run '^$' -bench Pipeline -benchtime 3x
func BenchmarkPipeline(b *testing.B) {
	e := benchEncoder(b)
	defer func() { // sub-benchmarks may ask for the big files several times; make them once
		if bigDir != "" {
			os.RemoveAll(bigDir)
			bigDir = ""
		}
	}()
	for _, set := range []struct {
		name  string
		paths func(b *testing.B) []string
	}{
		{"caltech", func(b *testing.B) []string { return benchCaltech(b, 200) }},
		{"12mp", benchBigJPEGs},
	} {
		b.Run(set.name, func(b *testing.B) {
			paths := set.paths(b)
			n := len(paths)
			benchPrepare(b, e, paths) // warm the page cache and the allocator
			b.ResetTimer()
			var prep, inf, pipe time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				tensors := benchPrepare(b, e, paths)
				t1 := time.Now()
				if _, err := e.RunTensors(tensors, n); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				got := 0
				err := e.Embed(context.Background(), feed(paths), func(it Item) error {
					if it.Err != nil {
						return it.Err
					}
					got++
					return nil
				})
				if err != nil || got != n {
					b.Fatalf("pipeline: %v after %d of %d", err, got, n)
				}
				t3 := time.Now()
				prep, inf, pipe = prep+t1.Sub(t0), inf+t2.Sub(t1), pipe+t3.Sub(t2)
			}
			rate := func(d time.Duration) float64 { return float64(n*b.N) / d.Seconds() }
			b.ReportMetric(rate(prep), "prep-img/s")
			b.ReportMetric(rate(inf), "infer-img/s")
			b.ReportMetric(rate(pipe), "pipeline-img/s")
			b.ReportMetric(rate(pipe)/min(rate(prep), rate(inf)), "pipeline/ceiling")
		})
	}
}

func benchEncoder(b *testing.B) *Encoder {
	rt := testRuntime(b)
	var m *models.Model
	var err error
	if spec := os.Getenv("EMBEDSEARCH_BENCH_MODEL"); spec != "" {
		m, err = models.Open(spec)
	} else if m, err = models.Builtin(); err != nil {
		m, err = models.Open(filepath.Join(testenv.RepoRoot(b), "testdata", "models", "tiny224"))
	}
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEncoder(rt, m, EncoderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	b.Logf("model %s, batch %d, %d workers, device %s", m.Manifest.ID, e.Batch(), e.workers, e.Device())
	return e
}

// benchPrepare is the pipeline's first stage alone: read and prepare every
// file with Workers goroutines.
func benchPrepare(b *testing.B, e *Encoder, paths []string) []float32 {
	out := make([]float32, len(paths)*e.tlen)
	var g errgroup.Group
	g.SetLimit(e.workers)
	for i, p := range paths {
		g.Go(func() error {
			it := Item{Path: p}
			if !e.prepare(context.Background(), &it, out[i*e.tlen:(i+1)*e.tlen]) {
				return it.Err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	return out
}

func benchCaltech(b *testing.B, n int) []string {
	names, _ := filepath.Glob(filepath.Join(testenv.SharedData(b), "caltech101-neardup", "distractors", "*.jpg"))
	if len(names) == 0 {
		b.Skip("no caltech101-neardup distractors")
	}
	sort.Strings(names)
	return names[:min(n, len(names))]
}

var bigDir string

func benchBigJPEGs(b *testing.B) []string {
	data := testenv.SharedData(b)
	if bigDir == "" {
		if _, err := exec.LookPath("convert"); err != nil {
			b.Skipf("ImageMagick's convert not found: %v", err)
		}
		dir, err := os.MkdirTemp("", "embedsearch-bench-12mp-")
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 8; i++ {
			src := filepath.Join(data, "caltech101-neardup", "dups", fmt.Sprintf("g%04d", i), "original.jpg")
			dst := filepath.Join(dir, fmt.Sprintf("big%d.jpg", i))
			cmd := exec.Command("convert", src, "-resize", "4000x3000^", "-gravity", "center", "-extent", "4000x3000", "-quality", "90", dst)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("convert: %v: %s", err, out)
			}
		}
		bigDir = dir
	}
	names, _ := filepath.Glob(filepath.Join(bigDir, "*.jpg"))
	return names
}
