package tune

import (
	"context"
	"fmt"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/store"
)

// Input says where a store's labels come from: a labels file or the
// folders (class labels, at most one of the two), a pairs file (copies:
// the labels without class labels, else the groups a split keeps
// together), and Review: the pairs marked "not duplicates" in the store,
// added as negatives.
type Input struct {
	Labels  string
	Folders bool
	Pairs   string
	Review  bool
}

// Load reads the labelled images of the store r (in folder dir) as in
// says. With class labels and no pairs file, copies among the images are
// grouped by their vectors (GroupCopies within groupDist; 0: not at all)
// so that a split keeps them on one side.
func Load(ctx context.Context, r *store.Reader, dir string, in Input, groupDist float32, workers int) (*Data, error) {
	if in.Labels != "" && in.Folders {
		return nil, fmt.Errorf("%w: labels from a file and from folders at once", ErrOptions)
	}
	if in.Labels == "" && !in.Folders && in.Pairs == "" {
		what := "no labels given"
		if in.Review {
			what = "the review marks are negatives only; positives need labels or pairs"
		}
		return nil, fmt.Errorf("%w: %s", ErrEmpty, what)
	}
	var labels []Label
	var source string
	var err error
	switch {
	case in.Labels != "":
		source = in.Labels
		if labels, err = ReadLabels(ctx, in.Labels); err != nil {
			return nil, err
		}
	case in.Folders:
		source = "the store's folders"
		paths := make([]string, r.Len())
		for id := range paths {
			paths[id] = r.Path(id)
		}
		if labels = FolderLabels(paths, r.Roots()); len(labels) == 0 {
			return nil, fmt.Errorf("%w: no image of the store lies in a folder under its indexed folders %v", ErrEmpty, r.Roots())
		}
	}
	var groups []DupGroup
	if in.Pairs != "" {
		if groups, err = ReadPairs(ctx, in.Pairs); err != nil {
			return nil, err
		}
		if source == "" {
			source = in.Pairs
		}
	}
	d, err := NewData(r, labels, groups, source, in.Pairs)
	if err != nil {
		return nil, err
	}
	if d.Classes && in.Pairs == "" && groupDist > 0 {
		if err := GroupCopies(ctx, d, groupDist, workers); err != nil {
			return nil, err
		}
	}
	if in.Review {
		marks, err := collection.NotDuplicatePairs(dir)
		if err != nil {
			return nil, err
		}
		d.addNegatives(r, marks)
	}
	return d, nil
}

// addNegatives records the marked pairs (content hashes) whose two images
// have different labels. Without class labels (pairs only), a marked image
// in no pair is added as a label of its own: a look-alike the person said
// is no copy is the hardest negative there is.
func (d *Data) addNegatives(r *store.Reader, marks [][2]string) {
	byHash := map[string][]int{}
	for i, p := range d.Paths {
		if h := d.hashes[p]; h != "" {
			byHash[h] = append(byHash[h], i)
		}
	}
	if !d.Classes {
		marked := map[string]bool{}
		for _, m := range marks {
			marked[m[0]], marked[m[1]] = true, true
		}
		for id := range r.Len() {
			e := r.Entry(id)
			if !marked[e.SHA256] || byHash[e.SHA256] != nil {
				continue
			}
			i := len(d.Paths)
			d.Paths = append(d.Paths, e.Path)
			d.X = append(d.X, r.Vector(id)...)
			d.Label = append(d.Label, len(d.Names))
			d.Names = append(d.Names, "marked "+e.Path)
			d.Group = append(d.Group, -1)
			d.hashes[e.Path] = e.SHA256
			byHash[e.SHA256] = append(byHash[e.SHA256], i)
		}
	}
	for _, m := range marks {
		for _, a := range byHash[m[0]] {
			for _, b := range byHash[m[1]] {
				if d.Label[a] != d.Label[b] {
					d.Negatives = append(d.Negatives, [2]int{a, b})
				}
			}
		}
	}
}
