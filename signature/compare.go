package signature

import (
	"math"
	"slices"
)

// Match is how well two signatures agree at the best alignment found.
type Match struct {
	// Score is the correlation of the two luma thumbnails where they
	// overlap (1: the same up to brightness and contrast).
	Score float32
	// Grad is the correlation of their luma gradients there.
	Grad float32
	// Colour is the larger share of one image's colour (chroma) that one
	// global colour change of the other explains (1: all of it; a
	// greyscale, hue or sepia copy is such a change, an object recoloured
	// against an unchanged background is not).
	Colour float32
	// Changed is the larger share of the overlap whose colour one global
	// colour change does not explain (fitted without the worst quarter of
	// the cells): a local recolouring, where an overlay or a caption
	// changes only a small share.
	Changed float32
	// NoColour: either image has no colour of its own (greyscale, sepia, a
	// silver car), so Colour and Changed cannot see a recolouring (they
	// are 1 and 0); ToneChanged stands in for them.
	NoColour bool
	// ToneChanged is the larger share of the overlap whose luma one global
	// tone curve of the other's does not explain (fitted the same way): a
	// black object painted red shows there even in a greyscale copy.
	ToneChanged float32
	// Orient is the orientation of b (0..7: k quarter turns, then +4 when
	// mirrored) and Frame where b's frame lies in a's, in a's normalised
	// coordinates (x, y, w, h).
	Orient int
	Frame  [4]float32
	// Cropped: the alignment needed a crop search.
	Cropped bool
}

// Prepared is a signature made ready for Compare (float grids, coarse
// levels): make it once per image, compare it with many.
type Prepared struct {
	luma   [Side * Side]float32
	cb, cr [ChromaSide * ChromaSide]float32
	// levels is the luma resampled for the coarse search.
	levels levelSet
	grey   bool
	// flat: the luma thumbnail has (next to) no structure to compare;
	// colourless: no colour worth comparing (greyscale, a tint that
	// follows luma, or chroma that barely varies).
	flat, colourless bool
}

// Below flatStd levels of luma spread a thumbnail shows nothing to align;
// below colourStd levels of chroma spread, or with more than monochrome
// of the chroma explained by the image's own luma, an image is taken as
// having no colour of its own (greyscale, sepia, a silver car).
const (
	flatStd    = 3
	colourStd  = 2
	monochrome = 0.9
)

// levelSizes: an 8×8 window over a level of side m covers 8/m of the
// image (1, 0.89, 0.8, 0.73, 0.67, 0.57, 0.5), at every whole offset.
var levelSizes = [...]int{8, 9, 10, 11, 12, 14, 16}

const window = 8

// levelSet is a luma grid area-averaged to every level size: square
// (crops of both sides), wide (m×8: crops of the width only) and tall
// (8×m: of the height only). whole is the 8×8 level. The slices point
// into buf.
type levelSet struct {
	whole          []float32
	sq, wide, tall [len(levelSizes) - 1][]float32
	buf            [levelFloats]float32
}

// levelFloats is the storage of a levelSet: 8² plus m², 8m and 8m for
// every other level size.
const levelFloats = 64 + (81 + 100 + 121 + 144 + 196 + 256) + 16*(9+10+11+12+14+16)

// sideWeights[m] are the area weights from Side cells to m.
var sideWeights = func() map[int][][]weight {
	w := map[int][][]weight{ChromaSide: areaWeights(0, Side, ChromaSide)}
	for _, m := range levelSizes {
		w[m] = areaWeights(0, Side, m)
	}
	return w
}()

// build fills l from a Side×Side grid: each row resized to every width
// once, then each of those to the heights it needs.
func (l *levelSet) build(v []float32) {
	var rows [16 * Side]float32 // one width's rows: Side rows of up to 16
	free := l.buf[:0]
	take := func(n int) []float32 {
		out := free[len(free) : len(free)+n]
		free = free[:len(free)+n]
		return out
	}
	widths := func(m int) []float32 {
		ws := sideWeights[m]
		out := rows[:Side*m]
		for y := range Side {
			for j, cell := range ws {
				var s float32
				for _, x := range cell {
					s += x.w * v[y*Side+x.i]
				}
				out[y*m+j] = s
			}
		}
		return out
	}
	heights := func(src []float32, w, h int) []float32 {
		out := take(w * h)
		for i, cell := range sideWeights[h] {
			for j := range w {
				var s float32
				for _, y := range cell {
					s += y.w * src[y.i*w+j]
				}
				out[i*w+j] = s
			}
		}
		return out
	}
	x8 := widths(window)
	l.whole = heights(x8, window, window)
	for k, m := range levelSizes[1:] {
		l.tall[k] = heights(x8, window, m)
	}
	for k, m := range levelSizes[1:] {
		xm := widths(m)
		l.sq[k] = heights(xm, m, m)
		l.wide[k] = heights(xm, m, window)
	}
}

// Prepare readies s for Compare.
func Prepare(s *Signature) *Prepared {
	p := &Prepared{grey: s.Grey}
	for i, v := range s.Luma {
		p.luma[i] = float32(v)
	}
	n := ChromaSide * ChromaSide
	for i := range n {
		p.cb[i] = float32(s.Chroma[i]) - 128
		p.cr[i] = float32(s.Chroma[n+i]) - 128
	}
	p.levels.build(p.luma[:])
	p.flat = std(p.luma[:]) < flatStd
	var y [ChromaSide * ChromaSide]float32
	p.luma16(y[:])
	tb, rb := fitAffine3(y[:], y[:], y[:], p.cb[:], nil, nil)
	tr, rr := fitAffine3(y[:], y[:], y[:], p.cr[:], nil, nil)
	n2 := float64(len(y))
	p.colourless = p.grey || math.Sqrt((tb+tr)/n2) < colourStd || 1-(rb+rr)/(tb+tr) >= monochrome
	return p
}

// luma16 is the luma at chroma resolution.
func (p *Prepared) luma16(dst []float32) {
	for i, cell := range sideWeights[ChromaSide] {
		for j, cx := range sideWeights[ChromaSide] {
			var s float32
			for _, y := range cell {
				for _, x := range cx {
					s += y.w * x.w * p.luma[y.i*Side+x.i]
				}
			}
			dst[i*ChromaSide+j] = s
		}
	}
}

func std(v []float32) float64 {
	var s, ss float64
	for _, x := range v {
		s += float64(x)
		ss += float64(x) * float64(x)
	}
	n := float64(len(v))
	return math.Sqrt(max(0, ss/n-(s/n)*(s/n)))
}

// orientations[n][o][i] is the index in an n×n grid that the grid
// oriented by o shows at i: k quarter turns, then a mirror when o ≥ 4.
var orientations = map[int]*[8][]int32{}

func init() {
	for _, n := range []int{Side, ChromaSide} {
		if orientations[n] != nil {
			continue
		}
		var t [8][]int32
		for o := range 8 {
			t[o] = make([]int32, n*n)
			for y := range n {
				for x := range n {
					sx, sy := x, y
					if o >= 4 {
						sx = n - 1 - sx
					}
					for range o % 4 {
						sx, sy = n-1-sy, sx
					}
					t[o][y*n+x] = int32(sy*n + sx)
				}
			}
		}
		orientations[n] = &t
	}
}

// oriented returns v (n×n) oriented by o, into dst.
func oriented(v []float32, n, o int, dst []float32) []float32 {
	dst = dst[:n*n]
	for i, src := range orientations[n][o] {
		dst[i] = v[src]
	}
	return dst
}

func ncc(a, b []float32) float32 {
	n := float32(len(a))
	var sa, sb float32
	for i := range a {
		sa += a[i]
		sb += b[i]
	}
	ma, mb := sa/n, sb/n
	var ab, aa, bb float32
	for i := range a {
		x, y := a[i]-ma, b[i]-mb
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		if aa == 0 && bb == 0 {
			return 1
		}
		return 0
	}
	return ab / float32(math.Sqrt(float64(aa)*float64(bb)))
}

type frame [4]float32 // x, y, w, h of b's frame in a's unit square

// overlap returns the part of a's unit square b's frame covers, and
// which share of each image that is.
func (f frame) overlap() (u0, v0, u1, v1, shareA, shareB float32) {
	u0, v0 = max(0, f[0]), max(0, f[1])
	u1, v1 = min(1, f[0]+f[2]), min(1, f[1]+f[3])
	if u1 <= u0 || v1 <= v0 {
		return
	}
	area := (u1 - u0) * (v1 - v0)
	return u0, v0, u1, v1, area, area / (f[2] * f[3])
}

// A crop must keep minLarger of one image and minShare of the other.
const (
	minShare  = 0.25
	minLarger = 0.7
)

func (f frame) ok() bool {
	_, _, _, _, a, b := f.overlap()
	return min(a, b) >= minShare && max(a, b) >= minLarger
}

// taps are the bilinear taps of one axis of a lattice: index of the lower
// pixel and the weight of the upper one.
type taps struct {
	i0, i1 [maxLattice]int32
	w      [maxLattice]float32
}

const maxLattice = 24

// axis fills the taps reading an n-pixel axis at g lattice points spread
// over [lo, hi) of a's unit axis, mapped to the grid's own unit axis by
// (t-off)/scale.
func (t *taps) axis(n, g int, lo, hi, off, scale float32) {
	fn := float32(n)
	for j := range g {
		u := lo + (float32(j)+0.5)/float32(g)*(hi-lo)
		x := (u-off)/scale*fn - 0.5
		x = min(max(x, 0), fn-1)
		x0 := int32(x)
		t.i0[j] = x0
		t.i1[j] = min(x0+1, int32(n-1))
		t.w[j] = x - float32(x0)
	}
}

// sampleGrid reads the n×n grid v at the lattice tx × ty into out.
func sampleGrid(v []float32, n, g int, tx, ty *taps, out []float32) {
	for i := range g {
		r0, r1, wy := int(ty.i0[i])*n, int(ty.i1[i])*n, ty.w[i]
		for j := range g {
			x0, x1, wx := int(tx.i0[j]), int(tx.i1[j]), tx.w[j]
			a := v[r0+x0] + (v[r0+x1]-v[r0+x0])*wx
			b := v[r1+x0] + (v[r1+x1]-v[r1+x0])*wx
			out[i*g+j] = a + (b-a)*wy
		}
	}
}

// lattice samples a (va, n×n) and b already oriented (vb, n×n) on a g×g
// lattice over f's overlap.
func lattice(va, vb []float32, n int, f frame, g int, sa, sb []float32) {
	u0, v0, u1, v1, _, _ := f.overlap()
	var ax, ay, bx, by taps
	ax.axis(n, g, u0, u1, 0, 1)
	ay.axis(n, g, v0, v1, 0, 1)
	bx.axis(n, g, u0, u1, f[0], f[2])
	by.axis(n, g, v0, v1, f[1], f[3])
	sampleGrid(va, n, g, &ax, &ay, sa)
	sampleGrid(vb, n, g, &bx, &by, sb)
}

// EarlyAccept: full-frame luma and gradient correlations at least this
// high need no crop search; below coarseFloor after the coarse crop search, no
// refinement either (nothing there to find).
const (
	EarlyAccept = 0.9
	coarseFloor = 0.5
	// refineWithin: coarse candidates this far below the best one are not
	// refined.
	refineWithin = 0.05
	// colourAfter: below this gradient correlation colour is not measured
	// (Colour 0, Changed 1); every threshold a model uses is above it.
	colourAfter = 0.5
)

// Compare aligns b to a (8 orientations, then crops and scales) and says
// how well they agree.
func Compare(a, b *Prepared) Match {
	if a.flat || b.flat {
		return Match{Score: 0, Grad: 0, Colour: 0, Frame: [4]float32{0, 0, 1, 1}}
	}
	var ob [Side * Side]float32
	type cand struct {
		s float32
		o int
	}
	var top [3]cand
	for i := range top {
		top[i].s = -2
	}
	for o := range 8 {
		s := ncc(a.luma[:], oriented(b.luma[:], Side, o, ob[:]))
		for i := range top {
			if s > top[i].s {
				copy(top[i+1:], top[i:len(top)-1])
				top[i] = cand{s, o}
				break
			}
		}
	}
	best := Match{Score: top[0].s, Orient: top[0].o, Frame: [4]float32{0, 0, 1, 1}}
	best.Grad = gradScore(a, oriented(b.luma[:], Side, best.Orient, ob[:]), best)
	if best.Score < EarlyAccept || best.Grad < EarlyAccept {
		// Crops keep their orientation more often than not: orientation 0
		// is always searched.
		orients := []int{top[0].o, top[1].o}
		if orients[0] != 0 && orients[1] != 0 {
			orients = append(orients, 0)
		}
		type found struct {
			s float32
			o int
			f frame
		}
		var keep [3]found
		for i := range keep {
			keep[i].s = -2
		}
		push := func(c found) {
			for i := range keep {
				if c.s > keep[i].s {
					copy(keep[i+1:], keep[i:len(keep)-1])
					keep[i] = c
					return
				}
			}
		}
		var obuf [Side * Side]float32
		var bl levelSet
		for _, o := range orients {
			bl.build(oriented(b.luma[:], Side, o, obuf[:]))
			// b is the crop: b's whole frame against a window of a's level.
			slide(&a.levels, bl.whole, func(x, y, w, h, sc float32) { push(found{sc, o, frame{x, y, w, h}}) })
			// a is the crop: a's whole frame against a window of b's.
			slide(&bl, a.levels.whole, func(x, y, w, h, sc float32) {
				push(found{sc, o, frame{-x / w, -y / h, 1 / w, 1 / h}})
			})
		}
		for _, k := range keep {
			if k.s < max(coarseFloor, keep[0].s-refineWithin) {
				break
			}
			ok := oriented(b.luma[:], Side, k.o, obuf[:])
			m := refine(a, ok, k.o, k.f)
			// Gradients, not levels, tell the alignment that matches.
			if m.Grad = gradScore(a, ok, m); m.Grad > best.Grad {
				best = m
			}
		}
	}
	if best.Grad < colourAfter {
		// Colour cannot save a pair whose shapes disagree: not measured.
		best.Changed = 1
		return best
	}
	oriented(b.luma[:], Side, best.Orient, ob[:])
	best.Colour, best.Changed = colourScore(a, b, ob[:], best)
	best.NoColour = a.colourless || b.colourless
	best.ToneChanged = toneChanged(a, ob[:], best)
	return best
}

// slide correlates the window-sized template t with every whole-offset
// window of every level of l and reports each with the window's place in
// unit coordinates (x, y, w, h).
func slide(l *levelSet, t []float32, report func(x, y, w, h, score float32)) {
	const n = window * window
	// The template centred and scaled once: each window then costs a dot
	// product and its own sums.
	var tc [n]float32
	var mt float32
	for _, v := range t {
		mt += v
	}
	mt /= n
	var tt float32
	for i, v := range t {
		tc[i] = v - mt
		tt += tc[i] * tc[i]
	}
	if tt == 0 {
		return
	}
	tn := float32(math.Sqrt(float64(tt)))
	one := func(v []float32, mw, mh int) {
		for y := 0; y+window <= mh; y++ {
			for x := 0; x+window <= mw; x++ {
				var dot, sum, sq float32
				for r := range window {
					row := v[(y+r)*mw+x : (y+r)*mw+x+window]
					tr := tc[r*window : (r+1)*window]
					for c, w := range row {
						dot += w * tr[c]
						sum += w
						sq += w * w
					}
				}
				varw := sq - sum*sum/n
				if varw <= 0 {
					continue
				}
				report(float32(x)/float32(mw), float32(y)/float32(mh), window/float32(mw), window/float32(mh),
					dot/(tn*float32(math.Sqrt(float64(varw)))))
			}
		}
	}
	for k, m := range levelSizes[1:] {
		one(l.sq[k], m, m)
		one(l.wide[k], m, window)
		one(l.tall[k], window, m)
	}
}

// refine climbs from f (b oriented: ob): offsets ±0.02, each scale ±5%,
// on a finer lattice, until nothing improves.
func refine(a *Prepared, ob []float32, o int, f frame) Match {
	const g = 12
	var sa, sb [g * g]float32
	score := func(f frame) float32 {
		if !f.ok() {
			return -2
		}
		lattice(a.luma[:], ob, Side, f, g, sa[:], sb[:])
		return ncc(sa[:], sb[:])
	}
	best := score(f)
	for range 5 {
		improved := false
		for _, d := range [][4]float32{{0.02, 0, 1, 1}, {-0.02, 0, 1, 1}, {0, 0.02, 1, 1}, {0, -0.02, 1, 1},
			{0, 0, 1.05, 1}, {0, 0, 0.95, 1}, {0, 0, 1, 1.05}, {0, 0, 1, 0.95}} {
			c := frame{f[0] + d[0], f[1] + d[1], f[2] * d[2], f[3] * d[3]}
			c[0] -= (c[2] - f[2]) / 2
			c[1] -= (c[3] - f[3]) / 2
			if s := score(c); s > best {
				best, f, improved = s, c, true
			}
		}
		if !improved {
			break
		}
	}
	return Match{Score: best, Orient: o, Frame: f, Cropped: true}
}

// gradScore correlates the luma gradients of a and b (oriented: ob,
// aligned by m) over the overlap.
func gradScore(a *Prepared, ob []float32, m Match) float32 {
	if !m.Cropped {
		// The frames coincide: the grids themselves, no resampling.
		return gradNCC(a.luma[:], ob, Side)
	}
	const g = 24
	var sa, sb [g * g]float32
	lattice(a.luma[:], ob, Side, frame(m.Frame), g, sa[:], sb[:])
	return gradNCC(sa[:], sb[:], g)
}

func gradNCC(a, b []float32, n int) float32 {
	var da, db [2 * Side * Side]float32
	k := 0
	for i := range n {
		for j := range n - 1 {
			da[k], db[k] = a[i*n+j+1]-a[i*n+j], b[i*n+j+1]-b[i*n+j]
			k++
		}
	}
	for i := range n - 1 {
		for j := range n {
			da[k], db[k] = a[(i+1)*n+j]-a[i*n+j], b[(i+1)*n+j]-b[i*n+j]
			k++
		}
	}
	return ncc(da[:k], db[:k])
}

// colourScore asks whether one global colour change turns either image
// into the other: it fits each chroma plane of one as an affine function
// of the other's luma and chroma over the overlap, in both directions. It
// returns the smaller share of chroma variance explained (1: all of it),
// and the larger share of cells the fit leaves far off (fitted again
// without the worst quarter, so that a local change does not bend the
// global one). A hue, saturation or brightness change is a global
// change; the same object recoloured against an unchanged background is
// not. When either image has no colour of its own (greyscale, sepia, a
// silver car) there is no colour to compare: 1 and 0 (a greyscale copy and
// a recoloured object look alike there; the luma must tell them apart:
// toneChanged).
func colourScore(a, b *Prepared, ob []float32, m Match) (float32, float32) {
	if a.colourless || b.colourless {
		return 1, 0
	}
	const g = ChromaSide
	var ay, acb, acr, by, bcb, bcr [g * g]float32
	var ocb, ocr [g * g]float32
	f := frame(m.Frame)
	lattice(a.cb[:], oriented(b.cb[:], g, m.Orient, ocb[:]), g, f, g, acb[:], bcb[:])
	lattice(a.cr[:], oriented(b.cr[:], g, m.Orient, ocr[:]), g, f, g, acr[:], bcr[:])
	lattice(a.luma[:], ob, Side, f, g, ay[:], by[:])
	explain := func(y, cb, cr, tcb, tcr []float32) (float32, float32) {
		total, resid, changed := localChange(y, cb, cr, [][]float32{tcb, tcr}, changedLevels)
		// A floor of a few levels of chroma noise, so that nearly flat
		// chroma does not turn noise into a verdict.
		const floor = g * g * 2 * 4 * 4
		return float32(1 - resid/(total+floor)), changed
	}
	e1, c1 := explain(ay[:], acb[:], acr[:], bcb[:], bcr[:])
	e2, c2 := explain(by[:], bcb[:], bcr[:], acb[:], acr[:])
	return min(e1, e2), max(c1, c2)
}

// toneChanged asks whether one global tone curve (a quadratic of luma:
// brightness, contrast, gamma, a greyscale conversion) turns either
// image's luma into the other's over the overlap, in both directions, and
// returns the larger share of cells it leaves far off (localChange).
func toneChanged(a *Prepared, ob []float32, m Match) float32 {
	const g = ChromaSide
	var ay, by, ay2, by2, zero [g * g]float32
	lattice(a.luma[:], ob, Side, frame(m.Frame), g, ay[:], by[:])
	for i := range ay {
		ay2[i], by2[i] = ay[i]*ay[i]/255, by[i]*by[i]/255
	}
	_, _, c1 := localChange(ay[:], ay2[:], zero[:], [][]float32{by[:]}, toneLevels)
	_, _, c2 := localChange(by[:], by2[:], zero[:], [][]float32{ay[:]}, toneLevels)
	return max(c1, c2)
}

// localChange fits each target of ts as one affine function of (x1, x2,
// x3) over all cells, fits again without the worst quarter of the cells
// (so that a local change does not bend the global one), and returns the
// first fit's total and residual sums of squares and the share of cells
// whose residual (over all targets) is far off the second fit: over levels
// and over changedRMS times its typical residual.
func localChange(x1, x2, x3 []float32, ts [][]float32, levels float64) (total, resid float64, changed float32) {
	n := len(x1)
	res := make([][]float64, len(ts))
	for k, t := range ts {
		res[k] = make([]float64, n)
		tt, r := fitAffine3(x1, x2, x3, t, nil, res[k])
		total += tt
		resid += r
	}
	mag := func(i int) float64 {
		var m float64
		for k := range res {
			m += res[k][i] * res[k][i]
		}
		return m
	}
	mags := make([]float64, n)
	for i := range mags {
		mags[i] = mag(i)
	}
	sorted := slices.Clone(mags)
	slices.Sort(sorted)
	cut := sorted[n*3/4]
	keep := make([]bool, n)
	kept := 0
	for i := range keep {
		if keep[i] = mags[i] <= cut; keep[i] {
			kept++
		}
	}
	var rms float64
	for k, t := range ts {
		_, r := fitAffine3(x1, x2, x3, t, keep, res[k])
		rms += r
	}
	rms = math.Sqrt(rms / float64(max(kept, 1)))
	far := max(levels, changedRMS*rms)
	off := 0
	for i := range n {
		if math.Sqrt(mag(i)) > far {
			off++
		}
	}
	return total, resid, float32(off) / float32(n)
}

// A cell is far off a global colour fit when its chroma residual is over
// changedLevels (toneLevels of luma for a tone fit) and over changedRMS
// times the fit's typical one.
const (
	changedLevels = 12
	toneLevels    = 24
	changedRMS    = 3
)

// fitAffine3 fits t ≈ p·x1 + q·x2 + r·x3 + c by least squares over the
// cells keep lets through (nil: all), writes every cell's residual into
// res (when not nil) and returns the total and residual sums of squares of
// t about its mean over the fitted cells.
func fitAffine3(x1, x2, x3, t []float32, keep []bool, res []float64) (total, resid float64) {
	xs := [3][]float32{x1, x2, x3}
	var mx [3]float64
	var mt, n float64
	for i := range t {
		if keep != nil && !keep[i] {
			continue
		}
		for k := range 3 {
			mx[k] += float64(xs[k][i])
		}
		mt += float64(t[i])
		n++
	}
	if n == 0 {
		return 0, 0
	}
	for k := range 3 {
		mx[k] /= n
	}
	mt /= n
	var a [3][4]float64 // normal equations, augmented
	for i := range t {
		if keep != nil && !keep[i] {
			continue
		}
		var d [3]float64
		for k := range 3 {
			d[k] = float64(xs[k][i]) - mx[k]
		}
		c := float64(t[i]) - mt
		for r := range 3 {
			for k := range 3 {
				a[r][k] += d[r] * d[k]
			}
			a[r][3] += d[r] * c
		}
		total += c * c
	}
	// Ridge: a tiny multiple of the trace keeps a degenerate system (a
	// flat plane) solvable.
	tr := (a[0][0] + a[1][1] + a[2][2]) * 1e-6
	for k := range 3 {
		a[k][k] += tr + 1e-9
	}
	var coef [3]float64
	for c := range 3 { // Gaussian elimination with partial pivoting
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := c + 1; r < 3; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < 4; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	for r := 2; r >= 0; r-- {
		v := a[r][3]
		for k := r + 1; k < 3; k++ {
			v -= a[r][k] * coef[k]
		}
		coef[r] = v / a[r][r]
	}
	for i := range t {
		var fit float64
		for k := range 3 {
			fit += coef[k] * (float64(xs[k][i]) - mx[k])
		}
		r := float64(t[i]) - mt - fit
		if res != nil {
			res[i] = r
		}
		if keep == nil || keep[i] {
			resid += r * r
		}
	}
	return total, min(total, resid)
}
