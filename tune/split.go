package tune

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/embedsearch/embedsearch/search"
)

// Split modes.
const (
	// SplitImages divides each label's images (a duplicate group stays
	// on one side).
	SplitImages = "images"
	// SplitLabels puts each label wholly on one side.
	SplitLabels = "labels"
	// SplitOrder keeps the order of the labels file: its last part (by
	// duplicate group, or image) is held out.
	SplitOrder = "order"
)

func checkSplit(mode string) error {
	switch mode {
	case SplitImages, SplitLabels, SplitOrder:
		return nil
	}
	return fmt.Errorf("%w: split %q (want images, labels or order)", ErrOptions, mode)
}

// Split divides the images of d into two index lists: about frac of them
// held out, the rest kept, by mode, deterministically for a seed. Images
// of one duplicate group always land on the same side.
func Split(d *Data, mode string, frac float64, seed uint64) (kept, held []int, err error) {
	if err := checkSplit(mode); err != nil {
		return nil, nil, err
	}
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("%w: held-out fraction %v (want between 0 and 1)", ErrOptions, frac)
	}
	// Units: duplicate groups, and images in none, in order of appearance.
	var units [][]int
	unitOf := map[int]int{}
	for i, g := range d.Group {
		if g < 0 {
			units = append(units, []int{i})
			continue
		}
		u, ok := unitOf[g]
		if !ok {
			u = len(units)
			unitOf[g] = u
			units = append(units, nil)
		}
		units[u] = append(units[u], i)
	}
	r := rand.New(rand.NewPCG(seed, 0x73706c6974))
	order := r.Perm(len(units))
	hold := make([]bool, len(units))
	switch mode {
	case SplitOrder:
		want := int(frac*float64(len(d.Paths)) + 0.5)
		n := 0
		for u := len(units) - 1; u >= 0 && n < want; u-- {
			hold[u] = true
			n += len(units[u])
		}
	case SplitImages:
		count := map[int]int{}
		for _, l := range d.Label {
			count[l]++
		}
		got := map[int]int{}
		for _, u := range order {
			l := d.Label[units[u][0]]
			// Hold the unit when that brings the label's held-out count
			// nearer its share: a group of copies larger than a small
			// label's share still lands on either side.
			if float64(got[l])+float64(len(units[u]))/2 < frac*float64(count[l]) {
				hold[u] = true
				got[l] += len(units[u])
			}
		}
	case SplitLabels:
		labels := r.Perm(len(d.Names))
		want := frac * float64(len(d.Paths))
		heldLabel := map[int]bool{}
		count := map[int]int{}
		for _, l := range d.Label {
			count[l]++
		}
		n := 0
		for _, l := range labels {
			if float64(n) >= want-0.5 {
				break
			}
			heldLabel[l] = true
			n += count[l]
		}
		for u := range units {
			hold[u] = heldLabel[d.Label[units[u][0]]]
		}
	}
	for u, members := range units {
		if hold[u] {
			held = append(held, members...)
		} else {
			kept = append(kept, members...)
		}
	}
	sort.Ints(kept)
	sort.Ints(held)
	if len(kept) == 0 || len(held) == 0 {
		return nil, nil, fmt.Errorf("%w: a %s split of %d images leaves one side empty", ErrTooFew, mode, len(d.Paths))
	}
	return kept, held, nil
}

// GroupCopies puts images without a duplicate group into groups of
// copies found by their vectors: every two members within maxDist of each
// other (complete linkage), so that a split keeps copies of one photo on
// one side even when no pairs file says which they are.
func GroupCopies(ctx context.Context, d *Data, maxDist float32, workers int) error {
	m := search.Matrix{Data: d.X, Dim: d.Dim}
	free := func(i int) bool { return d.Group[i] < 0 }
	pairs, err := search.Pairs(ctx, m, maxDist, search.Options{Allow: free, Workers: workers})
	if err != nil {
		return err
	}
	groups, _ := search.Groups(m, pairs, maxDist, nil)
	d.found = d.found || len(groups) > 0
	next := 0
	for _, g := range d.Group {
		next = max(next, g+1)
	}
	for _, g := range groups {
		for _, i := range g.Members {
			d.Group[i] = next
		}
		next++
	}
	return nil
}
