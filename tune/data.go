package tune

import (
	"fmt"
	"slices"

	"github.com/embedsearch/embedsearch/store"
)

// Label is one line of a labels file: an image and its label.
type Label struct {
	Path  string // absolute, cleaned
	Label string
	Line  int // 1-based line in its file; 0 when not from a file
}

// DupGroup is one line of a pairs file: images that are copies of one
// another (two on a line for a pair; more make one group).
type DupGroup struct {
	Paths []string // absolute, cleaned
	Line  int
}

// Data is what training reads: the base vectors of labelled images, their
// labels and their duplicate groups.
type Data struct {
	Paths []string
	Dim   int
	X     []float32 // len(Paths)×Dim, the store's vectors
	// Label is each image's label index (into Names). Without class
	// labels (pairs only) it is its duplicate group's index.
	Label []int
	Names []string
	// Group is each image's duplicate group (-1: in none); images of a
	// group stay on one side of a split.
	Group []int
	// Classes says Label holds class labels (else pair groups).
	Classes bool
	// Negatives are pairs of images a person marked "not duplicates":
	// each is trained as a negative of the other.
	Negatives [][2]int
	hashes    map[string]string // content SHA-256 by path
	// found says the groups were found by GroupCopies, not given: they
	// keep a split honest but are no ground truth to score copies by.
	found bool
}

// NewData reads the vectors of the labelled images from the store. labels
// may be nil (then groups give the labels); groups may be nil. source
// names the labels' origin in messages. Paths not in the store are
// ErrUnknownPath (the first is named), one label alone ErrOneLabel, no
// images ErrEmpty.
func NewData(r *store.Reader, labels []Label, groups []DupGroup, source, groupSource string) (*Data, error) {
	d := &Data{Dim: r.Dim(), Classes: labels != nil, hashes: map[string]string{}}
	index := map[string]int{}
	idOf := func(p string, line int, src string) (int, error) {
		if i, ok := index[p]; ok {
			return i, nil
		}
		id, ok := r.Lookup(p)
		if !ok {
			return 0, fmt.Errorf("%w: %s line %d: %s", ErrUnknownPath, src, line, p)
		}
		i := len(d.Paths)
		index[p] = i
		d.hashes[p] = r.Entry(id).SHA256
		d.Paths = append(d.Paths, p)
		d.X = append(d.X, r.Vector(id)...)
		d.Label = append(d.Label, -1)
		d.Group = append(d.Group, -1)
		return i, nil
	}
	var unknown []error
	names := map[string]int{}
	for _, l := range labels {
		i, err := idOf(l.Path, l.Line, source)
		if err != nil {
			unknown = append(unknown, err)
			continue
		}
		k, ok := names[l.Label]
		if !ok {
			k = len(d.Names)
			names[l.Label] = k
			d.Names = append(d.Names, l.Label)
		}
		d.Label[i] = k
	}
	for g, grp := range groups {
		for _, p := range grp.Paths {
			i, err := idOf(p, grp.Line, groupSource)
			if err != nil {
				unknown = append(unknown, err)
				continue
			}
			d.Group[i] = g
		}
	}
	if len(unknown) > 0 {
		more := ""
		if len(unknown) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(unknown)-1)
		}
		return nil, fmt.Errorf("%w%s (relative paths are relative to the file's folder)", unknown[0], more)
	}
	if len(d.Paths) == 0 {
		return nil, fmt.Errorf("%w: %s names no images", ErrEmpty, source)
	}
	if labels == nil {
		d.Names = nil
		for i, g := range d.Group {
			d.Label[i] = g
		}
		for g := range groups {
			d.Names = append(d.Names, fmt.Sprintf("group %d", g+1))
		}
	} else if keep := slices.Index(d.Label, -1); keep >= 0 {
		// Images named only by a pair and not labelled: drop them.
		d = d.only(func(i int) bool { return d.Label[i] >= 0 })
	}
	d.mergeGroups()
	if len(d.Names) < 2 {
		what := "label"
		if labels == nil {
			what = "duplicate group"
		}
		only := ""
		if len(d.Names) == 1 {
			only = fmt.Sprintf(" (%s)", d.Names[0])
		}
		return nil, fmt.Errorf("%w: %s has one %s%s; tuning needs at least two", ErrOneLabel, source, what, only)
	}
	return d, nil
}

// mergeGroups renumbers groups densely in order of first appearance.
func (d *Data) mergeGroups() {
	re := map[int]int{}
	for i, g := range d.Group {
		if g < 0 {
			continue
		}
		k, ok := re[g]
		if !ok {
			k = len(re)
			re[g] = k
		}
		d.Group[i] = k
	}
}

// only returns the images keep accepts, in order.
func (d *Data) only(keep func(i int) bool) *Data {
	o := &Data{Dim: d.Dim, Names: d.Names, Classes: d.Classes, hashes: d.hashes, found: d.found}
	at := map[int]int{}
	for i := range d.Paths {
		if !keep(i) {
			continue
		}
		at[i] = len(o.Paths)
		o.Paths = append(o.Paths, d.Paths[i])
		o.X = append(o.X, d.X[i*d.Dim:(i+1)*d.Dim]...)
		o.Label = append(o.Label, d.Label[i])
		o.Group = append(o.Group, d.Group[i])
	}
	for _, n := range d.Negatives {
		a, oka := at[n[0]]
		b, okb := at[n[1]]
		if oka && okb {
			o.Negatives = append(o.Negatives, [2]int{a, b})
		}
	}
	return o
}

// Subset returns the images at the given indices, in the data's order.
func (d *Data) Subset(idx []int) *Data {
	set := make(map[int]bool, len(idx))
	for _, i := range idx {
		set[i] = true
	}
	return d.only(func(i int) bool { return set[i] })
}

// Len is the number of images.
func (d *Data) Len() int { return len(d.Paths) }
