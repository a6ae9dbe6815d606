// Command search benchmarks package search against FAISS (Debian's
// python3-faiss with OpenBLAS) on the same vectors, in the same run, and
// prints one table. Run it through run.sh; see -help for the knobs.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unsafe"

	"github.com/embedsearch/embedsearch/bench/internal/cputime"
	"github.com/embedsearch/embedsearch/search"
)

var (
	only      = flag.String("only", "exact,batch,ann,dedup", "experiments to run")
	reps      = flag.Int("reps", 30, "repetitions of each timed step (the minimum is reported)")
	exactN    = flag.Int("exact-n", 200000, "rows for the exact and dedup experiments (dim 512)")
	annSets   = flag.String("ann", "1000000x128,200000x512", "ANN data sets, NxD")
	annKinds  = flag.String("kinds", "random,clustered", "ANN data kinds: random, clustered, or real:FILE.jsonl (`embedsearch embed --format jsonl` output; the last 1,000 rows are the queries, -ann sizes are ignored)")
	annM      = flag.Int("M", 16, "HNSW M (both)")
	annEfc    = flag.Int("efc", 100, "HNSW efConstruction (both)")
	efs       = flag.String("ef", "16,32,64,128,256,512", "efSearch sweep (both)")
	dedupDist = flag.Float64("dedup", 0.3, "dedup distance threshold")
	dedupANN  = flag.Bool("dedup-ann", true, "also find the dedup pairs from an HNSW k-NN graph (k=64) and measure its recall")
	faissQ    = flag.Int("faiss-range-queries", 20000, "queries FAISS range_search runs (its time is scaled to all rows)")
	python    = flag.String("python", "/usr/bin/python3", "python with faiss")
	workdir   = flag.String("dir", "", "where to write the vectors for FAISS (default: a temp dir)")
)

type row struct{ what, ours, peer, ratio, note string }

var table []row

func add(what, ours, peer, ratio, note string) {
	table = append(table, row{what, ours, peer, ratio, note})
	fmt.Fprintf(os.Stderr, "%-48s %-14s %-14s %-8s %s\n", what, ours, peer, ratio, note)
}

func main() {
	flag.Parse()
	dir := *workdir
	if dir == "" {
		d, err := os.MkdirTemp("", "searchbench")
		must(err)
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Fprintf(os.Stderr, "GOMAXPROCS %d (the search workers), dir %s\n", runtime.GOMAXPROCS(0), dir)
	for _, exp := range strings.Split(*only, ",") {
		switch exp {
		case "exact":
			exact(dir)
		case "batch":
			batch(dir)
		case "ann":
			for _, k := range strings.Split(*annKinds, ",") {
				if strings.HasPrefix(k, "real:") {
					ann(dir, 0, 0, k)
				}
			}
			for _, s := range strings.Split(*annSets, ",") {
				var n, d int
				fmt.Sscanf(s, "%dx%d", &n, &d)
				for _, k := range strings.Split(*annKinds, ",") {
					if !strings.HasPrefix(k, "real:") {
						ann(dir, n, d, k)
					}
				}
			}
		case "dedup":
			dedup(dir)
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "experiment\tours\tpeer\tratio\tnote")
	for _, r := range table {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.what, r.ours, r.peer, r.ratio, r.note)
	}
	w.Flush()
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func randUnit(rng *rand.Rand, n, dim int) search.Matrix {
	m := search.Matrix{Data: make([]float32, n*dim), Dim: dim}
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	for i := range n {
		search.Normalize(m.Row(i))
	}
	return m
}

// clustered draws rows around 1000 random centres with noise of total
// length about 0.7, which is roughly how embeddings of a photo library sit.
func clustered(rng *rand.Rand, centres search.Matrix, n int) search.Matrix {
	dim := centres.Dim
	s := 0.7 / math.Sqrt(float64(dim))
	m := search.Matrix{Data: make([]float32, n*dim), Dim: dim}
	for i := range n {
		row, c := m.Row(i), centres.Row(rng.IntN(centres.Len()))
		for j := range row {
			row[j] = c[j] + float32(s*rng.NormFloat64())
		}
		search.Normalize(row)
	}
	return m
}

func writeF32(path string, data []float32) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), len(data)*4)
	must(os.WriteFile(path, b, 0o644))
}

func writeI32(path string, data []int32) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), len(data)*4)
	must(os.WriteFile(path, b, 0o644))
}

// peer runs one FAISS experiment and decodes its JSON answer.
func peer(args ...string) map[string]any {
	cmd := exec.Command(*python, append([]string{scriptPath()}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	must(err)
	var v map[string]any
	must(json.Unmarshal(out, &v))
	return v
}

func scriptPath() string {
	if _, err := os.Stat("bench/search/faiss_bench.py"); err == nil {
		return "bench/search/faiss_bench.py"
	}
	return filepath.Join(filepath.Dir(os.Args[0]), "faiss_bench.py")
}

func itoa(n int) string { return strconv.Itoa(n) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func secs(s float64) string { return fmt.Sprintf("%.2f s", s) }

func timeMin(n int, f func(i int)) time.Duration {
	best := time.Duration(1 << 62)
	for i := range n {
		t := time.Now()
		f(i)
		best = min(best, time.Since(t))
	}
	return best
}

var exactData struct {
	once sync.Once
	m    search.Matrix
	qs   search.Matrix
}

func exactSet(dir string) (search.Matrix, search.Matrix) {
	exactData.once.Do(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		exactData.m = randUnit(rng, *exactN, 512)
		exactData.qs = randUnit(rng, 100, 512)
		writeF32(dir+"/data.f32", exactData.m.Data)
		writeF32(dir+"/queries.f32", exactData.qs.Data)
	})
	return exactData.m, exactData.qs
}

// server is a FAISS process answering timed steps on request.
type server struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startServer(args ...string) *server {
	cmd := exec.Command(*python, append([]string{scriptPath()}, args...)...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	must(err)
	outp, err := cmd.StdoutPipe()
	must(err)
	must(cmd.Start())
	s := &server{cmd: cmd, in: in, out: bufio.NewScanner(outp)}
	if !s.out.Scan() || s.out.Text() != "ready" {
		must(fmt.Errorf("faiss server did not start"))
	}
	return s
}

func (s *server) time(req string) time.Duration {
	fmt.Fprintln(s.in, req)
	if !s.out.Scan() {
		must(fmt.Errorf("faiss server stopped"))
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s.out.Text()), 64)
	must(err)
	return time.Duration(v * 1e9)
}

func (s *server) close() { s.in.Close(); s.cmd.Wait() }

// exact and batch alternate ours, the streaming yardstick and FAISS step by
// step, so that all three see the same load on a shared machine; each
// reports its minimum.
func exact(dir string) {
	m, qs := exactSet(dir)
	fs := startServer("serve", dir, itoa(m.Len()), "512")
	defer fs.close()
	var stream, ours, peerT time.Duration = 1 << 62, 1 << 62, 1 << 62
	for i := range *reps {
		stream = min(stream, timeMin(1, func(int) { search.Stream(m.Data, 0) }))
		ours = min(ours, timeMin(1, func(int) { search.Exact(m, qs.Row(i%qs.Len()), 10, search.Options{}) }))
		peerT = min(peerT, fs.time(fmt.Sprintf("exact %d", i%qs.Len())))
	}
	what := fmt.Sprintf("exact k=10, 1 query, %d×512", m.Len())
	add(what+" vs stream", ms(ours), ms(stream), fmt.Sprintf("%.2f×", float64(ours)/float64(stream)), "peer: reading the vectors once (SIMD sum, 2 threads); target ≤ 1.5×")
	add(what+" vs FAISS", ms(ours), ms(peerT), fmt.Sprintf("%.2f×", float64(peerT)/float64(ours)), "FAISS IndexFlatL2 time / ours (FAISS: best of 1 and 2 threads); target ≥ 3×")
}

func batch(dir string) {
	m, qs := exactSet(dir)
	fs := startServer("serve", dir, itoa(m.Len()), "512")
	defer fs.close()
	var ours, peerT time.Duration = 1 << 62, 1 << 62
	for range max(3, *reps/5) {
		ours = min(ours, timeMin(1, func(int) { search.ExactBatch(m, qs, 10, search.Options{}) }))
		peerT = min(peerT, fs.time(fmt.Sprintf("batch %d", qs.Len())))
	}
	add(fmt.Sprintf("exact k=10, 100 queries batched, %d×512", m.Len()), ms(ours), ms(peerT),
		fmt.Sprintf("%.2f×", float64(peerT)/float64(ours)), "FAISS IndexFlatL2 (BLAS, best of 1 and 2 threads) time / ours; target ≥ 1×")
}

func ann(dir string, n, dim int, kind string) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(dim)))
	var m, qs search.Matrix
	switch {
	case kind == "clustered":
		centres := randUnit(rng, 1000, dim)
		m = clustered(rng, centres, n)
		qs = clustered(rng, centres, 1000)
	case kind == "random":
		m = randUnit(rng, n, dim)
		qs = randUnit(rng, 1000, dim)
	default:
		m, qs = readEmbeddings(strings.TrimPrefix(kind, "real:"), 1000)
		n, dim, kind = m.Len(), m.Dim, "real "+filepath.Base(strings.TrimPrefix(kind, "real:"))
	}
	truth := search.ExactBatch(m, qs, 10, search.Options{})
	gt := make([]int32, 0, 10*qs.Len())
	for _, r := range truth {
		for _, nb := range r {
			gt = append(gt, int32(nb.ID))
		}
	}
	ddir := filepath.Join(dir, fmt.Sprintf("ann-%s-%dx%d", strings.ReplaceAll(kind, " ", "-"), n, dim))
	must(os.MkdirAll(ddir, 0o755))
	writeF32(ddir+"/data.f32", m.Data)
	writeF32(ddir+"/queries.f32", qs.Data)
	writeI32(ddir+"/gt.i32", gt)

	t, cpu0 := time.Now(), cputime.Self()
	ix, err := search.BuildHNSW(context.Background(), m, search.HNSWOptions{M: *annM, EfConstruction: *annEfc})
	must(err)
	build, buildCPU := time.Since(t), cputime.Self()-cpu0
	var file bytes.Buffer
	_, err = ix.WriteTo(&file)
	must(err)
	// Opening as query does: in place, checking the small sections.
	t = time.Now()
	_, err = search.MapHNSW(file.Bytes())
	must(err)
	load := time.Since(t)
	graphBytes := file.Len()
	file = bytes.Buffer{}

	type point struct {
		ef          int
		recall, qps float64
	}
	var ourSweep []point
	for _, s := range strings.Split(*efs, ",") {
		ef, _ := strconv.Atoi(s)
		var res [][]search.Neighbor
		d := timeMin(2, func(int) { res = parallelSearch(ix, m, qs, ef) })
		ourSweep = append(ourSweep, point{ef, recall(res, truth), float64(qs.Len()) / d.Seconds()})
	}
	for _, p := range ourSweep {
		fmt.Fprintf(os.Stderr, "  ours %s %d×%d: build %.1f s (CPU %.0f s), ef=%d recall %.3f %.0f q/s\n", kind, n, dim, build.Seconds(), buildCPU.Seconds(), p.ef, p.recall, p.qps)
	}
	f := peer("hnsw", ddir, itoa(n), itoa(dim), itoa(qs.Len()), itoa(*annM), itoa(*annEfc), *efs)
	var peerSweep []point
	for _, p := range f["sweep"].([]any) {
		pm := p.(map[string]any)
		peerSweep = append(peerSweep, point{int(pm["ef"].(float64)), pm["recall"].(float64), pm["qps"].(float64)})
	}
	// Compare at the first ef that reaches recall 0.95 on each side.
	pick := func(ps []point) (point, bool) {
		for _, p := range ps {
			if p.recall >= 0.95 {
				return p, true
			}
		}
		return ps[len(ps)-1], false
	}
	o, ook := pick(ourSweep)
	p, pok := pick(peerSweep)
	what := fmt.Sprintf("ANN %s %d×%d, M=%d efC=%d", kind, n, dim, *annM, *annEfc)
	note := func(ok bool) string {
		if ok {
			return ""
		}
		return " (0.95 not reached)"
	}
	add(what+": q/s at recall@10≥0.95", fmt.Sprintf("%.0f q/s", o.qps), fmt.Sprintf("%.0f q/s", p.qps),
		fmt.Sprintf("%.2f×", o.qps/p.qps),
		fmt.Sprintf("ours ef=%d recall %.3f%s; FAISS IndexHNSWFlat ef=%d recall %.3f%s; 2 threads, 1000 queries", o.ef, o.recall, note(ook), p.ef, p.recall, note(pok)))
	add(what+": build", secs(build.Seconds()), secs(f["build_seconds"].(float64)),
		fmt.Sprintf("%.2f×", f["build_seconds"].(float64)/build.Seconds()),
		fmt.Sprintf("peer time / ours (wall); CPU seconds ours %.0f, FAISS %.0f (%.2f×)", buildCPU.Seconds(), f["build_cpu_seconds"].(float64), f["build_cpu_seconds"].(float64)/buildCPU.Seconds()))
	add(what+": graph memory", fmt.Sprintf("%.0f MB", float64(graphBytes)/1e6), fmt.Sprintf("%.0f MB", f["graph_bytes"].(float64)/1e6),
		"", fmt.Sprintf("serialised graph without the %.0f MB of vectors; ours opens (MapHNSW, checksum included) in %s", float64(n*dim*4)/1e6, ms(load)))
	var sw []string
	for i := range ourSweep {
		sw = append(sw, fmt.Sprintf("ef%d %.3f/%.0f vs %.3f/%.0f", ourSweep[i].ef, ourSweep[i].recall, ourSweep[i].qps, peerSweep[i].recall, peerSweep[i].qps))
	}
	fmt.Fprintf(os.Stderr, "  sweep (recall/qps ours vs FAISS): %s\n", strings.Join(sw, "; "))
}

// readEmbeddings reads `embedsearch embed --format jsonl` output, shuffled
// with a fixed seed: all rows but the last nq are the data, those are the
// queries.
func readEmbeddings(path string, nq int) (data, queries search.Matrix) {
	f, err := os.Open(path)
	must(err)
	defer f.Close()
	var rows [][]float32
	dec := json.NewDecoder(f)
	for {
		var r struct{ Vector []float32 }
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else {
			must(err)
		}
		if len(rows) > 0 && len(r.Vector) != len(rows[0]) {
			must(fmt.Errorf("%s: rows of dimensions %d and %d", path, len(rows[0]), len(r.Vector)))
		}
		rows = append(rows, r.Vector)
	}
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	if len(rows) <= 2*nq {
		must(fmt.Errorf("%s: %d rows, need more than %d", path, len(rows), 2*nq))
	}
	flat := func(rs [][]float32) search.Matrix {
		m := search.Matrix{Dim: len(rs[0])}
		for _, r := range rs {
			m.Data = append(m.Data, r...)
		}
		return m
	}
	return flat(rows[:len(rows)-nq]), flat(rows[len(rows)-nq:])
}

func parallelSearch(ix *search.HNSW, m, qs search.Matrix, ef int) [][]search.Neighbor {
	res := make([][]search.Neighbor, qs.Len())
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= qs.Len() {
					return
				}
				res[i] = ix.Search(m, qs.Row(i), 10, ef, search.Options{})
			}
		}()
	}
	wg.Wait()
	return res
}

func recall(got, want [][]search.Neighbor) float64 {
	hit, total := 0, 0
	for i := range want {
		in := map[int]bool{}
		for _, nb := range got[i] {
			in[nb.ID] = true
		}
		for _, nb := range want[i] {
			if in[nb.ID] {
				hit++
			}
		}
		total += len(want[i])
	}
	return float64(hit) / float64(total)
}

// dedup plants groups of near copies in random vectors and finds them.
func dedup(dir string) {
	n, dim := *exactN, 512
	rng := rand.New(rand.NewPCG(7, 7))
	m := randUnit(rng, n, dim)
	// 2,000 originals get 1–3 copies each at distances of about 0.02–0.14
	// (so copies of one original are also within 0.3 of each other).
	type pair struct{ a, b int }
	var planted []pair
	perm := rng.Perm(n)
	next := 0
	for range 2000 {
		orig := perm[next]
		next++
		group := []int{orig}
		for range 1 + rng.IntN(3) {
			c := perm[next]
			next++
			sigma := (0.02 + 0.12*rng.Float64()) / math.Sqrt(float64(dim))
			row, src := m.Row(c), m.Row(orig)
			for j := range row {
				row[j] = src[j] + float32(sigma*rng.NormFloat64())
			}
			search.Normalize(row)
			group = append(group, c)
		}
		for i := range group {
			for j := i + 1; j < len(group); j++ {
				a, b := min(group[i], group[j]), max(group[i], group[j])
				planted = append(planted, pair{a, b})
			}
		}
	}
	ddir := filepath.Join(dir, "dedup")
	must(os.MkdirAll(ddir, 0o755))
	writeF32(ddir+"/data.f32", m.Data)

	t, cpu0 := time.Now(), cputime.Self()
	pairs, err := search.Pairs(context.Background(), m, float32(*dedupDist), search.Options{})
	must(err)
	groups, _ := search.Groups(m, pairs, float32(*dedupDist), nil) // the rows are generated: none is damaged
	ours, oursCPU := time.Since(t), cputime.Self()-cpu0
	found := map[pair]bool{}
	for _, p := range pairs {
		found[pair{p.A, p.B}] = true
	}
	hit := 0
	for _, p := range planted {
		if found[p] {
			hit++
		}
	}
	nq := min(*faissQ, n)
	f := peer("range", ddir, itoa(n), itoa(dim), fmt.Sprint(*dedupDist), itoa(nq))
	fs := f["seconds"].(float64) * float64(n) / float64(nq)
	add(fmt.Sprintf("dedup CPU time (user+sys), %d×512", n), secs(oursCPU.Seconds()),
		secs(f["cpu_seconds"].(float64)*float64(n)/float64(nq)), fmt.Sprintf("%.2f×", f["cpu_seconds"].(float64)*float64(n)/float64(nq)/oursCPU.Seconds()),
		"CPU seconds of each side, less sensitive to other jobs on the machine than wall time")
	add(fmt.Sprintf("dedup all-pairs ≤ %.2f, %d×512, planted", *dedupDist, n), secs(ours.Seconds()), secs(fs),
		fmt.Sprintf("%.2f×", fs/ours.Seconds()),
		fmt.Sprintf("planted-pair recall %.4f (%d/%d), %d pairs, %d groups; target ≤ 60 s, recall ≥ 0.99; FAISS range_search over %d queries ×%.0f (full N² — ours does the triangle)",
			float64(hit)/float64(len(planted)), hit, len(planted), len(pairs), len(groups), nq, float64(n)/float64(nq)))
	if !*dedupANN {
		return
	}
	t = time.Now()
	ix, err := search.BuildHNSW(context.Background(), m, search.HNSWOptions{M: *annM, EfConstruction: *annEfc})
	must(err)
	build := time.Since(t)
	t = time.Now()
	approx, err := ix.Pairs(context.Background(), m, 64, float32(*dedupDist), search.Options{})
	must(err)
	graph := time.Since(t)
	exactSet := map[pair]bool{}
	for _, p := range pairs {
		exactSet[pair{p.A, p.B}] = true
	}
	hitA, hitP := 0, 0
	for _, p := range approx {
		if exactSet[pair{p.A, p.B}] {
			hitA++
		}
	}
	approxSet := map[pair]bool{}
	for _, p := range approx {
		approxSet[pair{p.A, p.B}] = true
	}
	for _, p := range planted {
		if approxSet[p] {
			hitP++
		}
	}
	add(fmt.Sprintf("dedup via HNSW k-NN graph (k=64), %d×512", n), secs(graph.Seconds()), secs(ours.Seconds()),
		fmt.Sprintf("%.2f×", ours.Seconds()/graph.Seconds()),
		fmt.Sprintf("peer: exact all-pairs above; recall vs exact pairs %.4f (%d/%d), planted %.4f; plus %.1f s to build the index",
			float64(hitA)/float64(max(1, len(pairs))), hitA, len(pairs), float64(hitP)/float64(len(planted)), build.Seconds()))
}
