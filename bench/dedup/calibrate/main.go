// Command calibrate chooses dedup's presets for a model on a held-out
// calibration set (bench/dedup/calibset.py makes them from photos no
// benchmark contains), never on a benchmark:
//
//	embedsearch index --store S bench/out/calib-A
//	go run ./bench/dedup/calibrate --store S --data bench/out/calib-A [--check-store S2 --check-data bench/out/calib-B]
//
// It reads the store's vectors and signatures (what dedup reads) and the
// set's groups.tsv and kinds.tsv, and chooses, in this order:
//
//   - exact: the 99th percentile of the distances between an original and
//     its copies of the exact kinds (re-encodes, resizes, metadata edits),
//     kept below the closest pair of distinct photos (no wrong group);
//   - near: the 95th percentile of the distances between an original and
//     its copies (every kind): the vectors let 95% of the edits through,
//     the neighbourhood score and the pixels keep look-alikes out;
//   - similar: the near distance with the vectors alone (no neighbourhood,
//     no pixels): a superset of near's pairs, for browsing, never for an
//     action;
//   - the near test's constants (models.Dedup): K = 30, then the grid of
//     Score, Grad, GradCrop, Colour and Changed with the most pairwise
//     recall among those whose groups (complete linkage, as dedup forms
//     them) have purity at least 0.96 and innocents at most 0.5% of the
//     images; ScoreVectors (images without signatures) the same way over
//     the vectors alone, at purity at least 0.9. (The recoloured
//     distractors of the sets, the same picture with one object in another
//     colour, keep purity under 0.98 at any useful recall: a recolouring
//     of a nearly colourless photo looks like a greyscale copy's
//     original.)
//
// With --check-store/--check-data it reports the chosen values on a second
// set (calib-B: other classes, other photos), which they must hold on.
// Prints the manifest block to paste; the README says where the values
// came from.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/signature"
	"github.com/embedsearch/embedsearch/store"
)

const k = 30

type set struct {
	r      *store.Reader
	m      search.Matrix
	group  []int    // truth group per id (-1-id when none)
	kind   []string // kind per id
	nb     *search.Neighbours
	pairs  []search.Pair
	match  map[[2]int]*signature.Match
	nTruth int // true pairs
}

func load(storeDir, data string) *set {
	r, err := store.Open(storeDir)
	if err != nil {
		fail(err)
	}
	s := &set{r: r, m: search.Matrix{Data: r.Vectors(), Dim: r.Dim()}}
	root, _ := filepath.Abs(data)
	rel := func(id int) string { p, _ := filepath.Rel(root, r.Path(id)); return p }
	gid := map[string]int{}
	sizes := map[int]int{}
	for i, line := range readLines(filepath.Join(data, "groups.tsv")) {
		for _, p := range strings.Split(line, "\t") {
			gid[p] = i
		}
	}
	kinds := map[string]string{}
	for _, line := range readLines(filepath.Join(data, "kinds.tsv")) {
		f := strings.Split(line, "\t")
		if len(f) == 3 {
			kinds[f[0]] = f[2]
		}
	}
	s.group = make([]int, r.Len())
	s.kind = make([]string, r.Len())
	for id := range r.Len() {
		p := rel(id)
		if g, ok := gid[p]; ok {
			s.group[id] = g
			sizes[g]++
		} else {
			s.group[id] = -1 - id
		}
		s.kind[id] = kinds[p]
	}
	for _, n := range sizes {
		s.nTruth += n * (n - 1) / 2
	}
	return s
}

func readLines(p string) []string {
	b, err := os.ReadFile(p)
	if err != nil {
		fail(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "calibrate:", err)
	os.Exit(1)
}

func percentile(v []float32, q float64) float32 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// thresholds chooses exact, near and similar.
func (s *set) thresholds() (exact, near, similar float32) {
	var exactCopies, copies []float32
	orig := map[int]int{}
	for id, k := range s.kind {
		if k == "original" {
			orig[s.group[id]] = id
		}
	}
	for id, k := range s.kind {
		o, ok := orig[s.group[id]]
		if !ok || o == id {
			continue
		}
		d := dist(s.m, o, id)
		copies = append(copies, d)
		if k == "exact" {
			exactCopies = append(exactCopies, d)
		}
	}
	// The closest pair of distinct photos.
	closest := float32(math.Inf(1))
	n := s.m.Len()
	for a := range n {
		for b := a + 1; b < n; b++ {
			if s.group[a] != s.group[b] {
				closest = min(closest, dist(s.m, a, b))
			}
		}
	}
	exact = min(percentile(exactCopies, 0.99), closest*0.99)
	near = percentile(copies, 0.95)
	return exact, near, near
}

func dist(m search.Matrix, a, b int) float32 {
	var dot float32
	ra, rb := m.Row(a), m.Row(b)
	for i := range ra {
		dot += ra[i] * rb[i]
	}
	return float32(math.Sqrt(math.Max(0, float64(2-2*dot))))
}

// prepare finds each image's neighbours and compares the signatures of
// every pair the loosest grid point could accept.
func (s *set) prepare(within, loosest float32) {
	var err error
	s.nb, err = search.KNN(context.Background(), s.m, k, 2, search.Options{})
	if err != nil {
		fail(err)
	}
	s.pairs = s.nb.Pairs(within)
	sigs := make([]*signature.Prepared, s.m.Len())
	for id := range sigs {
		var sg signature.Signature
		if b := s.r.Signature(id); b != nil && sg.UnmarshalBinary(b) == nil {
			sigs[id] = signature.Prepare(&sg)
		}
	}
	s.match = map[[2]int]*signature.Match{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	w := runtime.GOMAXPROCS(0)
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pi := i; pi < len(s.pairs); pi += w {
				p := s.pairs[pi]
				if s.norm(p, within/loosest) > loosest || sigs[p.A] == nil || sigs[p.B] == nil {
					continue
				}
				m := signature.Compare(sigs[p.A], sigs[p.B])
				mu.Lock()
				s.match[[2]int{p.A, p.B}] = &m
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// norm is the pair's distance over its rows' mean K-th neighbour distance,
// each capped at radius as dedup's neighbour search caps it
// (collection: Within over Score).
func (s *set) norm(p search.Pair, radius float32) float32 {
	return p.Dist / ((min(s.nb.Kth(p.A), radius) + min(s.nb.Kth(p.B), radius)) / 2)
}

type result struct {
	groups, wrong, innocents int
	purity, recall           float64
}

// group forms dedup's groups with accept (complete linkage) and scores
// them against the truth.
func (s *set) group_(accept func(a, b int, d float32) bool) result {
	var ok []search.Pair
	for _, p := range s.pairs {
		if accept(p.A, p.B, p.Dist) {
			ok = append(ok, p)
		}
	}
	in := map[[2]int]bool{}
	for _, p := range ok {
		in[[2]int{p.A, p.B}] = true
	}
	gs, _ := search.GroupsWith(s.m, ok, search.Linkage{Accept: func(a, b int, d float32) bool {
		return in[[2]int{min(a, b), max(a, b)}]
	}})
	var res result
	tp := 0
	for _, g := range gs {
		res.groups++
		bad := false
		for i, a := range g.Members {
			alone := true
			for j, b := range g.Members {
				if i != j && s.group[a] == s.group[b] {
					alone = false
				}
				if j > i {
					if s.group[a] == s.group[b] {
						tp++
					} else {
						bad = true
					}
				}
			}
			if alone {
				res.innocents++
			}
		}
		if bad {
			res.wrong++
		}
	}
	res.purity = 1 - float64(res.wrong)/float64(max(1, res.groups))
	res.recall = float64(tp) / float64(s.nTruth)
	return res
}

func (s *set) accept(c models.Dedup, exact, within float32) func(a, b int, d float32) bool {
	return func(a, b int, d float32) bool {
		if d <= exact {
			return true
		}
		if d > within {
			return false
		}
		n := float64(s.norm(search.Pair{A: a, B: b, Dist: d}, max(within, within/float32(c.Score))))
		m, ok := s.match[[2]int{min(a, b), max(a, b)}]
		if s.r.Signature(a) == nil || s.r.Signature(b) == nil {
			return n <= c.ScoreVectors
		}
		if n > c.Score || !ok {
			return false
		}
		g := c.Grad
		if m.Cropped {
			g = c.GradCrop
		}
		return float64(m.Grad) >= g && float64(m.Colour) >= c.Colour && float64(m.Changed) <= c.Changed
	}
}

func main() {
	storeDir := flag.String("store", "", "store indexed from the calibration set")
	data := flag.String("data", "", "the calibration set (groups.tsv, kinds.tsv)")
	checkStore := flag.String("check-store", "", "store of a second set to check the choice on")
	checkData := flag.String("check-data", "", "the second set")
	flag.Parse()
	s := load(*storeDir, *data)
	exact, near, similar := s.thresholds()
	fmt.Printf("%s: %d images, %d true pairs; exact %.4f, near %.4f, similar %.4f\n", *data, s.m.Len(), s.nTruth, exact, near, similar)
	const loosest = 1.0
	s.prepare(near, loosest)
	fmt.Printf("%d candidate pairs within near, %d compared by signature\n", len(s.pairs), len(s.match))

	var best models.Dedup
	var bestRes result
	found := false
	for _, score := range []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1.0} {
		for _, grad := range []float64{0.6, 0.7, 0.8} {
			for _, crop := range []float64{0.7, 0.75, 0.8, 0.85, 0.9} {
				for _, colour := range []float64{0, 0.6, 0.7, 0.8} {
					for _, changed := range []float64{0.1, 0.15, 1} {
						c := models.Dedup{K: k, Score: score, ScoreVectors: 0, Grad: grad, GradCrop: crop, Colour: colour, Changed: changed}
						res := s.group_(s.accept(c, exact, near))
						if res.purity >= 0.96 && float64(res.innocents) <= 0.005*float64(s.m.Len()) &&
							(!found || res.recall > bestRes.recall) {
							best, bestRes, found = c, res, true
						}
					}
				}
			}
		}
	}
	if !found {
		// Say how far the grid got: the best recall at each purity.
		front := map[int]result{}
		for _, score := range []float64{0.5, 0.7, 0.9} {
			for _, grad := range []float64{0.6, 0.7, 0.8} {
				for _, crop := range []float64{0.8, 0.9} {
					for _, colour := range []float64{0, 0.7, 0.8} {
						for _, changed := range []float64{0.1, 1} {
							c := models.Dedup{K: k, Score: score, Grad: grad, GradCrop: crop, Colour: colour, Changed: changed}
							res := s.group_(s.accept(c, exact, near))
							b := int(res.purity * 100)
							if r, ok := front[b]; !ok || res.recall > r.recall {
								front[b] = res
								fmt.Printf("  purity %.3f recall %.3f innocents %d: %+v\n", res.purity, res.recall, res.innocents, c)
							}
						}
					}
				}
			}
		}
		fail(fmt.Errorf("no grid point reaches purity 0.96"))
	}
	fmt.Printf("near test: %+v\n  groups %d, wrong %d, purity %.3f, innocents %d, recall %.3f\n",
		best, bestRes.groups, bestRes.wrong, bestRes.purity, bestRes.innocents, bestRes.recall)
	// Vectors alone: every image treated as unsigned.
	bestV, bestVRes, foundV := 0.0, result{}, false
	for _, sv := range []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7} {
		res := s.group_(func(a, b int, d float32) bool {
			return d <= exact || (d <= near && float64(s.norm(search.Pair{A: a, B: b, Dist: d}, max(near, near/float32(best.Score)))) <= sv)
		})
		if res.purity >= 0.9 && (!foundV || res.recall > bestVRes.recall) {
			bestV, bestVRes, foundV = sv, res, true
		}
	}
	best.ScoreVectors = bestV
	fmt.Printf("vectors alone: score %.2f: groups %d, wrong %d, purity %.3f, innocents %d, recall %.3f\n",
		bestV, bestVRes.groups, bestVRes.wrong, bestVRes.purity, bestVRes.innocents, bestVRes.recall)

	if *checkStore != "" {
		c := load(*checkStore, *checkData)
		c.prepare(near, loosest)
		res := c.group_(c.accept(best, exact, near))
		fmt.Printf("check on %s: groups %d, wrong %d, purity %.3f, innocents %d, recall %.3f\n",
			*checkData, res.groups, res.wrong, res.purity, res.innocents, res.recall)
	}
	fmt.Printf("\nmanifest:\n  \"thresholds\": {\"exact\": %.4f, \"near\": %.4f, \"similar\": %.4f},\n", exact, near, similar)
	fmt.Printf("  \"dedup\": {\"k\": %d, \"score\": %g, \"score_vectors\": %g, \"grad\": %g, \"grad_crop\": %g, \"colour\": %g, \"changed\": %g}\n",
		best.K, best.Score, best.ScoreVectors, best.Grad, best.GradCrop, best.Colour, best.Changed)
}
