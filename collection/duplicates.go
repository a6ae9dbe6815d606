package collection

import (
	"context"

	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/store"
)

// DuplicateOptions say which images of a snapshot take part in grouping
// and how a group's keeper is chosen.
type DuplicateOptions struct {
	// Threshold is the largest distance between two members of a group.
	Threshold float32
	// In limits grouping to images under these folders (absolute; none:
	// every image). References are folders whose images are always kept
	// and never acted on; they take part in grouping as keepers.
	In, References []string
	// Filter, when set, must also let an image through (store.Reader.Filter).
	Filter func(id int) bool
	// MovedTo is a --move-to destination: files already moved there are no
	// candidates.
	MovedTo string
	// Policy orders the members of a group; the first is the keeper (after
	// the reference folders).
	Policy dedup.Policy
	Search SearchOptions
	// Progress, when set, hears how far the comparison of rows has come
	// (Searcher.Progress).
	Progress func(done, total int)
}

// Duplicates is what FindDuplicates found.
type Duplicates struct {
	// Groups are ready for a dedup.Plan: members with what the store says
	// of each file, Keep the keeper's index.
	Groups []dedup.Group
	// Dists[g][m] is member m's distance to its group's keeper; MaxDist[g]
	// the largest distance inside group g.
	Dists   [][]float32
	MaxDist []float32
	// Images is how many images took part, Pairs how many pairs were
	// within the threshold; Method is "exact" or "hnsw".
	Images, Pairs int
	Method        string
	// Searcher is the one that searched: Damaged() says which rows were
	// left out, Note why the graph was not used.
	Searcher *Searcher
}

// FindDuplicates groups the images of snapshot r that are within
// o.Threshold of each other (complete linkage: every two members), with a
// keeper per group. It is the dedup use case without the action, shared by
// every front end.
func FindDuplicates(ctx context.Context, r *store.Reader, o DuplicateOptions) (*Duplicates, error) {
	var allow func(int) bool
	if len(o.In) > 0 {
		scope := append(append([]string(nil), o.In...), o.References...)
		allow = func(id int) bool { return fspath.WithinAny(scope, r.Path(id)) }
	}
	if o.Filter != nil {
		allow = and(allow, o.Filter)
	}
	if o.MovedTo != "" {
		allow = and(allow, func(id int) bool { return !fspath.Within(o.MovedTo, r.Path(id)) })
	}
	files := map[int]dedup.File{}
	file := func(id int) dedup.File {
		f, ok := files[id]
		if !ok {
			e := r.Entry(id)
			f = dedup.File{Path: e.Path, Size: e.Size, ModTime: e.ModTime, Width: e.Width, Height: e.Height,
				Taken: e.Taken, SHA256: e.SHA256}
			files[id] = f
		}
		return f
	}
	better := func(a, b int) bool {
		fa, fb := file(a), file(b)
		ra, rb := fspath.WithinAny(o.References, fa.Path), fspath.WithinAny(o.References, fb.Path)
		if ra != rb {
			return ra
		}
		return o.Policy.Less(fa, fb)
	}
	s := NewSearcher(r, o.Search)
	s.Progress = o.Progress
	groups, pairs, err := s.Duplicates(ctx, o.Threshold, allow, better)
	if err != nil {
		return nil, err
	}
	d := &Duplicates{Pairs: pairs, Method: s.Method(), Searcher: s}
	damaged, _ := s.Damaged()
	left := map[int]bool{}
	for _, id := range damaged {
		left[id] = true
	}
	for id := range r.Len() {
		if (allow == nil || allow(id)) && !left[id] {
			d.Images++
		}
	}
	for _, g := range groups {
		dg := dedup.Group{Members: make([]dedup.File, len(g.Members))}
		for mi, id := range g.Members {
			dg.Members[mi] = file(id)
			if id == g.Keeper {
				dg.Keep = mi
			}
		}
		d.Groups = append(d.Groups, dg)
		d.Dists = append(d.Dists, g.Dists)
		d.MaxDist = append(d.MaxDist, g.MaxDist)
	}
	return d, nil
}

// and lets through what both a (nil: all) and b let through.
func and(a, b func(int) bool) func(int) bool {
	if a == nil {
		return b
	}
	return func(id int) bool { return a(id) && b(id) }
}
