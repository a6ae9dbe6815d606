package collection

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/signature"
	"github.com/embedsearch/embedsearch/store"
)

// DuplicateOptions say which images of a snapshot take part in grouping
// and how a group's keeper is chosen.
type DuplicateOptions struct {
	// Criterion says which pairs are duplicates (NewCriterion,
	// DistanceCriterion); a group's members are all duplicates of each
	// other.
	Criterion Criterion
	// In limits grouping to images under these folders (absolute; none:
	// every image). References are folders whose images are always kept
	// and never acted on; they take part in grouping as keepers.
	In, References []string
	// Filter, when set, must also let an image through (store.Reader.Filter).
	Filter func(id int) bool
	// MovedTo is a --move-to destination: files already moved there are no
	// candidates.
	MovedTo string
	// Policy chooses a group's keeper (after the reference folders).
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
	// the largest distance inside group g. Verdicts[g][m] is what the
	// criterion said of member m and the keeper (the keeper's own is
	// zero), KeepWhy[g] the policy criteria that chose the keeper.
	Dists    [][]float32
	MaxDist  []float32
	Verdicts [][]Verdict
	KeepWhy  [][]string
	// Images is how many images took part, Pairs how many candidate pairs
	// were found, Checked how many of them the signatures were compared
	// for; Signed how many of the images have a signature. Method is
	// "exact" or "hnsw".
	Images, Pairs, Checked, Signed int
	// Linked counts members left out because they are the keeper's own
	// file under another name (a hard link: nothing to gain, e.g. after
	// dedup --link hard).
	Linked int
	Method string
	// Searcher is the one that searched: Damaged() says which rows were
	// left out, Note why the graph was not used.
	Searcher *Searcher
}

// FindDuplicates groups the images of snapshot r that o.Criterion takes
// for duplicates of each other (complete linkage: every two members), with
// a keeper per group, each member's verdict against the keeper and why the
// keeper keeps. Pairs marked "not duplicates" (MarkNotDuplicates) are
// never accepted. It is the dedup use case without the action, shared by
// every front end.
func FindDuplicates(ctx context.Context, r *store.Reader, o DuplicateOptions) (*Duplicates, error) {
	var allow func(int) bool
	if len(o.In) > 0 {
		scope := append(append([]string(nil), o.In...), o.References...)
		allow = func(id int) bool { return fspath.WithinAny(scope, r.Path(id)) }
	}
	if o.Filter != nil {
		allow = AllOf(allow, o.Filter)
	}
	if o.MovedTo != "" {
		allow = AllOf(allow, func(id int) bool { return !fspath.Within(o.MovedTo, r.Path(id)) })
	}
	files := map[int]dedup.File{}
	file := func(id int) dedup.File {
		f, ok := files[id]
		if !ok {
			e := r.Entry(id)
			f = dedup.File{Path: e.Path, Size: e.Size, ModTime: e.ModTime, Width: e.Width, Height: e.Height,
				Taken: e.Taken, Camera: strings.TrimSpace(e.Make + " " + e.Model), SHA256: e.SHA256}
			var sig signature.Signature
			if b := r.Signature(id); b != nil && sig.UnmarshalBinary(b) == nil {
				f.Signed, f.Real, f.Grey, f.Sharpness, f.Quality = true, sig.RealPixels(), sig.Grey, sig.Sharpness, sig.Quality
			}
			files[id] = f
		}
		return f
	}
	members := func(ids []int) []dedup.File {
		fs := make([]dedup.File, len(ids))
		for i, id := range ids {
			fs[i] = file(id)
		}
		spreads(fs, ids, r)
		return fs
	}
	// A pair a person marked "not duplicates" is never accepted.
	marks, err := notDupSet(r.Dir())
	if err != nil {
		return nil, err
	}
	marked := func(a, b int) bool {
		return marks != nil && marks[notDupPair(r.Entry(a).SHA256, r.Entry(b).SHA256)]
	}
	o.Search.AllPairs = true
	s := NewSearcher(r, o.Search)
	s.Progress = o.Progress
	var j *judge
	link := func(nb *search.Neighbours) search.Linkage {
		j = newJudge(o.Criterion, r, nb)
		if nb != nil {
			j.warm(nb.Pairs(o.Criterion.Within))
		}
		return search.Linkage{
			Accept: func(a, b int, d float32) bool { return !marked(a, b) && j.verdict(a, b, d).Dup },
			Keeper: func(ids []int) int { return ids[o.Policy.Keeper(members(ids), o.References)] },
		}
	}
	groups, pairs, err := s.Duplicates(ctx, o.Criterion.pairing(), allow, link)
	if err != nil {
		return nil, err
	}
	d := &Duplicates{Pairs: pairs, Method: s.Method(), Searcher: s}
	if j != nil {
		d.Checked = j.checked()
	}
	damaged, _ := s.Damaged()
	left := map[int]bool{}
	for _, id := range damaged {
		left[id] = true
	}
	for id := range r.Len() {
		if (allow == nil || allow(id)) && !left[id] {
			d.Images++
			if r.Signature(id) != nil {
				d.Signed++
			}
		}
	}
	for _, g := range groups {
		g, linked := withoutLinks(g, func(id int) string { return file(id).Path })
		d.Linked += linked
		if len(g.Members) < 2 {
			continue
		}
		dg := dedup.Group{Members: members(g.Members)}
		vs := make([]Verdict, len(g.Members))
		for mi, id := range g.Members {
			if id == g.Keeper {
				dg.Keep = mi
				continue
			}
			vs[mi] = j.verdict(g.Keeper, id, g.Dists[mi])
		}
		d.Groups = append(d.Groups, dg)
		d.Dists = append(d.Dists, g.Dists)
		d.MaxDist = append(d.MaxDist, g.MaxDist)
		d.Verdicts = append(d.Verdicts, vs)
		d.KeepWhy = append(d.KeepWhy, o.Policy.Why(dg.Members, o.References))
	}
	return d, nil
}

// withoutLinks leaves out of g the members that are the keeper's file
// under another name (same device and inode), and says how many. The group
// keeps its largest distance: such a member's vector is the keeper's.
// A file that cannot be read stays (the plan reports it).
func withoutLinks(g search.Group, path func(int) string) (search.Group, int) {
	kfi, err := os.Lstat(path(g.Keeper))
	if err != nil {
		return g, 0
	}
	out := search.Group{Keeper: g.Keeper, MaxDist: g.MaxDist, MaxLink: g.MaxLink}
	for mi, id := range g.Members {
		if id != g.Keeper {
			if fi, err := os.Lstat(path(id)); err == nil && os.SameFile(fi, kfi) {
				continue
			}
		}
		out.Members = append(out.Members, id)
		out.Dists = append(out.Dists, g.Dists[mi])
	}
	return out, len(g.Members) - len(out.Members)
}

// spreads sets each member's Spread, its mean distance to the others by
// their vectors, and PixelSpread, by their pixels as they stand
// (signature.Apart; 0 unless every member has a signature).
func spreads(fs []dedup.File, ids []int, r *store.Reader) {
	if len(ids) < 2 {
		return
	}
	sigs := make([]*signature.Signature, len(ids))
	for i, id := range ids {
		var s signature.Signature
		if b := r.Signature(id); b != nil && s.UnmarshalBinary(b) == nil {
			sigs[i] = &s
		} else {
			sigs = nil
			break
		}
	}
	n := float64(len(ids) - 1)
	for i, a := range ids {
		for k, b := range ids {
			if k == i {
				continue
			}
			fs[i].Spread += search.Distance(r.Vector(a), r.Vector(b)) / n
			if sigs != nil {
				fs[i].PixelSpread += signature.Apart(sigs[i], sigs[k]) / n
			}
		}
	}
}

// AllOf lets through the rows every one of preds lets through (a nil
// one lets through all); nil, for a search without a filter, when no
// pred is left.
func AllOf(preds ...func(int) bool) func(int) bool {
	preds = slices.DeleteFunc(preds, func(p func(int) bool) bool { return p == nil })
	switch len(preds) {
	case 0:
		return nil
	case 1:
		return preds[0]
	}
	return func(id int) bool {
		for _, p := range preds {
			if !p(id) {
				return false
			}
		}
		return true
	}
}
