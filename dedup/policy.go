package dedup

import (
	"fmt"
	"path/filepath"
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
	SHA256        string    // hex of the file's bytes; "" when unknown
}

// Date is the time the oldest/newest policies compare: the EXIF capture time
// when the file has one, else its modification time.
func (f File) Date() time.Time {
	if !f.Taken.IsZero() {
		return f.Taken
	}
	return f.ModTime
}

// Group is a set of near-duplicates and the member that stays.
type Group struct {
	Members []File
	Keep    int // index into Members
}

// criterion orders two files: negative when a should be kept over b.
type criterion struct {
	name string
	cmp  func(a, b File) int
}

// Policy chooses a group's keeper: its criteria in order, then the path.
// The zero Policy is the default, DefaultPolicy.
type Policy struct {
	criteria []criterion
	spec     string
}

// DefaultPolicy keeps the largest resolution (then the largest file).
const DefaultPolicy = "resolution"

// PolicyHelp lists the policy names for --help.
const PolicyHelp = `resolution (default: most pixels, then largest file), size (largest file),
oldest / newest (EXIF capture time when the file has one, else modification time),
shortest-path, prefer:DIR (files under DIR win; give several --keep to chain,
e.g. --keep prefer:best --keep oldest). Remaining ties go to the first path in
byte order.`

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpTime(a, b time.Time) int { return a.Compare(b) }

var (
	byResolution = criterion{"resolution", func(a, b File) int {
		return cmpInt64(int64(b.Width)*int64(b.Height), int64(a.Width)*int64(a.Height))
	}}
	bySize    = criterion{"size", func(a, b File) int { return cmpInt64(b.Size, a.Size) }}
	byOldest  = criterion{"oldest", func(a, b File) int { return cmpTime(a.Date(), b.Date()) }}
	byNewest  = criterion{"newest", func(a, b File) int { return cmpTime(b.Date(), a.Date()) }}
	byShorter = criterion{"shortest-path", func(a, b File) int {
		return cmpInt64(int64(len(a.Path)), int64(len(b.Path)))
	}}
)

func preferCriterion(dir string) criterion {
	return criterion{"prefer:" + dir, func(a, b File) int {
		ia, ib := fspath.Within(dir, a.Path), fspath.Within(dir, b.Path)
		switch {
		case ia && !ib:
			return -1
		case ib && !ia:
			return 1
		}
		return 0
	}}
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
			return Policy{}, fmt.Errorf("%w %q; use one of: resolution, size, oldest, newest, shortest-path, prefer:DIR", ErrBadPolicy, s)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return Policy{}, fmt.Errorf("keep policy %q: %w", s, err)
		}
		p.criteria = append(p.criteria, preferCriterion(abs))
	}
	if onlyPrefer {
		p.criteria = append(p.criteria, byResolution, bySize)
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

// Less says whether a is kept over b.
func (p Policy) Less(a, b File) bool {
	crit := p.criteria
	if len(crit) == 0 {
		crit = []criterion{byResolution, bySize}
	}
	for _, c := range crit {
		if r := c.cmp(a, b); r != 0 {
			return r < 0
		}
	}
	return a.Path < b.Path
}

// Keeper returns the index of the member to keep. Members under a reference
// folder win over all others (the policy then chooses among them).
func (p Policy) Keeper(members []File, references []string) int {
	best := -1
	bestRef := false
	for i, f := range members {
		ref := fspath.WithinAny(references, f.Path)
		switch {
		case best < 0:
		case ref && !bestRef:
		case ref == bestRef && p.Less(f, members[best]):
		default:
			continue
		}
		best, bestRef = i, ref
	}
	return best
}
