package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/embedsearch/embedsearch/copies"
	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/inputfile"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/signature"
	"github.com/embedsearch/embedsearch/store"
)

// Sizes of a self-calibration.
const (
	// DefaultSample photos are sampled unless Options say otherwise.
	DefaultSample = 200
	// DefaultPerPhoto copies are made of each.
	DefaultPerPhoto = 8
	// MinPhotos is the fewest images a store must hold, MinSample the
	// fewest photos a calibration samples: fewer say too little about the
	// library (ErrTooFew).
	MinPhotos = 20
	MinSample = 10
	// maxSide: a photo larger than this on its long side is scaled down
	// before its copies are made (a resize, an exact kind, which the
	// model's own preprocessing nearly undoes), so that a library of
	// 12-MP photos calibrates in seconds rather than minutes.
	maxSide = 2048
)

// ErrTooFew: the store holds too few images, or too few of them could be
// read, to calibrate on.
var ErrTooFew = errors.New("too few photos to calibrate")

// Options of Run.
type Options struct {
	// Sample is how many of the store's photos are copied (0:
	// DefaultSample; at most the store's size), PerPhoto how many copies
	// of each are made (0: DefaultPerPhoto), drawn in turn from
	// copies.Edits() in an order Seed shuffles. Seed also draws the
	// sample: the same store and seed give the same calibration.
	Sample, PerPhoto int
	Seed             uint64
	// TempDir is where the temporary folder of copies is made ("":
	// os.TempDir()); it is removed before Run returns, also when
	// cancelled.
	TempDir string
	// Limits is the decoder's pixel cap for the sampled photos.
	Limits preprocess.Limits
	// InputSide is the side the model resizes images to (its manifest's
	// preprocess size): a resized copy is an exact kind only while its
	// short side keeps at least that many pixels, so that the model sees
	// the same picture (a 75×50 thumbnail of a small photo is not one).
	InputSide int
	// Dedup, when its K is set, is the near test Run measures the share
	// of copies found by (Calibration.NearFound).
	Dedup models.Dedup
	// Progress, when set, hears how many of the images (originals and
	// copies) have been embedded.
	Progress func(done, total int)
	// Now dates the calibration (nil: time.Now).
	Now func() time.Time
}

// photo is one sampled photo: its store row, its copies' edits and, once
// embedded, its vectors and signatures (index 0: the original).
type photo struct {
	c     int // its place in the drawing order
	id    int
	edits []copies.Edit
	exact []bool // per edit: an exact kind (exactKind)
	paths []string
	vecs  [][]float32
	sigs  [][]byte
}

// Run calibrates dedup's presets on the photos of store r: it samples
// photos, makes copies of each with package copies in a temporary folder,
// embeds originals and copies with enc (which must embed with the store's
// model) and chooses the presets (Thresholds, real duplicates allowed) from
// the distances of copies to their originals and of the sampled photos to
// their nearest other photos of the store. It writes nothing into the
// store: Save keeps the result.
func Run(ctx context.Context, r *store.Reader, enc *infer.Encoder, o Options) (*Calibration, error) {
	n := r.Len()
	if n < MinPhotos {
		return nil, fmt.Errorf("%w: the store holds %d images, calibration needs at least %d", ErrTooFew, n, MinPhotos)
	}
	if enc.Dim() != r.Dim() {
		return nil, fmt.Errorf("calibrate: the encoder's vectors have %d dimensions, the store's %d", enc.Dim(), r.Dim())
	}
	if o.Sample == 0 {
		o.Sample = DefaultSample
	}
	if o.PerPhoto <= 0 {
		o.PerPhoto = DefaultPerPhoto
	}
	if o.Sample < MinSample {
		return nil, fmt.Errorf("%w: a sample of %d photos; at least %d", ErrTooFew, o.Sample, MinSample)
	}
	sample := min(o.Sample, n)
	rng := rand.New(rand.NewPCG(o.Seed, 0x63616c6962))
	order := rng.Perm(n)
	all := copies.Edits()
	editOrder := rng.Perm(len(all))
	tmp, err := os.MkdirTemp(o.TempDir, "embedsearch-calibrate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	photos, err := embedSample(ctx, r, enc, o, order, sample, func(c int) []copies.Edit {
		es := make([]copies.Edit, o.PerPhoto)
		for j := range es {
			es[j] = all[editOrder[(c*o.PerPhoto+j)%len(all)]]
		}
		return es
	}, tmp)
	if err != nil {
		return nil, err
	}
	if len(photos) < MinSample {
		return nil, fmt.Errorf("%w: only %d of the store's photos could be read and copied; at least %d", ErrTooFew, len(photos), MinSample)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	cal := measure(ctx, r, photos, o.Dedup)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := r.Model()
	cal.ModelID, cal.Digest, cal.Date, cal.Seed = b.ModelID, b.Digest, now().UTC().Truncate(time.Second), o.Seed
	used := map[string]bool{}
	for _, p := range photos {
		for _, e := range p.edits {
			used[e.Name] = true
		}
	}
	for _, e := range all {
		if used[e.Name] {
			cal.Edits = append(cal.Edits, e.Name)
		}
	}
	cal.Version = Version
	if err := cal.check(); err != nil {
		return nil, fmt.Errorf("calibrate: no presets from %d photos and %d copies: %w", cal.Photos, cal.Copies, err)
	}
	return cal, nil
}

// embedSample reads the candidates in order, makes the copies of each one
// that decodes (until sample of them did) and embeds them with their
// originals, in one pipeline: copies are made on every core while enc
// embeds. The photos it returns have their original's vector.
func embedSample(ctx context.Context, r *store.Reader, enc *infer.Encoder, o Options, order []int, sample int,
	editsFor func(c int) []copies.Edit, tmp string) ([]*photo, error) {
	total := sample * (o.PerPhoto + 1)
	paths := make(chan string)
	var mu sync.Mutex
	where := map[string][2]int{} // path -> photo slot, index in paths
	var photos []*photo
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(paths)
		var made errgroup.Group
		made.SetLimit(runtime.GOMAXPROCS(0))
		var ok, busy int
		cond := sync.NewCond(&mu)
		for c := 0; c < len(order); c++ {
			mu.Lock()
			for ok+busy >= sample && busy > 0 {
				cond.Wait()
			}
			done := ok >= sample
			if !done {
				busy++
			}
			mu.Unlock()
			if done || gctx.Err() != nil {
				break
			}
			p := &photo{c: c, id: order[c], edits: editsFor(c)}
			made.Go(func() error {
				err := makeCopies(gctx, r.Path(p.id), p, enc.MaxFileSize(), o, filepath.Join(tmp, fmt.Sprint(c)))
				mu.Lock()
				busy--
				if err == nil {
					ok++
					slot := len(photos)
					photos = append(photos, p)
					for i, path := range p.paths {
						where[path] = [2]int{slot, i}
					}
				}
				cond.Broadcast()
				mu.Unlock()
				if err != nil {
					return nil // an unreadable photo: the next candidate stands in
				}
				for _, path := range p.paths {
					select {
					case paths <- path:
					case <-gctx.Done():
						return gctx.Err()
					}
				}
				return nil
			})
		}
		return made.Wait()
	})
	done := 0
	g.Go(func() error {
		return enc.EmbedWith(gctx, paths, infer.EmbedOptions{Signatures: true, NoSHA256: true}, func(it infer.Item) error {
			done++
			if o.Progress != nil {
				o.Progress(done, total)
			}
			if it.Err != nil {
				return nil
			}
			mu.Lock()
			w := where[it.Path]
			p := photos[w[0]]
			mu.Unlock()
			p.vecs[w[1]], p.sigs[w[1]] = it.Vector, it.Info.Signature
			return nil
		})
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	kept := photos[:0]
	for _, p := range photos {
		if p.vecs[0] != nil {
			kept = append(kept, p)
		}
	}
	slices.SortFunc(kept, func(a, b *photo) int { return a.c - b.c })
	return kept, nil
}

// makeCopies decodes the photo at path and writes its copies as
// prefix-<edit><ext>, filling p.paths (the original first).
func makeCopies(ctx context.Context, path string, p *photo, maxSize int64, o Options, prefix string) error {
	data, _, err := inputfile.ReadAll(ctx, path, inputfile.Options{FollowLinks: true, MaxSize: maxSize})
	if err != nil {
		return err
	}
	img, _, err := preprocess.Decode(data, o.Limits)
	if err != nil {
		return err
	}
	if b := img.Bounds(); max(b.Dx(), b.Dy()) > maxSide {
		img = copies.Apply(img, copies.Edit{Op: copies.Resize, Amount: float64(maxSide) / float64(max(b.Dx(), b.Dy()))})
	}
	short := min(img.Bounds().Dx(), img.Bounds().Dy())
	p.paths = []string{path}
	p.exact = make([]bool, len(p.edits))
	for i, e := range p.edits {
		p.exact[i] = exactKind(e, short, o.InputSide)
		if err := ctx.Err(); err != nil {
			return err
		}
		b, ext, err := copies.Make(img, e)
		if err != nil {
			return err
		}
		cp := prefix + "-" + e.Name + ext
		if err := os.WriteFile(cp, b, 0o600); err != nil {
			return err
		}
		p.paths = append(p.paths, cp)
	}
	p.vecs = make([][]float32, len(p.paths))
	p.sigs = make([][]byte, len(p.paths))
	return nil
}

// exactKind reports whether e makes the same picture of a photo whose
// short side is short (a re-encode at a fair quality, an EXIF rotation, a
// resize that leaves the model at least input pixels on the short side):
// what the exact preset must take for a duplicate.
func exactKind(e copies.Edit, short, input int) bool {
	switch e.Op {
	case copies.Reencode:
		return e.Format == copies.PNG || e.Quality == 0 || e.Quality >= 50
	case copies.Resize:
		return float64(short)*e.Amount >= float64(input)
	case copies.Orient:
		return true
	}
	return false
}

// measure takes the distances and chooses the presets.
func measure(ctx context.Context, r *store.Reader, photos []*photo, d models.Dedup) *Calibration {
	var exactCopies, all []float32
	cal := &Calibration{Photos: len(photos)}
	for _, p := range photos {
		for i := range p.edits {
			if v := p.vecs[i+1]; v != nil {
				dd := unitDist(p.vecs[0], v)
				all = append(all, dd)
				cal.Copies++
				if p.exact[i] {
					exactCopies = append(exactCopies, dd)
				}
			}
		}
	}
	// The nearest other photos of the store: beyond the exact quantile
	// they are distinct photos, within it real duplicates.
	exact := Percentile(exactCopies, ExactQuantile)
	m := search.Matrix{Data: r.Vectors(), Dim: r.Dim()}
	qs := search.Matrix{Dim: r.Dim()}
	for _, p := range photos {
		qs.Data = append(qs.Data, m.Row(p.id)...)
	}
	k := max(d.K, 1) + 1
	nbs := search.ExactBatch(m, qs, k, search.Options{})
	var distinct []float32
	kth := make([]float32, len(photos)) // 0: fewer than K others
	for i, p := range photos {
		dup, first, others := false, true, 0
		for _, nb := range nbs[i] {
			if nb.ID == p.id {
				continue
			}
			if nb.Dist <= exact {
				dup = true
			} else if first {
				distinct = append(distinct, nb.Dist)
				first = false
			}
			if others++; others == d.K {
				kth[i] = nb.Dist
			}
		}
		if dup {
			cal.Duplicates++
		}
	}
	cal.Thresholds = Thresholds(exactCopies, all, distinct, true)
	cal.CopyDist, cal.ExactDist, cal.Distinct = Summarize(all), Summarize(exactCopies), Summarize(distinct)
	cal.DistinctWithinNear = Below(distinct, float32(cal.Thresholds.Near))
	if d.K > 0 && ctx.Err() == nil {
		cal.NearFound = nearFound(photos, kth, cal.Thresholds, d)
	}
	return cal
}

// nearFound is the share of the copies the near test accepts against their
// original, each copy's neighbourhood taken as its original's: the K-th
// neighbour's distance capped at the radius dedup's neighbour search has
// (collection's pairing).
func nearFound(photos []*photo, kth []float32, t models.Thresholds, d models.Dedup) float64 {
	radius := float32(t.Near)
	if d.Score > 0 {
		radius = max(radius, float32(t.Near/d.Score))
	}
	radius = min(radius, 2)
	found, total := 0, 0
	for i, p := range photos {
		nk := radius
		if kth[i] > 0 {
			nk = min(kth[i], radius)
		}
		var orig *signature.Prepared
		for j := 1; j < len(p.vecs); j++ {
			if p.vecs[j] == nil {
				continue
			}
			total++
			dd := float64(unitDist(p.vecs[0], p.vecs[j]))
			switch {
			case dd <= t.Exact:
				found++
				continue
			case dd > t.Near:
				continue
			}
			score := dd / float64(nk)
			if p.sigs[0] == nil || p.sigs[j] == nil {
				if score <= d.ScoreVectors {
					found++
				}
				continue
			}
			if score > d.Score {
				continue
			}
			if orig == nil {
				orig = prepared(p.sigs[0])
			}
			cp := prepared(p.sigs[j])
			if orig == nil || cp == nil {
				continue
			}
			if PixelsAgree(d, signature.Compare(orig, cp)) {
				found++
			}
		}
	}
	return float64(found) / float64(max(1, total))
}

func prepared(b []byte) *signature.Prepared {
	var s signature.Signature
	if s.UnmarshalBinary(b) != nil {
		return nil
	}
	return signature.Prepare(&s)
}
