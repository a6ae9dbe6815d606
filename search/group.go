package search

import (
	"slices"
)

// Group is a set of rows every two of which are within the threshold
// (see Groups).
type Group struct {
	// Members are the group's rows, ascending; Keeper is one of them.
	Members []int
	Keeper  int
	// Dists[i] is the distance from Members[i] to Keeper (0 for itself),
	// computed from the vectors.
	Dists []float32
	// MaxLink is the largest distance among the pairs that joined the group.
	MaxLink float32
	// MaxDist is the largest distance between any two members, computed from
	// the vectors (at most the threshold). For groups larger than
	// MaxExactGroup it is only a lower bound (the largest of MaxLink and
	// Dists) and Exact is false.
	MaxDist float32
	Exact   bool
}

// MaxExactGroup is the largest group whose diameter Groups measures over
// all member pairs (cost grows with the square of the size).
const MaxExactGroup = 4096

// Groups turns the pairs within maxDist into groups in which every two
// members are within maxDist of each other (complete linkage), so a chain
// a≈b≈c with a≉c never puts a and c together: connected components would,
// and on a loose threshold they grow into hundreds of unrelated images.
// Each group gets a keeper: the member that better ranks first (better
// must be a strict total order, e.g. policy, then path; nil keeps the
// lowest ID). It is GroupsWith with a distance test; see there.
func Groups(m Matrix, pairs []Pair, maxDist float32, better func(a, b int) bool) (groups []Group, damaged []int) {
	l := Linkage{Accept: func(_, _ int, d float32) bool { return d <= maxDist }}
	if better != nil {
		l.Keeper = func(members []int) int {
			k := members[0]
			for _, x := range members[1:] {
				if better(x, k) {
					k = x
				}
			}
			return k
		}
	}
	return GroupsWith(m, pairs, l)
}

// Linkage says which rows may share a group and who keeps.
type Linkage struct {
	// Accept reports whether rows a and b, at distance d (computed from
	// the vectors), are duplicates. It must be symmetric. Groups form only
	// where every two members are accepted.
	Accept func(a, b int, d float32) bool
	// Keeper chooses a group's keeper among its members (ascending); nil
	// keeps the lowest.
	Keeper func(members []int) int
}

// GroupsWith turns pairs into groups in which every two members are
// accepted (complete linkage). Pairs are taken nearest first (ties by IDs,
// so the result does not depend on their order); a pair joins its two
// groups when it is accepted and so is every pair across them, measured
// from m's vectors. Groups are sorted by their first member.
//
// Pairs with a Damaged row are left out and the damaged rows returned,
// ascending: their distances came from inner products that assumed unit
// rows (a row 2¹²⁸ times too long is "0.0000" from half the store). Each
// row of the pairs is checked once, which costs less than the pairs did.
func GroupsWith(m Matrix, pairs []Pair, l Linkage) (groups []Group, damaged []int) {
	if len(pairs) == 0 {
		return nil, nil
	}
	ps, damaged := dropDamaged(m, pairs)
	if len(ps) == 0 {
		return nil, damaged
	}
	slices.SortFunc(ps, func(a, b Pair) int {
		if a.Dist != b.Dist {
			if a.Dist < b.Dist {
				return -1
			}
			return 1
		}
		return comparePairs(a, b)
	})
	type cluster struct {
		members []int
		maxLink float32
	}
	var clusters []*cluster
	of := map[int]int{} // row → index in clusters
	get := func(x int) int {
		c, ok := of[x]
		if !ok {
			c = len(clusters)
			of[x] = c
			clusters = append(clusters, &cluster{members: []int{x}})
		}
		return c
	}
	for _, p := range ps {
		ca, cb := get(p.A), get(p.B)
		if ca == cb || !l.Accept(p.A, p.B, p.Dist) || !allAccepted(m, clusters[ca].members, clusters[cb].members, l.Accept) {
			continue
		}
		if len(clusters[ca].members) < len(clusters[cb].members) {
			ca, cb = cb, ca
		}
		big, small := clusters[ca], clusters[cb]
		for _, x := range small.members {
			of[x] = ca
		}
		big.members = append(big.members, small.members...)
		big.maxLink = max(big.maxLink, small.maxLink, p.Dist)
		clusters[cb] = nil
	}
	for _, c := range clusters {
		if c == nil || len(c.members) < 2 {
			continue
		}
		g := Group{Members: c.members, MaxLink: c.maxLink}
		slices.Sort(g.Members)
		g.Keeper = g.Members[0]
		if l.Keeper != nil {
			g.Keeper = l.Keeper(g.Members)
		}
		g.Dists, g.MaxDist, g.Exact = groupDists(m, g.Members, g.Keeper)
		g.MaxDist = max(g.MaxDist, g.MaxLink)
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b Group) int { return a.Members[0] - b.Members[0] })
	return groups, damaged
}

// dropDamaged returns a copy of pairs without those that have a Damaged
// row, and those rows, ascending.
func dropDamaged(m Matrix, pairs []Pair) ([]Pair, []int) {
	const unchecked, sound, damaged = 0, 1, 2
	state := make([]uint8, m.Len())
	var bad []int
	check := func(id int) uint8 {
		if state[id] == unchecked {
			state[id] = sound
			if Damaged(m.Row(id)) {
				state[id] = damaged
				bad = append(bad, id)
			}
		}
		return state[id]
	}
	ps := make([]Pair, 0, len(pairs))
	for _, p := range pairs {
		// Both rows are checked, so every damaged row is reported.
		if a, b := check(p.A), check(p.B); a == sound && b == sound {
			ps = append(ps, p)
		}
	}
	slices.Sort(bad)
	return ps, bad
}

// allAccepted reports whether every row of a is accepted with every row of
// b, stopping at the first that is not.
func allAccepted(m Matrix, a, b []int, accept func(x, y int, d float32) bool) bool {
	var d [1]float32
	for _, x := range a {
		for _, y := range b {
			dotRows(m.Row(x), m.Row(y), m.Dim, d[:])
			if !accept(x, y, distFromDot(d[0])) {
				return false
			}
		}
	}
	return true
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
