package tune

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/internal/atomicfile"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// Files of a tuned model's folder besides models.ManifestName.
const (
	HeadFile   = "head.onnx"
	RecordFile = "training.json"
)

// Record is the training record kept beside a tuned model (RecordFile).
type Record struct {
	Base     string    `json:"base"`   // the base model's id
	Labels   string    `json:"labels"` // where the labels came from
	Created  time.Time `json:"created"`
	Loss     string    `json:"loss"`
	Margin   float64   `json:"margin"`
	Head     string    `json:"head"`
	Dim      int       `json:"dim"`
	Seed     uint64    `json:"seed"`
	Split    string    `json:"split"`
	Holdout  float64   `json:"holdout"`
	Train    int       `json:"train_images"`
	Stop     int       `json:"stop_images"`
	Validate int       `json:"validate_images"`
	Epochs   []struct {
		Loss float64 `json:"loss"`
		Stop Metrics `json:"stop"`
		Best bool    `json:"best,omitempty"`
	} `json:"epochs"`
	Before         Metrics `json:"before"`
	After          Metrics `json:"after"`
	Near           float64 `json:"near"`
	NearFromCopies bool    `json:"near_from_copies"`
}

// NewRecord fills a Record from the options and result of a Tune run.
func NewRecord(base *models.Model, labels string, o Options, res *Result) Record {
	o = o.withDefaults()
	r := Record{Base: base.Manifest.ID, Labels: labels, Created: time.Now().UTC(), Loss: o.Loss, Margin: o.Margin,
		Head: o.Head, Dim: res.Head.Out, Seed: o.Seed, Split: o.Split, Holdout: o.Holdout, Train: res.Train,
		Stop: res.Stop, Validate: res.Validate, Before: res.Before, After: res.After, Near: res.Near,
		NearFromCopies: res.NearFromCopies}
	for _, e := range res.Epochs {
		r.Epochs = append(r.Epochs, struct {
			Loss float64 `json:"loss"`
			Stop Metrics `json:"stop"`
			Best bool    `json:"best,omitempty"`
		}{e.Loss, e.Stop, e.Best})
	}
	return r
}

// WriteModel writes a tuned model folder at dir (which must not exist or
// be empty): the head as HeadFile, the record, and a manifest chaining
// base (named by id and digest; baseSource is the folder it was opened
// from, "" for a registered model) and the head. Its thresholds are the
// base's scaled to the head's distances, near set to res.Near; its id is
// the base's with "-tuned-" and the head's digest. It returns the manifest.
func WriteModel(dir string, base *models.Model, baseSource string, res *Result, rec Record, producer string) (*models.Manifest, error) {
	bm := base.Manifest
	if bm.Head != nil {
		return nil, fmt.Errorf("%w (%s): tune the store of its base model %s", ErrChained, bm.ID, bm.Head.Base.ID)
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrOutExists, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	onnx := res.Head.ONNX(producer)
	sum := sha256.Sum256(onnx)
	digest := hex.EncodeToString(sum[:])
	t := bm.Thresholds
	th := models.Thresholds{Exact: t.Exact * res.Scale, Near: res.Near, Similar: max(t.Similar*res.Scale, res.Near)}
	th.Exact = min(th.Exact, th.Near)
	man := &models.Manifest{
		Format:      models.ManifestFormat,
		ID:          bm.ID + "-tuned-" + digest[:12],
		Description: fmt.Sprintf("%s with a %s head tuned by embedsearch tune on %s (%s loss)", bm.ID, rec.Head, rec.Labels, rec.Loss),
		License:     bm.License,
		Dim:         res.Head.Out,
		Normalized:  true,
		Files:       []models.File{{Name: HeadFile, Size: int64(len(onnx)), SHA256: digest}},
		Image:       bm.Image,
		Preprocess:  bm.Preprocess,
		Thresholds:  th,
		Dedup:       bm.Dedup,
		Training:    &models.TrainingID{Recipe: "embedsearch tune (" + RecordFile + ")", Run: digest[:12]},
		Head: &models.Head{File: HeadFile, Input: HeadInput, Output: HeadOutput, InputDim: res.Head.In,
			Base: models.Base{ID: bm.ID, SHA256: base.Digest(), Source: baseSource}},
	}
	if err := man.Validate(); err != nil {
		return nil, err
	}
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	recJSON, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	// The manifest last: a folder without one is not a model.
	for _, f := range []struct {
		name string
		data []byte
	}{{HeadFile, onnx}, {RecordFile, append(recJSON, '\n')}, {models.ManifestName, append(manJSON, '\n')}} {
		if err := atomicfile.Write(dir, f.name, func(w io.Writer) (int64, error) {
			return io.Copy(w, bytes.NewReader(f.data))
		}); err != nil {
			return nil, err
		}
	}
	return man, nil
}

// Reproject writes the store at dst (new, or empty) with the vectors of the
// store src mapped through head, for the tuned model m (opened from the
// folder source), without decoding an image: entries, signatures and
// roots are copied. src must hold the vectors of m's base model. It
// returns the number of entries written.
func Reproject(ctx context.Context, src *store.Reader, dst string, m *models.Model, source string, head *Head) (int, error) {
	base := m.Base()
	if base == nil {
		return 0, fmt.Errorf("%w: %s is not a tuned model", ErrOptions, m.Manifest.ID)
	}
	if got := index.Binding(base); got != src.Model() {
		return 0, fmt.Errorf("%w: the store %s holds %s", store.ErrModelMismatch, src.Dir(), src.Model().Mismatch(got))
	}
	if head.In != src.Dim() || head.Out != m.Manifest.Dim {
		return 0, fmt.Errorf("%w: head %d→%d for a %d-dimensional store and a %d-dimensional model", ErrOptions, head.In, head.Out, src.Dim(), m.Manifest.Dim)
	}
	if abs, err := filepath.Abs(dst); err == nil && abs == src.Dir() {
		return 0, fmt.Errorf("%w: the new store must be another folder than %s", ErrOutExists, src.Dir())
	}
	w, err := store.OpenWriter(dst, index.Binding(m), store.WriterOptions{})
	if err != nil {
		return 0, err
	}
	defer w.Close()
	if w.Len() > 0 {
		return 0, fmt.Errorf("%w: the store %s already holds %d entries", ErrOutExists, dst, w.Len())
	}
	out := make([]float32, head.Out)
	for id := range src.Len() {
		if id%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		e := src.Entry(id)
		if sig := src.Signature(id); sig != nil {
			e.Signature = append([]byte(nil), sig...)
		}
		if err := w.Put(e, head.Apply(src.Vector(id), out)); err != nil {
			return 0, err
		}
	}
	w.AddRoots(src.Roots()...)
	w.SetModelSource(source)
	w.SetRunStats(src.LastIndexed(), src.Failed())
	if err := w.Compact(); err != nil {
		return 0, err
	}
	return src.Len(), w.Close()
}
