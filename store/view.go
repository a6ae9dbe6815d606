package store

import (
	"slices"
	"strings"
	"time"
)

// rowRef locates a live entry: segment index and row within it.
type rowRef struct{ seg, row int32 }

// view is the set of live entries of a list of segments, in path order
// (ids are positions in that order). With one segment and no tombstones
// (the compacted form) it is the segment itself and costs nothing to
// build; otherwise it is merged once in memory.
type view struct {
	dim  int
	segs []*segment
	live []rowRef // nil in the compacted form
}

func newView(dim int, segs []*segment) *view {
	v := &view{dim: dim, segs: segs}
	if len(segs) == 0 || (len(segs) == 1 && segs[0].hdr.Tombstones == 0) {
		return v
	}
	byPath := make(map[string]rowRef)
	for si, s := range segs {
		for _, t := range s.tombs {
			delete(byPath, t)
		}
		for i := 0; i < s.len(); i++ {
			byPath[s.path(i)] = rowRef{int32(si), int32(i)}
		}
	}
	type kv struct {
		path string
		ref  rowRef
	}
	all := make([]kv, 0, len(byPath))
	for p, r := range byPath {
		all = append(all, kv{p, r})
	}
	slices.SortFunc(all, func(a, b kv) int { return strings.Compare(a.path, b.path) })
	v.live = make([]rowRef, len(all))
	for i, x := range all {
		v.live[i] = x.ref
	}
	return v
}

// compacted reports whether ids are rows of the single segment.
func (v *view) compacted() bool { return v.live == nil }

func (v *view) len() int {
	if v.live != nil {
		return len(v.live)
	}
	if len(v.segs) == 0 {
		return 0
	}
	return v.segs[0].len()
}

func (v *view) ref(id int) rowRef {
	if v.live != nil {
		return v.live[id]
	}
	return rowRef{0, int32(id)}
}

func (v *view) path(id int) string {
	r := v.ref(id)
	return v.segs[r.seg].path(int(r.row))
}

// pathBytes is path without a copy; valid while the segment is mapped.
func (v *view) pathBytes(id int) []byte {
	r := v.ref(id)
	return v.segs[r.seg].pathBytes(int(r.row))
}

func (v *view) stat(id int) (int64, time.Time, bool) {
	r := v.ref(id)
	return recordStat(v.segs[r.seg].record(int(r.row)))
}

func (v *view) entry(id int) (Entry, error) {
	r := v.ref(id)
	return v.segs[r.seg].entry(int(r.row))
}

// signature is id's signature in place (nil when it has none).
func (v *view) signature(id int) []byte {
	r := v.ref(id)
	return v.segs[r.seg].signature(int(r.row))
}

func (v *view) vector(id int) []float32 {
	r := v.ref(id)
	return v.segs[r.seg].vector(int(r.row))
}

// lookup finds the id of path by binary search over the path order.
func (v *view) lookup(path string) (int, bool) {
	n := v.len()
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if string(v.pathBytes(m)) < path { // no allocation for the conversion
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < n && string(v.pathBytes(lo)) == path
}

// matrix returns all live vectors row-major in id order: the mapped block
// itself in the compacted form, else a copy.
func (v *view) matrix() []float32 {
	if v.live == nil {
		if len(v.segs) == 0 {
			return nil
		}
		return v.segs[0].vecs
	}
	out := make([]float32, 0, len(v.live)*v.dim)
	for id := range v.live {
		out = append(out, v.vector(id)...)
	}
	return out
}
