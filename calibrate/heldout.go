package calibrate

import (
	"cmp"
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/signature"
	"github.com/embedsearch/embedsearch/store"
)

// Kinds of a held-out set's images (HeldOut's kind).
const (
	KindOriginal = "original" // the photo its group's copies were made from
	KindExact    = "exact"    // a re-encode, resize or metadata edit of it
)

// K is the neighbour the near test measures a pair against (models.Dedup.K)
// in the held-out choice. It must lie beyond any group's size, or a large
// group of copies sets its own members' neighbourhood: at 30, a photo with
// 33 variants (pdq-bridge-variants) saw its copies as its crowd and split.
// 64 chose the same constants but score 0.8 on calib-A, with the same
// groups on calib-A and calib-B as 30 and score 0.9.
const K = 64

// The held-out choice's bars on a grid point's groups.
const (
	MinPurity        = 0.97  // groups with a wrong pair over all groups, at most 1 − this
	MaxInnocentShare = 0.005 // images in a group without a true copy, over all images
	MinPurityVectors = 0.9   // the same bar for the vectors alone (score_vectors)
	// RecallSlack: points this close to the most recall count as equal
	// in it (a point of recall is a few pairs a user does not miss; a
	// wrong group can cost a photo), and purity decides among them.
	RecallSlack = 0.01
)

// ErrNoChoice: no grid point of the near test reaches MinPurity.
var ErrNoChoice = errors.New("no grid point reaches the purity bar")

// HeldOut is a calibration set with known truth (bench/dedup/calibset.py
// makes them): a store's vectors and signatures, and for each image its
// group (the images of a group are copies of each other) and its kind
// (KindOriginal, KindExact, anything else for other copies and distinct
// photos). Not safe for concurrent use.
type HeldOut struct {
	r      *store.Reader
	m      search.Matrix
	group  []int
	kind   []string
	nb     *search.Neighbours
	pairs  []search.Pair
	match  map[[2]int]*signature.Match
	nTruth int
}

// Result scores the groups a test forms (complete linkage, as dedup forms
// them) against a set's truth.
type Result struct {
	Groups, Wrong, Innocents int
	Purity, Recall           float64
}

// NewHeldOut is the set of store r, group[id] the truth group of each row
// (-1-id for an image in none), kind[id] its kind.
func NewHeldOut(r *store.Reader, group []int, kind []string) *HeldOut {
	h := &HeldOut{r: r, m: search.Matrix{Data: r.Vectors(), Dim: r.Dim()}, group: group, kind: kind}
	sizes := map[int]int{}
	for _, g := range group {
		if g >= 0 {
			sizes[g]++
		}
	}
	for _, n := range sizes {
		h.nTruth += n * (n - 1) / 2
	}
	return h
}

// Len is the number of images, TruePairs the number of true pairs.
func (h *HeldOut) Len() int       { return h.m.Len() }
func (h *HeldOut) TruePairs() int { return h.nTruth }

// Thresholds chooses exact, near and similar (Thresholds): the set's copies
// against their originals, every pair of distinct photos.
func (h *HeldOut) Thresholds() models.Thresholds {
	var exactCopies, all []float32
	orig := map[int]int{}
	for id, k := range h.kind {
		if k == KindOriginal {
			orig[h.group[id]] = id
		}
	}
	for id, k := range h.kind {
		o, ok := orig[h.group[id]]
		if !ok || o == id {
			continue
		}
		d := dist(h.m, o, id)
		all = append(all, d)
		if k == KindExact {
			exactCopies = append(exactCopies, d)
		}
	}
	closest := float32(2)
	n := h.m.Len()
	for a := range n {
		for b := a + 1; b < n; b++ {
			if h.group[a] != h.group[b] {
				closest = min(closest, dist(h.m, a, b))
			}
		}
	}
	return Thresholds(exactCopies, all, []float32{closest}, false)
}

// Prepare finds each image's K nearest neighbours and compares the
// signatures of every pair within near that the loosest grid point could
// accept. It returns the candidate pairs and how many were compared.
func (h *HeldOut) Prepare(ctx context.Context, near float32) (pairs, compared int, err error) {
	const loosest = 1.0
	h.nb, err = search.KNN(ctx, h.m, K, 2, search.Options{})
	if err != nil {
		return 0, 0, err
	}
	h.pairs = h.nb.Pairs(near)
	sigs := make([]*signature.Prepared, h.m.Len())
	for id := range sigs {
		var sg signature.Signature
		if b := h.r.Signature(id); b != nil && sg.UnmarshalBinary(b) == nil {
			sigs[id] = signature.Prepare(&sg)
		}
	}
	h.match = map[[2]int]*signature.Match{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	w := runtime.GOMAXPROCS(0)
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pi := i; pi < len(h.pairs); pi += w {
				p := h.pairs[pi]
				if h.norm(p, near/loosest) > loosest || sigs[p.A] == nil || sigs[p.B] == nil {
					continue
				}
				m := signature.Compare(sigs[p.A], sigs[p.B])
				mu.Lock()
				h.match[[2]int{p.A, p.B}] = &m
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(h.pairs), len(h.match), nil
}

// norm is the pair's distance over its rows' mean K-th neighbour distance,
// each capped at radius as dedup's neighbour search caps it (collection's
// pairing: Within over Score).
func (h *HeldOut) norm(p search.Pair, radius float32) float32 {
	return p.Dist / ((min(h.nb.Kth(p.A), radius) + min(h.nb.Kth(p.B), radius)) / 2)
}

// score forms dedup's groups with accept (complete linkage) and scores
// them against the truth.
func (h *HeldOut) score(accept func(a, b int, d float32) bool) Result {
	in := map[[2]int]bool{}
	var ok []search.Pair
	for _, p := range h.pairs {
		if accept(p.A, p.B, p.Dist) {
			ok = append(ok, p)
			in[[2]int{p.A, p.B}] = true
		}
	}
	gs, _ := search.GroupsWith(h.m, ok, search.Linkage{Accept: func(a, b int, d float32) bool {
		return in[[2]int{min(a, b), max(a, b)}]
	}})
	var res Result
	tp := 0
	for _, g := range gs {
		res.Groups++
		bad := false
		for i, a := range g.Members {
			alone := true
			for j, b := range g.Members {
				if i != j && h.group[a] == h.group[b] {
					alone = false
				}
				if j > i {
					if h.group[a] == h.group[b] {
						tp++
					} else {
						bad = true
					}
				}
			}
			if alone {
				res.Innocents++
			}
		}
		if bad {
			res.Wrong++
		}
	}
	res.Purity = 1 - float64(res.Wrong)/float64(max(1, res.Groups))
	res.Recall = float64(tp) / float64(max(1, h.nTruth))
	return res
}

// accept is the near test of collection's judge on this set's
// neighbourhoods and signature comparisons.
func (h *HeldOut) accept(c models.Dedup, t models.Thresholds) func(a, b int, d float32) bool {
	exact, within := float32(t.Exact), float32(t.Near)
	return func(a, b int, d float32) bool {
		if d <= exact {
			return true
		}
		if d > within {
			return false
		}
		n := float64(h.norm(search.Pair{A: a, B: b, Dist: d}, max(within, within/float32(c.Score))))
		m, ok := h.match[[2]int{min(a, b), max(a, b)}]
		if h.r.Signature(a) == nil || h.r.Signature(b) == nil {
			return n <= c.ScoreVectors
		}
		return n <= c.Score && ok && PixelsAgree(c, *m)
	}
}

// PixelsAgree is the near test's pixel check (collection's judge, the
// held-out grid and self-calibration all use it): the gradients correlate
// (GradCrop after a crop search), one global colour change explains the
// colours, little of the picture changed locally (in tone, where either
// image has no colour to compare).
func PixelsAgree(c models.Dedup, m signature.Match) bool {
	g := c.Grad
	if m.Cropped {
		g = c.GradCrop
	}
	if m.NoColour && c.ToneChanged > 0 && float64(m.ToneChanged) > c.ToneChanged {
		return false
	}
	return float64(m.Grad) >= g && float64(m.Colour) >= c.Colour && float64(m.Changed) <= c.Changed
}

// Score is the groups test c forms at thresholds t (after Prepare).
func (h *HeldOut) Score(c models.Dedup, t models.Thresholds) Result {
	return h.score(h.accept(c, t))
}

// Point is one grid point and its result.
type Point struct {
	Dedup  models.Dedup
	Result Result
}

// ChooseNear chooses the near test's constants (after Prepare): K, then a
// grid point of Score, Grad, GradCrop, Colour and Changed, each point with
// its own ToneChanged (toneBar: a quantile of the true copies it accepts).
// Among the points whose groups have purity at least MinPurity and
// innocents at most MaxInnocentShare of the images, it takes those within
// RecallSlack of the most pairwise recall, and of them the one of most
// purity (then fewest innocents, then most recall). Then ScoreVectors
// (images without signatures) by the most recall over the vectors alone,
// at purity at least MinPurityVectors. Without a point that reaches the bar
// it returns ErrNoChoice and, for each percent of purity, the point of most
// recall on a coarser grid (how far the grid got).
func (h *HeldOut) ChooseNear(t models.Thresholds) (best models.Dedup, res, vectors Result, front []Point, err error) {
	var ok []Point
	for _, score := range []float64{0.5, 0.6, 0.7, 0.8, 0.9, 1.0} {
		for _, grad := range []float64{0.6, 0.7, 0.8} {
			for _, crop := range []float64{0.7, 0.75, 0.8, 0.85, 0.9} {
				for _, colour := range []float64{0, 0.6, 0.7, 0.8} {
					for _, changed := range []float64{0.1, 0.15, 1} {
						c := models.Dedup{K: K, Score: score, Grad: grad, GradCrop: crop, Colour: colour, Changed: changed}
						c.ToneChanged = h.toneBar(c, t)
						r := h.Score(c, t)
						if r.Purity >= MinPurity && float64(r.Innocents) <= MaxInnocentShare*float64(h.m.Len()) {
							ok = append(ok, Point{c, r})
						}
					}
				}
			}
		}
	}
	if len(ok) == 0 {
		return best, res, vectors, h.front(t), ErrNoChoice
	}
	p := pick(ok)
	best, res = p.Dedup, p.Result
	exact, near := float32(t.Exact), float32(t.Near)
	foundV := false
	for _, sv := range []float64{0.2, 0.3, 0.4, 0.5, 0.6, 0.7} {
		r := h.score(func(a, b int, d float32) bool {
			return d <= exact || (d <= near && float64(h.norm(search.Pair{A: a, B: b, Dist: d}, max(near, near/float32(best.Score)))) <= sv)
		})
		if r.Purity >= MinPurityVectors && (!foundV || r.Recall > vectors.Recall) {
			best.ScoreVectors, vectors, foundV = sv, r, true
		}
	}
	return best, res, vectors, nil, nil
}

// pick is ChooseNear's choice among the points that reach the bars (at
// least one): within RecallSlack of the most recall, the most purity, then
// the fewest innocents, then the most recall, then the first.
func pick(ok []Point) Point {
	most := slices.MaxFunc(ok, func(a, b Point) int { return cmp.Compare(a.Result.Recall, b.Result.Recall) }).Result.Recall
	near := slices.DeleteFunc(slices.Clone(ok), func(p Point) bool { return p.Result.Recall < most-RecallSlack })
	return slices.MaxFunc(near, func(a, b Point) int { // the first of equals
		return cmp.Or(cmp.Compare(a.Result.Purity, b.Result.Purity), cmp.Compare(b.Result.Innocents, a.Result.Innocents),
			cmp.Compare(a.Result.Recall, b.Result.Recall))
	})
}

// toneBar is the ToneChanged bar of near test c (ToneQuantile): over the
// pairs of true copies it accepts where the colour check is blind, rounded
// up to a hundredth; 0 (no bar) when there are none.
func (h *HeldOut) toneBar(c models.Dedup, t models.Thresholds) float64 {
	accept := h.accept(c, t)
	var tones []float32
	for k, m := range h.match {
		a, b := k[0], k[1]
		// Pairs within exact are accepted before any pixel check.
		if d := dist(h.m, a, b); m.NoColour && h.group[a] == h.group[b] && d > float32(t.Exact) && accept(a, b, d) {
			tones = append(tones, m.ToneChanged)
		}
	}
	if len(tones) == 0 {
		return 0
	}
	return math.Ceil(float64(Percentile(tones, ToneQuantile))*100) / 100
}

// front is, for each percent of purity, the grid point of most recall
// found so far on a coarser grid, in the order found.
func (h *HeldOut) front(t models.Thresholds) []Point {
	best := map[int]Result{}
	var out []Point
	for _, score := range []float64{0.5, 0.7, 0.9} {
		for _, grad := range []float64{0.6, 0.7, 0.8} {
			for _, crop := range []float64{0.8, 0.9} {
				for _, colour := range []float64{0, 0.7, 0.8} {
					for _, changed := range []float64{0.1, 1} {
						c := models.Dedup{K: K, Score: score, Grad: grad, GradCrop: crop, Colour: colour, Changed: changed}
						r := h.Score(c, t)
						b := int(r.Purity * 100)
						if old, ok := best[b]; !ok || r.Recall > old.Recall {
							best[b] = r
							out = append(out, Point{c, r})
						}
					}
				}
			}
		}
	}
	return out
}
