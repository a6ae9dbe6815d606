// Command annquery measures `embedsearch query` end to end (process start
// to last byte of output) on a large synthetic store, with the approximate
// index and with --exact, and prints one table. The store is written
// directly through package store (fake entries, clustered random unit
// vectors: no images, no model), then its approximate index is built the
// way `embedsearch index` builds it. Queries are `--vector FILE.json`
// (a stored vector plus noise), so no model is loaded.
//
//	go run ./bench/annquery -n 1000000 -dim 128     # the built-in model's dim
//	go run ./bench/annquery -n 200000 -dim 512
//
// Timings are with the store in the page cache (after one warm-up run);
// recall@10 compares the two paths' result lists.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/bench/internal/synthstore"
	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

var (
	n       = flag.Int("n", 200000, "vectors in the store")
	dim     = flag.Int("dim", 512, "vector dimension")
	dir     = flag.String("dir", "", "work directory (default: a temp dir, removed at the end); an existing store of the same size is reused")
	queries = flag.Int("queries", 20, "query vectors")
	reps    = flag.Int("reps", 3, "runs of each query (the minimum is kept)")
	k       = flag.Int("k", 10, "results per query")
)

func main() {
	flag.Parse()
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "annquery")
		check(err)
		defer os.RemoveAll(d)
		work = d
	}
	check(os.MkdirAll(work, 0o755))
	sdir := filepath.Join(work, fmt.Sprintf("store-%dx%d", *n, *dim))
	bin := filepath.Join(work, "embedsearch")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/embedsearch")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	check(cmd.Run())

	var writeDur, annDur time.Duration
	if r, err := store.Open(sdir); err == nil && r.Len() == *n && r.Dim() == *dim {
		if _, err := index.LoadANN(r); err != nil {
			r.Close()
			check(fmt.Errorf("existing store %s has no usable ANN: %v", sdir, err))
		}
		r.Close()
		fmt.Fprintf(os.Stderr, "reusing %s\n", sdir)
	} else {
		writeDur, annDur = build(sdir)
	}

	r, err := store.Open(sdir)
	check(err)
	m := search.Matrix{Data: r.Vectors(), Dim: r.Dim()}
	rng := rand.New(rand.NewPCG(42, 1))
	var qfiles []string
	for i := range *queries {
		v := slices.Clone(m.Row(rng.IntN(m.Len())))
		for j := range v {
			v[j] += float32(0.05 * rng.NormFloat64() / float64(*dim) * 8)
		}
		search.Normalize(v)
		b, _ := json.Marshal(v)
		p := filepath.Join(work, fmt.Sprintf("q%d.json", i))
		check(os.WriteFile(p, b, 0o644))
		qfiles = append(qfiles, p)
	}
	storeBytes, _ := store.DiskUsage(sdir)
	annInfo, _ := r.ReadANN(func(io.Reader) error { return nil })
	// The parts of the ANN path, in this process: loading the graph, and
	// one search (the vectors are already in the page cache).
	t0 := time.Now()
	ix, err := index.LoadANN(r)
	check(err)
	loadT := time.Since(t0)
	qv := m.Row(1)
	t0 = time.Now()
	ix.Search(m, qv, *k, max(200, 2**k), search.Options{})
	searchT := time.Since(t0)
	t0 = time.Now()
	search.Exact(m, qv, *k, search.Options{})
	exactT := time.Since(t0)
	r.Close()

	run := func(q string, exact bool) ([]string, time.Duration) {
		args := []string{"query", "--store", sdir, "--vector", q, "-k", fmt.Sprint(*k), "--paths"}
		if exact {
			args = append(args, "--exact")
		}
		best := time.Duration(1 << 62)
		var out []byte
		for range *reps {
			c := exec.Command(bin, args...)
			var errb strings.Builder
			c.Stderr = &errb
			t0 := time.Now()
			o, err := c.Output()
			d := time.Since(t0)
			if err != nil || errb.Len() > 0 {
				check(fmt.Errorf("%v: %v %s", args, err, errb.String()))
			}
			best, out = min(best, d), o
		}
		return strings.Fields(string(out)), best
	}
	run(qfiles[0], true) // warm the page cache
	run(qfiles[0], false)
	var annT, exT []time.Duration
	hit, total := 0, 0
	for _, q := range qfiles {
		a, da := run(q, false)
		e, de := run(q, true)
		annT, exT = append(annT, da), append(exT, de)
		for _, p := range e {
			if slices.Contains(a, p) {
				hit++
			}
		}
		total += len(e)
	}
	med := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	fmt.Printf("\n`embedsearch query --vector` end to end, %d × %d store (%.0f MB on disk, ANN file %.0f MB), %d queries, k=%d, page cache warm\n\n",
		*n, *dim, float64(storeBytes)/1e6, float64(annInfo.Size)/1e6, len(qfiles), *k)
	fmt.Println("| path (as `query` chose it) | median | worst | recall@10 vs exact |")
	fmt.Println("|---|---:|---:|---:|")
	fmt.Printf("| default (HNSW M=%d efC=%d, ef=max(200,2k) when loading it pays) | %s | %s | %.3f |\n", index.ANNParams.M, index.ANNParams.EfConstruction,
		ms(med(annT)), ms(slices.Max(annT)), float64(hit)/float64(total))
	fmt.Printf("| --exact | %s | %s | 1 |\n", ms(med(exT)), ms(slices.Max(exT)))
	fmt.Printf("| ratio --exact / default | %.1f× | | |\n", float64(med(exT))/float64(med(annT)))
	fmt.Printf("\nin process: load the graph %s, one HNSW search %s, one exact search %s (vectors in the page cache)\n",
		ms(loadT), ms(searchT), ms(exactT))
	if writeDur > 0 {
		fmt.Printf("\nstore written and compacted in %s; ANN built in %s (%.1f s per 100,000 vectors) on this machine\n",
			writeDur.Round(time.Second), annDur.Round(time.Second), annDur.Seconds()/float64(*n)*1e5)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// build writes a store of n clustered unit vectors and its ANN file.
func build(sdir string) (time.Duration, time.Duration) {
	w, a, err := synthstore.Build(sdir, synthstore.Options{N: *n, Dim: *dim, ANN: true,
		Progress: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format, args...) }})
	check(err)
	return w, a
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "annquery:", err)
		os.Exit(1)
	}
}
