package search

// Renumber returns a copy of the graph for a matrix whose rows were
// reordered, inserted or deleted (a store's ids are rows in path order, so
// they shift whenever entries come and go): node i becomes node newID[i]
// of an index with n row slots. Nodes with newID[i] < 0 (or i beyond
// newID) are dropped and every link to them is removed, since their vectors
// may be gone; the graph is not otherwise repaired, so drop only a small
// fraction of the nodes between full rebuilds. Slots no node moves to are
// absent and Add inserts them. Removed nodes stay removed. The mapping must
// send kept nodes to distinct slots below n; Renumber panics otherwise
// (a programming error, like an index out of range).
func (ix *HNSW) Renumber(newID []int, n int) *HNSW {
	out := NewHNSW(ix.dim, HNSWOptions{M: ix.m, EfConstruction: ix.efc, Seed: ix.seed, Workers: ix.workers})
	out.m0 = ix.m0
	out.grow(n)
	mapID := func(old uint32) (uint32, bool) {
		if int(old) >= len(newID) || newID[old] < 0 {
			return 0, false
		}
		return uint32(newID[old]), true
	}
	s0, s := ix.m0+1, ix.m+1
	for i := range ix.n {
		if ix.level[i] < 0 {
			continue
		}
		j, ok := mapID(uint32(i))
		if !ok {
			continue
		}
		if int(j) >= n || out.level[j] >= 0 {
			panic("search: HNSW.Renumber mapping is out of range or not one-to-one")
		}
		lvl := int(ix.level[i])
		out.level[j] = ix.level[i]
		if ix.deleted[i] {
			out.deleted[j] = true
			out.ndel++
		}
		copyLinks := func(src []uint32, dst []uint32) {
			c := 0
			for _, nb := range src {
				if v, ok := mapID(nb); ok {
					dst[1+c] = v
					c++
				}
			}
			dst[0] = uint32(c)
		}
		copyLinks(ix.links(i, 0), out.l0[int(j)*s0:(int(j)+1)*s0])
		if lvl > 0 {
			out.upper[j] = make([]uint32, lvl*s)
			for l := 1; l <= lvl; l++ {
				copyLinks(ix.links(i, l), out.upper[j][(l-1)*s:l*s])
			}
		}
	}
	if ix.entry >= 0 {
		if v, ok := mapID(uint32(ix.entry)); ok {
			out.entry, out.maxLevel = int(v), ix.maxLevel
		} else {
			// The entry point was dropped: the highest remaining node
			// (lowest ID among equals, so the choice is deterministic).
			for j := range n {
				if lv := int(out.level[j]); lv >= 0 && (out.entry < 0 || lv > out.maxLevel) {
					out.entry, out.maxLevel = j, lv
				}
			}
		}
	}
	return out
}
