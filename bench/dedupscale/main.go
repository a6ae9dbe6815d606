// Command dedupscale times dedup's grouping on a large synthetic store, in
// process (collection.FindDuplicates, what `embedsearch dedup` runs after
// opening the store), by the exact all-pairs path and through the graph,
// and prints one table. The store holds clustered random unit vectors with
// a near copy after every -copies-th one (package synthstore; no images,
// so no signatures: the near test judges by the vectors, the K nearest of
// every row included). The pixel check's cost per candidate pair is
// signature's BenchmarkCompare.
//
//	go run ./bench/dedupscale -n 200000 -dim 512
//	go run ./bench/dedupscale -n 200000 -dim 512 -graph   # builds the graph too (minutes)
//	go run ./bench/dedupscale -n 200000 -dim 512 -graph -exact=false -dir D   # the graph path only, the store in D reused
//	go run ./bench/dedupscale -graph -exact=false -distance=false -dir D -cpuprofile P   # the near test only, profiled
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/embedsearch/embedsearch/bench/internal/cputime"
	"github.com/embedsearch/embedsearch/bench/internal/synthstore"
	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

var (
	n         = flag.Int("n", 200000, "vectors in the store")
	dim       = flag.Int("dim", 512, "vector dimension")
	spread    = flag.Float64("spread", 0.7, "spread of the vectors around their cluster centre (lower: more crowded)")
	copies    = flag.Int("copies", 10, "a near copy after every N-th vector")
	dir       = flag.String("dir", "", "work directory (default: a temp dir, removed at the end); an existing store of the same shape is reused")
	graph     = flag.Bool("graph", false, "also build the graph and group through it")
	exactRuns = flag.Bool("exact", true, "group by the exact all-pairs path (-exact=false: through the graph only)")
	distance  = flag.Bool("distance", true, "also group by a distance alone (-distance=false: the near test only)")
	profile   = flag.String("cpuprofile", "", "write a CPU profile of the grouping runs to FILE")
)

func main() {
	flag.Parse()
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "dedupscale")
		check(err)
		defer os.RemoveAll(d)
		work = d
	}
	sdir := filepath.Join(work, fmt.Sprintf("store-%dx%d-s%g-c%d-v2", *n, *dim, *spread, *copies))
	r, err := store.Open(sdir)
	if err != nil || r.Len() != *n || (*graph && !hasGraph(sdir)) {
		if r != nil {
			r.Close()
		}
		_, _, err := synthstore.Build(sdir, synthstore.Options{N: *n, Dim: *dim, Spread: *spread, Copies: *copies, Noise: 0.05,
			ANN: *graph, Progress: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f, a...) }})
		check(err)
		r, err = store.Open(sdir)
		check(err)
	}
	defer r.Close()
	b, err := models.Builtin()
	check(err)
	near, err := collection.NewCriterion(b.Manifest, collection.PresetNear)
	check(err)
	type run struct {
		name  string
		crit  collection.Criterion
		exact bool
	}
	var runs []run
	for _, exact := range []bool{true, false} {
		if (exact && *exactRuns) || (!exact && *graph) {
			runs = append(runs, run{"near (K nearest + score)", near, exact})
			if *distance {
				runs = append(runs, run{"distance ≤ near", collection.DistanceCriterion(near.Within), exact})
			}
		}
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%d × %d, spread %g, %d cores\t\t\t\t\t\t\n", *n, *dim, *spread, runtime.GOMAXPROCS(0))
	fmt.Fprintln(tw, "test\tpath\tseconds\tCPU seconds\tcandidate pairs\tgroups\tgrouped\t")
	for _, run := range runs {
		t0, c0 := time.Now(), cputime.Self()
		d, err := collection.FindDuplicates(context.Background(), r, collection.DuplicateOptions{Criterion: run.crit,
			Search: collection.SearchOptions{Exact: run.exact, Searches: r.Len(), LoadCost: -1, ANNThreshold: 1}})
		check(err)
		el, cpu := time.Since(t0), cputime.Self()-c0
		grouped := 0
		for _, g := range d.Groups {
			grouped += len(g.Members)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%d\t%d\t%d\t\n", run.name, d.Method, el.Seconds(), cpu.Seconds(), d.Pairs, len(d.Groups), grouped)
	}
	tw.Flush()
}

func hasGraph(sdir string) bool {
	_, err := os.Stat(filepath.Join(sdir, store.ANNFile))
	return err == nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "dedupscale:", err)
		os.Exit(1)
	}
}
