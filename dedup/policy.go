package dedup

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/internal/fspath"
)

// File is one image as the store describes it.
type File struct {
	Path          string    // absolute, clean
	Size          int64     // bytes; negative when unknown
	ModTime       time.Time // zero when unknown
	Width, Height int       // as displayed (after EXIF orientation)
	Taken         time.Time // EXIF DateTimeOriginal; zero when absent
	Camera        string    // EXIF make and model; "" when absent
	SHA256        string    // hex of the file's bytes; "" when unknown
	// From the image's signature, when Signed (package signature): its
	// real pixels (Width×Height less uniform borders), whether it is
	// greyscale, how sharp (a blur lowers it) and how hard compressed (a
	// JPEG quality 1..100, 101 lossless, 0 unknown) it is.
	Signed    bool
	Real      int64
	Grey      bool
	Sharpness float32
	Quality   int
	// Spread is the file's mean distance to the other members of its
	// group (their vectors); 0 when unknown. The one the others are edits
	// of sits closest to them all.
	Spread float64
	// PixelSpread is the same by their pixels as they stand (package
	// signature's Apart); 0 when unknown.
	PixelSpread float64
}

// Date is the time the oldest/newest policies compare: the EXIF capture time
// when the file has one, else its modification time.
func (f File) Date() time.Time {
	if !f.Taken.IsZero() {
		return f.Taken
	}
	return f.ModTime
}

// RealPixels is the image's area less uniform borders when its signature
// says, else its displayed area.
func (f File) RealPixels() int64 {
	if f.Signed && f.Real > 0 {
		return f.Real
	}
	return int64(f.Width) * int64(f.Height)
}

// metadata counts what the file says of its capture: a time, a camera.
func (f File) metadata() int {
	n := 0
	if !f.Taken.IsZero() {
		n++
	}
	if f.Camera != "" {
		n++
	}
	return n
}

// Group is a set of near-duplicates and the member that stays.
type Group struct {
	Members []File
	Keep    int // index into Members
}

// criterion narrows the candidates for keeper: keep returns those of
// files (indices) that it does not rule out, at least one.
type criterion struct {
	name string
	keep func(files []File, cand []int) []int
}

// Policy chooses a group's keeper: its criteria in order narrow the
// candidates, then the first path in byte order. The zero Policy is the
// default, DefaultPolicy.
type Policy struct {
	criteria []criterion
	spec     string
}

// DefaultPolicy keeps the best copy (see PolicyHelp).
const DefaultPolicy = "best"

// PolicyHelp lists the policy names for --help.
const PolicyHelp = `best (default): the best copy, by in turn the most real pixels (uniform
borders trimmed before counting; within 30% of the most count as equal),
not greyscale, not blurred (sharpness at least 0.7 of the group's median),
the centre of the group (the copy the others are edits of: mean distance to
them, by pixels then by vectors, within 5% of the smallest), least
compressed (JPEG quality from its tables, within 2; lossless beats any),
more metadata (capture time, camera), larger file, older;
resolution (most pixels, then largest file), size (largest file),
oldest / newest (EXIF capture time when the file has one, else modification time),
shortest-path, prefer:DIR (files under DIR win; give several --keep to chain,
e.g. --keep prefer:best --keep oldest). Remaining ties go to the first path in
byte order; no policy looks at file names otherwise.`

// exactly keeps the candidates whose value is the best (largest when
// more is better), exactly.
func exactly(name string, value func(File) float64, more bool) criterion {
	return criterion{name, func(files []File, cand []int) []int {
		best := value(files[cand[0]])
		for _, i := range cand[1:] {
			if v := value(files[i]); (more && v > best) || (!more && v < best) {
				best = v
			}
		}
		var out []int
		for _, i := range cand {
			if value(files[i]) == best {
				out = append(out, i)
			}
		}
		return out
	}}
}

// atLeast keeps the candidates whose value is at least floor(values).
func atLeast(name string, value func(File) float64, floor func(vs []float64) float64) criterion {
	return criterion{name, func(files []File, cand []int) []int {
		vs := make([]float64, len(cand))
		for k, i := range cand {
			vs[k] = value(files[i])
		}
		f := floor(vs)
		var out []int
		for k, i := range cand {
			if vs[k] >= f {
				out = append(out, i)
			}
		}
		if len(out) == 0 {
			return cand
		}
		return out
	}}
}

func maxOf(vs []float64) float64 { return slices.Max(vs) }

func medianOf(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}

func nanos(t time.Time) float64 { return float64(t.UnixNano()) }

var (
	byResolution = exactly("resolution", func(f File) float64 { return float64(f.Width) * float64(f.Height) }, true)
	bySize       = exactly("size", func(f File) float64 { return float64(f.Size) }, true)
	byOldest     = exactly("oldest", func(f File) float64 { return nanos(f.Date()) }, false)
	byNewest     = exactly("newest", func(f File) float64 { return nanos(f.Date()) }, true)
	byShorter    = exactly("shortest-path", func(f File) float64 { return float64(len(f.Path)) }, false)

	// The best copy. Tolerances: trimming a photo's uniform edges differs
	// a little between copies (a caption over a white background keeps a
	// band another copy loses), while a resize, crop or thumbnail loses far
	// more than 30%; a blur halves the sharpness of the others; JPEG
	// quality estimates of one encoder's tables differ by 1.
	byRealPixels = atLeast("real pixels", func(f File) float64 { return float64(f.RealPixels()) },
		func(vs []float64) float64 { return 0.7 * maxOf(vs) })
	byColour    = exactly("colour", func(f File) float64 { return b2f(!(f.Signed && f.Grey)) }, true)
	bySharpness = atLeast("sharpness", func(f File) float64 { return float64(f.Sharpness) },
		func(vs []float64) float64 { return 0.7 * medianOf(vs) })
	byQuality = atLeast("compression", func(f File) float64 { return float64(f.Quality) },
		func(vs []float64) float64 { return maxOf(vs) - 2 })
	byMetadata = exactly("metadata", func(f File) float64 { return float64(f.metadata()) }, true)
	// The centre of a group of copies is the one the others were made
	// from: every edit (a turn, a mirror, a squash, a caption, a colour
	// change) moves a copy away from its source by pixels as they stand
	// (PixelSpread) and, most of them, by vectors too (Spread), so the
	// source is least apart from the rest, while copies that change no
	// pixel that matters (a re-encode, lossless or at another quality)
	// share its place within a few percent: those stay, for compression to
	// decide. The 5% tolerance was chosen on the held-out calibration set
	// calib-A (bench/dedup/README.md: keeper quality 0.78 at 0%, 0.86 at
	// 2%, 0.89 at 5%, 0.88 at 10%, 0.82 at 25%). The centre comes before
	// compression because the quality of a JPEG's tables says how hard it
	// was last compressed, not how faithful it is: an edit saved at 92
	// from an original at 75 has the higher number.
	byPixelCentre = atLeast("centre", func(f File) float64 { return -f.PixelSpread },
		func(vs []float64) float64 { return 1.05 * maxOf(vs) })
	byCentre = atLeast("centre by vectors", func(f File) float64 { return -f.Spread },
		func(vs []float64) float64 { return 1.05 * maxOf(vs) })
	best = []criterion{byRealPixels, byColour, bySharpness, byPixelCentre, byCentre, byQuality, byMetadata, bySize, byOldest}
)

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func preferCriterion(dir string) criterion {
	return exactly("prefer:"+dir, func(f File) float64 { return b2f(fspath.Within(dir, f.Path)) }, true)
}

// ParsePolicy reads --keep values, applied in order. Folder names in prefer:
// are made absolute. With only prefer: criteria, the default criteria follow
// them. No values means DefaultPolicy.
func ParsePolicy(specs []string) (Policy, error) {
	var p Policy
	onlyPrefer := true
	for _, s := range specs {
		s = strings.TrimSpace(s)
		switch strings.ToLower(s) {
		case "best", "default":
			p.criteria = append(p.criteria, best...)
			onlyPrefer = false
			continue
		case "resolution", "largest-resolution", "pixels":
			p.criteria = append(p.criteria, byResolution, bySize)
			onlyPrefer = false
			continue
		case "size", "largest", "largest-file":
			p.criteria = append(p.criteria, bySize)
			onlyPrefer = false
			continue
		case "oldest":
			p.criteria = append(p.criteria, byOldest)
			onlyPrefer = false
			continue
		case "newest":
			p.criteria = append(p.criteria, byNewest)
			onlyPrefer = false
			continue
		case "shortest-path", "shortest":
			p.criteria = append(p.criteria, byShorter)
			onlyPrefer = false
			continue
		}
		dir, ok := strings.CutPrefix(s, "prefer:")
		if !ok || dir == "" {
			return Policy{}, fmt.Errorf("%w %q; use one of: best, resolution, size, oldest, newest, shortest-path, prefer:DIR", ErrBadPolicy, s)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return Policy{}, fmt.Errorf("keep policy %q: %w", s, err)
		}
		p.criteria = append(p.criteria, preferCriterion(abs))
	}
	if onlyPrefer {
		p.criteria = append(p.criteria, best...)
	}
	p.spec = strings.Join(specs, ",")
	if p.spec == "" {
		p.spec = DefaultPolicy
	}
	return p, nil
}

// String names the policy as given.
func (p Policy) String() string {
	if p.spec == "" {
		return DefaultPolicy
	}
	return p.spec
}

// Keeper returns the index of the member to keep. Members under a reference
// folder win over all others (the policy then chooses among them); the
// result does not depend on the members' order.
func (p Policy) Keeper(members []File, references []string) int {
	cand, _ := candidates(members, references)
	for _, c := range p.chain() {
		if len(cand) == 1 {
			break
		}
		cand = c.keep(members, cand)
	}
	k := cand[0]
	for _, i := range cand[1:] {
		if members[i].Path < members[k].Path {
			k = i
		}
	}
	return k
}

// candidates are the members under a reference folder, all members when
// none is; ref says whether references narrowed them.
func candidates(members []File, references []string) (cand []int, ref bool) {
	for i, f := range members {
		if fspath.WithinAny(references, f.Path) {
			cand = append(cand, i)
		}
	}
	if len(cand) > 0 {
		return cand, true
	}
	for i := range members {
		cand = append(cand, i)
	}
	return cand, false
}

// chain is the policy's criteria, DefaultPolicy's for the zero Policy.
func (p Policy) chain() []criterion {
	if len(p.criteria) == 0 {
		return best
	}
	return p.criteria
}

// Why names the criteria that set members' keeper apart, in order: each
// that ruled out some of the candidates left ("path" when the path order
// had the last word, "reference" when the only reference member keeps;
// none for fewer than two members).
func (p Policy) Why(members []File, references []string) []string {
	if len(members) < 2 {
		return nil
	}
	cand, ref := candidates(members, references)
	if ref && len(cand) == 1 {
		return []string{"reference"}
	}
	var why []string
	for _, c := range p.chain() {
		if len(cand) == 1 {
			return why
		}
		if next := c.keep(members, cand); len(next) < len(cand) {
			why = append(why, c.name)
			cand = next
		}
	}
	if len(cand) > 1 {
		why = append(why, "path")
	}
	return why
}
