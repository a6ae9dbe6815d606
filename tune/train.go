package tune

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Mining searches.
const (
	SearchExact = "exact" // all pairs, exact
	SearchHNSW  = "hnsw"  // the approximate graph
	// ExactLimit is the largest training set Options.Search "" mines
	// exactly; above it the graph search is used.
	ExactLimit = 100_000
)

// Options configure Train and Tune. Zero values take the defaults.
type Options struct {
	Loss   string  // LossContrastive, LossTriplet (default) or LossNTXent
	Margin float64 // 0: DefaultMargin(Loss)
	Head   string  // HeadLinear (default) or HeadMLP
	Dim    int     // output dimension; 0: the base model's
	Hidden int     // hidden units of an MLP head; 0: the base model's dimension
	Epochs int     // at most this many passes; default 30
	// Patience stops training after this many epochs without a better
	// early-stopping score; default 5.
	Patience     int
	Batch        int     // anchors per optimiser step; default 128
	LearningRate float64 // Adam's step size; default 0.002
	Seed         uint64
	// Mine is how many nearest neighbours of each anchor, under the
	// current head, are searched for negatives each epoch; default 32.
	Mine   int
	Search string // SearchExact, SearchHNSW, or "": exact up to ExactLimit images
	// Split, Holdout: how the images are divided into those trained on and
	// those reported on (SplitImages, default; Holdout default 0.2). A
	// further StopFraction (default 0.1) of the training side is set aside
	// for early stopping.
	Split        string
	Holdout      float64
	StopFraction float64
	// Preset is the base model's near-duplicate distance (the pairwise
	// F1 is also reported at it, and the tuned model's is derived from it).
	Preset  float64
	Workers int
	// Progress, when set, is called after each epoch.
	Progress func(Epoch)
}

func (o Options) withDefaults() Options {
	if o.Loss == "" {
		o.Loss = LossTriplet
	}
	if o.Margin == 0 {
		o.Margin = DefaultMargin(o.Loss)
	}
	if o.Head == "" {
		o.Head = HeadLinear
	}
	if o.Epochs == 0 {
		o.Epochs = 30
	}
	if o.Patience == 0 {
		o.Patience = 5
	}
	if o.Batch == 0 {
		o.Batch = 128
	}
	if o.LearningRate == 0 {
		o.LearningRate = 0.002
	}
	if o.Mine == 0 {
		o.Mine = 32
	}
	if o.Split == "" {
		o.Split = SplitImages
	}
	if o.Holdout == 0 {
		o.Holdout = 0.2
	}
	if o.StopFraction == 0 {
		o.StopFraction = 0.1
	}
	return o
}

// Check reports an option out of range (ErrOptions), defaults applied.
func (o Options) Check() error { return o.withDefaults().check() }

func (o Options) check() error {
	if err := checkLoss(o.Loss); err != nil {
		return err
	}
	if err := checkSplit(o.Split); err != nil {
		return err
	}
	switch o.Head {
	case HeadLinear, HeadMLP:
	default:
		return fmt.Errorf("%w: head %q (want linear or mlp)", ErrOptions, o.Head)
	}
	switch o.Search {
	case "", SearchExact, SearchHNSW:
	default:
		return fmt.Errorf("%w: search %q (want exact or hnsw)", ErrOptions, o.Search)
	}
	if o.Margin < 0 || o.Epochs < 0 || o.Batch < 0 || o.LearningRate < 0 || o.Mine < 0 || o.Patience < 0 {
		return fmt.Errorf("%w: margin, epochs, batch, learning rate, mine and patience must not be negative", ErrOptions)
	}
	return nil
}

// Epoch is one pass over the training images, as Progress sees it.
type Epoch struct {
	Epoch, Epochs int
	Loss          float64 // mean loss over the epoch's batches
	Active        float64 // share of tuples with a non-zero loss (triplet, contrastive)
	Stop          Metrics // on the early-stopping images, after the epoch
	Best          bool    // the best score so far (this head is kept)
	Elapsed       time.Duration
}

// Train fits a head on fit, stopping early on stop (scored by
// Metrics.Score), and returns the best head seen (the identity when no
// epoch beat it) with the epochs run.
func Train(ctx context.Context, fit, stop *Data, o Options) (*Head, []Epoch, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	h, err := NewHead(o.Head, fit.Dim, o.Dim, o.Hidden, o.Seed)
	if err != nil {
		return nil, nil, err
	}
	byLabel := map[int][]int{}
	for i, l := range fit.Label {
		byLabel[l] = append(byLabel[l], i)
	}
	var anchors []int
	for i, l := range fit.Label {
		if len(byLabel[l]) >= 2 {
			anchors = append(anchors, i)
		}
	}
	if len(anchors) == 0 || len(byLabel) < 2 {
		return nil, nil, fmt.Errorf("%w: no label has two images on the training side (%d images, %d labels)", ErrTooFew, fit.Len(), len(byLabel))
	}
	score := func(h *Head) (Metrics, error) {
		return Evaluate(ctx, h.ApplyAll(stop.X, o.Workers), h.Out, stop, o.Preset, o.Workers)
	}
	m0, err := score(h)
	if err != nil {
		return nil, nil, err
	}
	best, bestHead, since := m0.Score(stop.Classes), h.Clone(), 0
	r := rand.New(rand.NewPCG(o.Seed, 0x74756e65))
	opt := newAdam(len(h.P), o.LearningRate)
	grad := make([]float64, len(h.P))
	parts := make([][]float64, gradChunks)
	var epochs []Epoch
	for ep := 1; ep <= o.Epochs; ep++ {
		start := time.Now()
		u := h.ApplyAll(fit.X, o.Workers)
		nb, err := mine(ctx, u, h.Out, o.Mine, o.Search, o.Workers)
		if err != nil {
			return nil, nil, err
		}
		ts := tuples(r, fit, u, h.Out, nb, anchors, byLabel)
		var sum, active float64
		batches := 0
		for lo := 0; lo < len(ts); lo += o.Batch {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			part := ts[lo:min(lo+o.Batch, len(ts))]
			l := batchGradInto(h, fit.X, fit.Label, part, o.Loss, o.Margin, o.Workers, grad, parts)
			opt.step(h.P, grad)
			sum += l
			batches++
			for _, t := range part {
				if activeTuple(o.Loss, o.Margin, u, h.Out, t) {
					active++
				}
			}
		}
		m, err := score(h)
		if err != nil {
			return nil, nil, err
		}
		e := Epoch{Epoch: ep, Epochs: o.Epochs, Loss: sum / float64(batches), Active: active / float64(len(ts)), Stop: m}
		if s := m.Score(stop.Classes); s > best {
			best, bestHead, since, e.Best = s, h.Clone(), 0, true
		} else {
			since++
		}
		e.Elapsed = time.Since(start)
		epochs = append(epochs, e)
		if o.Progress != nil {
			o.Progress(e)
		}
		if since >= o.Patience {
			break
		}
	}
	return bestHead, epochs, nil
}
