package tune

import (
	"context"
	"sort"

	"github.com/embedsearch/embedsearch/search"
)

// Result is what Tune found.
type Result struct {
	Head *Head
	// Images on each side: trained on, set aside for early stopping,
	// held out and reported on (never seen by training or stopping).
	Train, Stop, Validate int
	// Before and After score the held-out images with the base vectors
	// and with the head's.
	Before, After Metrics
	Epochs        []Epoch
	// Scale is the ratio of the median nearest-neighbour distance of the
	// training images after to before; Near the tuned model's
	// near-duplicate distance: the best-F1 threshold on the training
	// images' copies when they have some (NearFromCopies), else the base
	// Preset times Scale.
	Scale          float64
	Near           float64
	NearFromCopies bool
}

// Tune splits d (Options.Split, Holdout), sets a part of the training side
// aside for early stopping, scores the held-out images with the base
// vectors, trains a head and scores them again.
func Tune(ctx context.Context, d *Data, o Options) (*Result, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	kept, held, err := Split(d, o.Split, o.Holdout, o.Seed)
	if err != nil {
		return nil, err
	}
	train := d.Subset(kept)
	fitIdx, stopIdx, err := Split(train, o.Split, o.StopFraction, o.Seed+1)
	if err != nil {
		return nil, err
	}
	fit, stop, val := train.Subset(fitIdx), train.Subset(stopIdx), d.Subset(held)
	res := &Result{Train: fit.Len(), Stop: stop.Len(), Validate: val.Len()}
	if res.Before, err = Evaluate(ctx, val.X, val.Dim, val, o.Preset, o.Workers); err != nil {
		return nil, err
	}
	h, epochs, err := Train(ctx, fit, stop, o)
	if err != nil {
		return nil, err
	}
	res.Head, res.Epochs = h, epochs
	fitAfter := h.ApplyAll(fit.X, o.Workers)
	before, after := medianNN(fit.X, fit.Dim, o.Workers), medianNN(fitAfter, h.Out, o.Workers)
	res.Scale = 1
	if before > 0 && after > 0 {
		res.Scale = after / before
	}
	res.Near = o.Preset * res.Scale
	if m, err := Evaluate(ctx, fitAfter, h.Out, fit, o.Preset, o.Workers); err != nil {
		return nil, err
	} else if m.Copies > 0 && m.BestThreshold > 0 {
		res.Near, res.NearFromCopies = m.BestThreshold, true
	}
	if res.After, err = Evaluate(ctx, h.ApplyAll(val.X, o.Workers), h.Out, val, res.Near, o.Workers); err != nil {
		return nil, err
	}
	return res, nil
}

// medianNN is the median distance from a row to its nearest other row,
// over at most 2,000 rows spread evenly (all rows cost n² products).
func medianNN(x []float32, dim, workers int) float64 {
	m := search.Matrix{Data: x, Dim: dim}
	step := max(1, m.Len()/2000)
	var qs []float32
	var ids []int
	for i := 0; i < m.Len(); i += step {
		qs = append(qs, m.Row(i)...)
		ids = append(ids, i)
	}
	if len(ids) == 0 {
		return 0
	}
	res := search.ExactBatch(m, search.Matrix{Data: qs, Dim: dim}, 2, search.Options{Workers: workers})
	var ds []float64
	for q, nb := range res {
		for _, n := range nb {
			if n.ID != ids[q] {
				ds = append(ds, float64(n.Dist))
				break
			}
		}
	}
	if len(ds) == 0 {
		return 0
	}
	sort.Float64s(ds)
	return ds[len(ds)/2]
}
