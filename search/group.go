package search

import (
	"slices"
)

// Group is a connected component of the pair graph: rows linked by a chain
// of pairs within the threshold.
type Group struct {
	// Members are the group's rows, ascending; Keeper is one of them.
	Members []int
	Keeper  int
	// Dists[i] is the distance from Members[i] to Keeper (0 for itself),
	// computed from the vectors.
	Dists []float32
	// MaxLink is the largest distance among the pairs that formed the group.
	MaxLink float32
	// MaxDist is the largest distance between any two members, computed from
	// the vectors; above the threshold it shows a chain (a≈b≈c, a≉c).
	// For groups larger than MaxExactGroup it is only a lower bound (the
	// largest of MaxLink and Dists) and Exact is false.
	MaxDist float32
	Exact   bool
}

// MaxExactGroup is the largest group whose diameter Groups measures over
// all member pairs (cost grows with the square of the size).
const MaxExactGroup = 4096

// Groups joins pairs into connected components (union-find) and describes
// each with a keeper: the member that better ranks first. better must be a
// strict total order (e.g. policy, then path); nil keeps the lowest ID.
// Groups are sorted by their first member; the result does not depend on
// the order of pairs. m supplies the vectors for Dists and MaxDist.
func Groups(m Matrix, pairs []Pair, better func(a, b int) bool) []Group {
	if len(pairs) == 0 {
		return nil
	}
	parent := map[int]int{}
	var find func(int) int
	find = func(x int) int {
		p, ok := parent[x]
		if !ok {
			parent[x] = x
			return x
		}
		if p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for _, p := range pairs {
		a, b := find(p.A), find(p.B)
		if a != b {
			// The smaller ID becomes the root, so roots are the same for any
			// pair order (each root is its component's minimum).
			if a < b {
				parent[b] = a
			} else {
				parent[a] = b
			}
		}
	}
	byRoot := map[int]*Group{}
	for x := range parent {
		r := find(x)
		g := byRoot[r]
		if g == nil {
			g = &Group{}
			byRoot[r] = g
		}
		g.Members = append(g.Members, x)
	}
	for _, p := range pairs {
		g := byRoot[find(p.A)]
		g.MaxLink = max(g.MaxLink, p.Dist)
	}
	groups := make([]Group, 0, len(byRoot))
	for _, g := range byRoot {
		slices.Sort(g.Members)
		g.Keeper = g.Members[0]
		if better != nil {
			for _, x := range g.Members[1:] {
				if better(x, g.Keeper) {
					g.Keeper = x
				}
			}
		}
		g.Dists, g.MaxDist, g.Exact = groupDists(m, g.Members, g.Keeper)
		g.MaxDist = max(g.MaxDist, g.MaxLink)
		groups = append(groups, *g)
	}
	slices.SortFunc(groups, func(a, b Group) int { return a.Members[0] - b.Members[0] })
	return groups
}

// groupDists computes each member's distance to the keeper and the
// group's diameter, through the same kernel as every other path.
func groupDists(m Matrix, members []int, keeper int) ([]float32, float32, bool) {
	s, dim := len(members), m.Dim
	if s > MaxExactGroup {
		dists := make([]float32, s)
		var far float32
		var d [1]float32
		for i, id := range members {
			dotRows(m.Row(keeper), m.Row(id), dim, d[:])
			dists[i] = distFromDot(d[0])
			if id == keeper {
				dists[i] = 0
			}
			far = max(far, dists[i])
		}
		return dists, far, false
	}
	sub := make([]float32, 0, s*dim)
	for _, id := range members {
		sub = append(sub, m.Row(id)...)
	}
	dots := make([]float32, s)
	dists := make([]float32, s)
	var diam float32
	for i, id := range members {
		dotRows(sub[i*dim:(i+1)*dim], sub, dim, dots)
		for j := i + 1; j < s; j++ {
			diam = max(diam, distFromDot(dots[j]))
		}
		if id == keeper {
			for j := range dots {
				dists[j] = distFromDot(dots[j])
			}
			dists[i] = 0
		}
	}
	return dists, diam, true
}
