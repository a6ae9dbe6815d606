package collection

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/embedsearch/embedsearch/calibrate"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/signature"
	"github.com/embedsearch/embedsearch/store"
)

// ErrPreset: a preset this build or the model does not have.
var ErrPreset = errors.New("no such preset")

// ErrCalibration: the store's calibration file cannot be used (damaged, or
// written by a newer build).
var ErrCalibration = errors.New("the store's calibration cannot be read")

// SourceManifest is Criterion.Source for presets from the model manifest.
const SourceManifest = "the model manifest"

// The checks that accept a pair (Verdict.Check).
const (
	// CheckDistance: within the distance of a distance-only criterion
	// (the exact and similar presets, an explicit distance).
	CheckDistance = "distance"
	// CheckExact: within the model's exact distance, the same picture
	// (re-encoded, resized, its metadata edited): always a duplicate.
	CheckExact = "exact"
	// CheckPixels: near by the vectors, measured against the two images'
	// neighbourhoods, and the signatures agree.
	CheckPixels = "pixels"
	// CheckVectors: near by the vectors alone (an image without a
	// signature: its store was not indexed since signatures came).
	CheckVectors = "vectors"
)

// Presets of a model's manifest.
const (
	PresetExact   = "exact"
	PresetNear    = "near"
	PresetSimilar = "similar"
)

// Criterion says which pairs of images are duplicates.
type Criterion struct {
	// Preset names it ("" for an explicit distance).
	Preset string
	// Within: no pair further apart is a duplicate.
	Within float32
	// DistanceOnly: every pair within Within is one.
	DistanceOnly bool
	// Exact: pairs within it always are (the model's exact threshold).
	Exact float32
	// Dedup is the near test (used unless DistanceOnly).
	models.Dedup
	// Source says where a preset's distances come from: SourceManifest,
	// or "calibration of DATE" (the store's own, Calibration); "" for an
	// explicit distance.
	Source      string
	Calibration *calibrate.Calibration
}

// DefaultDedup is the near test of a model whose manifest has none: the
// built-in model's calibration, until a calibration of the model itself
// measures better.
var DefaultDedup = models.Dedup{K: 64, Score: 0.7, ScoreVectors: 0.3, Grad: 0.7, GradCrop: 0.8, Colour: 0.6, Changed: 0.1, ToneChanged: 0.1,
	Calibration: "defaults (the built-in model's held-out calibration)"}

// NewCriterion is the named preset of model m: exact and similar are
// distances (the manifest's thresholds), near is the full test.
func NewCriterion(m *models.Manifest, preset string) (Criterion, error) {
	t := m.Thresholds
	c := Criterion{Preset: strings.ToLower(preset), Exact: float32(t.Exact)}
	switch c.Preset {
	case PresetExact:
		c.Within, c.DistanceOnly = float32(t.Exact), true
	case PresetSimilar:
		c.Within, c.DistanceOnly = float32(t.Similar), true
	case PresetNear:
		c.Within = float32(t.Near)
		c.Dedup = DefaultDedup
		if m.Dedup != nil {
			c.Dedup = *m.Dedup
		}
	default:
		return Criterion{}, fmt.Errorf("%w %q: exact, near or similar", ErrPreset, preset)
	}
	if !(c.Within > 0) {
		return Criterion{}, fmt.Errorf("%w: model %s has no %s threshold", ErrPreset, m.ID, c.Preset)
	}
	c.Source = SourceManifest
	return c, nil
}

// StoreCriterion is NewCriterion for the store r was opened from: with the
// distances of StorePresets. A calibration file that cannot be read is
// ErrCalibration.
func StoreCriterion(r *store.Reader, m *models.Manifest, preset string) (Criterion, error) {
	t, cal, err := StorePresets(r, m)
	if err != nil {
		return Criterion{}, err
	}
	if cal == nil {
		return NewCriterion(m, preset)
	}
	own := *m
	own.Thresholds = t
	c, err := NewCriterion(&own, preset)
	if err == nil {
		c.Source, c.Calibration = "calibration of "+cal.Date.Format("2006-01-02"), cal
	}
	return c, err
}

// StorePresets are the preset distances of the store r was opened from:
// its own calibration's (calibrate.Run, kept by calibrate.Save) when it has
// one of the store's model, which it returns too, else the manifest's. A
// calibration file that cannot be read is ErrCalibration.
func StorePresets(r *store.Reader, m *models.Manifest) (models.Thresholds, *calibrate.Calibration, error) {
	cal, err := calibrate.Load(r.Dir())
	if err != nil {
		return m.Thresholds, nil, fmt.Errorf("%w: %w", ErrCalibration, err)
	}
	if b := r.Model(); cal == nil || cal.ModelID != b.ModelID || cal.Digest != b.Digest {
		return m.Thresholds, nil, nil
	}
	return cal.Thresholds, cal, nil
}

// DistanceCriterion: every pair within d is a duplicate.
func DistanceCriterion(d float32) Criterion {
	return Criterion{Within: d, DistanceOnly: true}
}

// pairing is how the criterion's candidates are found.
func (c Criterion) pairing() Pairing {
	if c.DistanceOnly || c.K <= 0 {
		return Pairing{MaxDist: c.Within}
	}
	// Beyond Within/Score a neighbourhood is wide enough that the
	// distance limit decides alone: no neighbour further is needed.
	r := c.Within
	if c.Score > 0 {
		r = max(r, c.Within/float32(c.Score))
	}
	return Pairing{K: c.K, Radius: min(r, 2), MaxDist: c.Within}
}

// Verdict is what the criterion said of one pair.
type Verdict struct {
	Dup bool
	// Check is the test that decided (CheckExact, CheckPixels, ...).
	Check string
	// Score is the distance over the mean of the two images' K-th
	// neighbour distances (0 when not measured).
	Score float32
	// Pixels is the signatures' comparison, when one was made.
	Pixels *signature.Match
}

// judge applies a criterion to pairs of one snapshot, remembering every
// verdict (complete linkage asks about a pair more than once) and every
// prepared signature. Safe for concurrent use.
type judge struct {
	c   Criterion
	r   *store.Reader
	kth func(id int) float32

	mu       sync.Mutex
	verdicts map[[2]int]Verdict
	sigs     map[int]*signature.Prepared
}

func newJudge(c Criterion, r *store.Reader, nb *search.Neighbours) *judge {
	j := &judge{c: c, r: r, verdicts: map[[2]int]Verdict{}, sigs: map[int]*signature.Prepared{}}
	if nb != nil {
		j.kth = nb.Kth
	}
	return j
}

// prepared is id's signature ready to compare, nil when it has none (or
// one this build cannot read).
func (j *judge) prepared(id int) *signature.Prepared {
	j.mu.Lock()
	p, ok := j.sigs[id]
	j.mu.Unlock()
	if ok {
		return p
	}
	var s signature.Signature
	if b := j.r.Signature(id); b != nil && s.UnmarshalBinary(b) == nil {
		p = signature.Prepare(&s)
	}
	j.mu.Lock()
	j.sigs[id] = p
	j.mu.Unlock()
	return p
}

// verdict judges rows a and b at distance d.
func (j *judge) verdict(a, b int, d float32) Verdict {
	key := [2]int{min(a, b), max(a, b)}
	j.mu.Lock()
	v, ok := j.verdicts[key]
	j.mu.Unlock()
	if ok {
		return v
	}
	v = j.decide(key[0], key[1], d)
	j.mu.Lock()
	j.verdicts[key] = v
	j.mu.Unlock()
	return v
}

func (j *judge) decide(a, b int, d float32) Verdict {
	c := j.c
	switch {
	case d <= c.Exact && !c.DistanceOnly:
		return Verdict{Dup: true, Check: CheckExact}
	case d > c.Within:
		return Verdict{}
	case c.DistanceOnly:
		return Verdict{Dup: true, Check: CheckDistance}
	}
	v := Verdict{Check: CheckVectors}
	if r := j.crowd(a, b); r > 0 {
		v.Score = d / r
	}
	pa, pb := j.prepared(a), j.prepared(b)
	if pa == nil || pb == nil {
		v.Dup = float64(v.Score) <= c.ScoreVectors
		return v
	}
	v.Check = CheckPixels
	if float64(v.Score) > c.Score {
		return v
	}
	m := signature.Compare(pa, pb)
	v.Pixels = &m
	v.Dup = calibrate.PixelsAgree(c.Dedup, m)
	return v
}

// vectorsPass reports whether the vectors alone leave the pair to the
// pixel check (or accept it): the cheap part of decide.
func (j *judge) vectorsPass(a, b int, d float32) bool {
	c := j.c
	if c.DistanceOnly || d <= c.Exact {
		return d <= c.Within
	}
	if d > c.Within {
		return false
	}
	r := j.crowd(a, b)
	return r > 0 && float64(d/r) <= max(c.Score, c.ScoreVectors)
}

// crowd is the mean of a's and b's K-th neighbour distances, what a pair's
// distance is measured against; 0 when not known.
func (j *judge) crowd(a, b int) float32 {
	if j.kth == nil {
		return 0
	}
	return (j.kth(a) + j.kth(b)) / 2
}

// warm judges the pairs the vectors pass, on every core: complete linkage
// then finds most verdicts made. The pixel check is the costly part.
func (j *judge) warm(ps []search.Pair) {
	var todo []search.Pair
	for _, p := range ps {
		if j.vectorsPass(p.A, p.B, p.Dist) {
			todo = append(todo, p)
		}
	}
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(todo); i += workers {
				j.verdict(todo[i].A, todo[i].B, todo[i].Dist)
			}
		}()
	}
	wg.Wait()
}

// Checked counts the pairs that went through the pixel check.
func (j *judge) checked() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, v := range j.verdicts {
		if v.Pixels != nil {
			n++
		}
	}
	return n
}
