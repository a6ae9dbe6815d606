package tune

import (
	"context"
	"math/rand/v2"

	"github.com/embedsearch/embedsearch/search"
)

// tuples makes an epoch's tuples: one per anchor (in a random order),
// then one per image of each marked pair that has a positive, with the
// other image as its negative (shuffled in among the rest).
func tuples(r *rand.Rand, d *Data, u []float32, dim int, nb *search.Neighbours, anchors []int, byLabel map[int][]int) []tuple {
	ts := make([]tuple, 0, len(anchors)+2*len(d.Negatives))
	for _, k := range r.Perm(len(anchors)) {
		a := anchors[k]
		p := positive(r, d, nb, byLabel, a)
		ts = append(ts, tuple{a, p, negative(r, d, u, dim, nb, a, p)})
	}
	if len(d.Negatives) == 0 {
		return ts
	}
	for _, m := range d.Negatives {
		for _, a := range []int{m[0], m[1]} {
			if len(byLabel[d.Label[a]]) >= 2 {
				ts = append(ts, tuple{a, positive(r, d, nb, byLabel, a), m[0] + m[1] - a})
			}
		}
	}
	r.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
	return ts
}

// activeTuple says whether t had a loss under the epoch's vectors u (for
// NT-Xent every tuple counts).
func activeTuple(loss string, m float64, u []float32, dim int, t tuple) bool {
	a, p, n := u[t.a*dim:(t.a+1)*dim], u[t.p*dim:(t.p+1)*dim], u[t.n*dim:(t.n+1)*dim]
	dp, dn := dist(a, p), dist(a, n)
	switch loss {
	case LossTriplet:
		return float64(dp*dp-dn*dn)+m > 0
	case LossContrastive:
		return dp > 0 || float64(dn) < m
	}
	return true
}

// mine returns each row's nearest neighbours under the current head.
func mine(ctx context.Context, u []float32, dim, k int, how string, workers int) (*search.Neighbours, error) {
	m := search.Matrix{Data: u, Dim: dim}
	if how == SearchHNSW || (how == "" && m.Len() > ExactLimit) {
		ix, err := search.BuildHNSW(ctx, m, search.HNSWOptions{Workers: workers})
		if err != nil {
			return nil, err
		}
		return ix.KNN(ctx, m, k, 2.01, search.Options{Workers: workers})
	}
	return search.KNN(ctx, m, k, 2.01, search.Options{Workers: workers})
}

// positive picks the anchor a's positive: one of its mined neighbours
// with its label (an easy positive: pulling the far members of a broad
// label together is what collapses a space), else any image of its label;
// with class labels, images of another duplicate group first (a copy of
// the anchor teaches the class nothing), except one time in four, when it
// is a copy: without those, copies drifted apart (caltech101-neardup's
// held-out copies lost up to 0.008 of recall@1; with them at most 0.0045).
func positive(r *rand.Rand, d *Data, nb *search.Neighbours, byLabel map[int][]int, a int) int {
	other := func(i int) bool { return !d.Classes || d.Group[a] < 0 || d.Group[i] != d.Group[a] }
	if d.Classes && d.Group[a] >= 0 && r.IntN(4) == 0 {
		var cs []int
		for _, i := range byLabel[d.Label[a]] {
			if i != a && d.Group[i] == d.Group[a] {
				cs = append(cs, i)
			}
		}
		if len(cs) > 0 {
			return cs[r.IntN(len(cs))]
		}
	}
	ids, _ := nb.Of(a)
	var near []int
	for _, id := range ids {
		if i := int(id); i != a && d.Label[i] == d.Label[a] && other(i) {
			near = append(near, i)
		}
	}
	if len(near) > 0 {
		return near[r.IntN(len(near))]
	}
	var same []int
	for _, i := range byLabel[d.Label[a]] {
		if i != a && other(i) {
			same = append(same, i)
		}
	}
	if len(same) == 0 {
		for _, i := range byLabel[d.Label[a]] {
			if i != a {
				same = append(same, i)
			}
		}
	}
	return same[r.IntN(len(same))]
}

// negative picks the anchor a's negative from its mined neighbours of
// another label: the nearest one beyond the positive, which is semi-hard
// (d(a,p)² < d(a,n)² < d(a,p)² + m, FaceNet's rule) whenever the
// neighbourhood has one; with none beyond the positive, any image of
// another label. Negatives nearer than the
// positive are never chosen: trained on them, a triplet loss collapses
// the space (every distance alike, the loss stuck at the margin), which
// is what it did on cifar10-train-subset.
func negative(r *rand.Rand, d *Data, u []float32, dim int, nb *search.Neighbours, a, p int) int {
	ids, dists := nb.Of(a)
	dap := float64(dist(u[a*dim:(a+1)*dim], u[p*dim:(p+1)*dim]))
	dap2 := dap * dap
	for k, id := range ids {
		n := int(id)
		if d.Label[n] == d.Label[a] {
			continue
		}
		if dn2 := float64(dists[k]) * float64(dists[k]); dn2 > dap2 {
			return n
		}
	}
	for {
		n := r.IntN(d.Len())
		if d.Label[n] != d.Label[a] {
			return n
		}
	}
}
