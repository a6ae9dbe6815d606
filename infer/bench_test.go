package infer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/embedsearch/embedsearch/models"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// BenchmarkPipeline measures, in one run and over the same files, for
// each number of decoding workers (1 and 2; EMBEDSEARCH_BENCH_WORKERS
// lists others, e.g. "1,2,4,8,16"):
//
//	prep-img/s      decode+preprocess alone, Workers goroutines reading the files
//	infer-img/s     inference alone on ready tensors (the model's ceiling)
//	pipeline-img/s  Embed, the whole pipeline
//	pipeline/ceiling  pipeline-img/s over the lower of the two ceilings
//	cpu-ms/img      process CPU time per image of the pipeline
//
// The model is $EMBEDSEARCH_BENCH_MODEL, else the built-in model, else
// testdata/models/tiny224 (a cheap graph at CLIP's 224x224 input, so that
// preprocessing costs what it costs for real models). The file sets are 200
// photos of caltech101-neardup and eight 12-megapixel JPEGs
// (testenv.MakePhotos12MP: real photos enlarged to 4000x3000 with
// sensor-like noise, 3.4 to 4.3 MB) in a temporary folder.
//
//	go test ./infer -run '^$' -bench Pipeline -benchtime 3x
func BenchmarkPipeline(b *testing.B) {
	defer func() { // sub-benchmarks may ask for the big files several times; make them once
		if bigDir != "" {
			os.RemoveAll(bigDir)
			bigDir = ""
		}
	}()
	workers := []int{1, 2}
	if v := os.Getenv("EMBEDSEARCH_BENCH_WORKERS"); v != "" {
		workers = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("EMBEDSEARCH_BENCH_WORKERS=%q: want numbers such as 1,2,4", v)
			}
			workers = append(workers, n)
		}
	}
	for _, set := range []struct {
		name  string
		paths func(b *testing.B) []string
	}{
		{"caltech", func(b *testing.B) []string { return benchCaltech(b, 200) }},
		{"12mp", benchBigJPEGs},
	} {
		for _, w := range workers {
			b.Run(fmt.Sprintf("%s/workers=%d", set.name, w), func(b *testing.B) {
				e := benchEncoder(b, w)
				paths := set.paths(b)
				n := len(paths)
				benchPrepare(b, e, paths) // warm the page cache and the allocator
				b.ResetTimer()
				var prep, inf, pipe, pipeCPU time.Duration
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					tensors := benchPrepare(b, e, paths)
					t1 := time.Now()
					if _, err := e.RunTensors(tensors, n); err != nil {
						b.Fatal(err)
					}
					t2, c2 := time.Now(), processCPU()
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
					pipeCPU += processCPU() - c2
					prep, inf, pipe = prep+t1.Sub(t0), inf+t2.Sub(t1), pipe+t3.Sub(t2)
				}
				rate := func(d time.Duration) float64 { return float64(n*b.N) / d.Seconds() }
				b.ReportMetric(rate(prep), "prep-img/s")
				b.ReportMetric(rate(inf), "infer-img/s")
				b.ReportMetric(rate(pipe), "pipeline-img/s")
				b.ReportMetric(rate(pipe)/min(rate(prep), rate(inf)), "pipeline/ceiling")
				b.ReportMetric(float64(pipeCPU.Microseconds())/1000/float64(n*b.N), "cpu-ms/img")
			})
		}
	}
}

func benchEncoder(b *testing.B, workers int) *Encoder {
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
	e, err := NewEncoder(rt, m, EncoderOptions{Workers: workers})
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
			if !e.prepare(context.Background(), &it, out[i*e.tlen:(i+1)*e.tlen], e.files, EmbedOptions{}, new([]byte)) {
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
		dir, err := os.MkdirTemp("", "embedsearch-bench-12mp-")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := testenv.MakePhotos12MP(data, dir, 8); err != nil {
			b.Fatal(err)
		}
		bigDir = dir
	}
	names, _ := filepath.Glob(filepath.Join(bigDir, "*.jpg"))
	return names
}
