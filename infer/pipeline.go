package infer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/inputfile"
)

// Item is the result for one input path.
type Item struct {
	Index  int    // position in the input stream
	Path   string // as received
	Size   int64  // bytes read
	SHA256 string // of the file bytes (hex)
	// Vector is L2-normalised; nil when Err != nil.
	Vector []float32
	Info   preprocess.Info
	// Known: EmbedOptions.Known knew the file's content, so it was neither
	// decoded nor embedded (no Vector, no Info).
	Known bool
	// Err is this file's failure (read, decode, preprocess). It never stops
	// the stream.
	Err error
}

// EmbedOptions tune one EmbedWith call.
type EmbedOptions struct {
	// NoFollowLinks refuses a path that is a symbolic link
	// (inputfile.ErrNotRegular), as a walk that does not follow links must.
	NoFollowLinks bool
	// MaxFileSize, when positive and below the Encoder's own limit,
	// refuses larger files before reading them.
	MaxFileSize int64
	// NoSHA256 leaves Item.SHA256 empty, for a caller that does not use
	// it: hashing a 4 MB photo costs about 3 ms of CPU. Ignored with Known.
	NoSHA256 bool
	// Known, when set, is asked with each file's SHA-256 (hex) right after
	// the file is read, from the decoding goroutines at once: for content
	// it knows, the Item comes back with Known set and the file is not
	// decoded. So a caller that reuses vectors by content (index) reads
	// and hashes each file once, in parallel.
	Known func(sha256 string) bool
	// Signatures also computes each image's dedup signature
	// (Item.Info.Signature, preprocess.Preparer.BytesSigned).
	// SignatureOnly computes only that: files are decoded and signed, not
	// embedded (no Vector, no error), for a store that has their vectors.
	Signatures, SignatureOnly bool
}

// job is one path on its way through the pipeline. A prepare goroutine
// fills it and closes done; the batcher reads it only after done.
type job struct {
	item   Item
	tensor []float32 // nil when item.Err != nil
	done   chan struct{}
}

// Embed reads paths until the channel is closed, decodes and prepares them
// in parallel (Workers goroutines), runs them through the model in batches
// and calls emit for every path, in input order, from a single goroutine.
// Per-file failures are reported in Item.Err and do not stop the stream. An
// error returned by emit, an inference failure or the cancellation of ctx
// stops Embed promptly; it then returns that error and reads no more paths
// (a sender should select on ctx as well).
//
// Memory is bounded: at most Workers files are held in memory at once, and
// at most about two batches plus Workers prepared tensors wait for inference.
func (e *Encoder) Embed(ctx context.Context, paths <-chan string, emit func(Item) error) error {
	return e.EmbedWith(ctx, paths, EmbedOptions{}, emit)
}

// EmbedWith is Embed with options.
func (e *Encoder) EmbedWith(ctx context.Context, paths <-chan string, o EmbedOptions, emit func(Item) error) error {
	files := e.files
	if o.NoFollowLinks {
		files.FollowLinks = false
	}
	if o.MaxFileSize > 0 && o.MaxFileSize < files.MaxSize {
		files.MaxSize = o.MaxFileSize
	}
	window := 2*e.batch + e.workers
	queue := make(chan *job, window) // prepared or in preparation, in input order
	tensors := sync.Pool{New: func() any { return make([]float32, e.tlen) }}
	// File buffers, reused from one file to the next.
	reads := sync.Pool{New: func() any { return new([]byte) }}
	var received atomic.Int64 // paths taken from the input so far

	g, ctx := errgroup.WithContext(ctx)

	// Stage 1: take paths in order, start a prepare goroutine for each (at
	// most Workers at once) and queue its job in input order. The queue's
	// capacity is the in-flight window: a full queue stops reading input.
	g.Go(func() error {
		defer close(queue)
		var workers errgroup.Group
		workers.SetLimit(e.workers)
		defer workers.Wait()
		for index := 0; ; index++ {
			var path string
			var ok bool
			select {
			case path, ok = <-paths:
				if !ok {
					return nil
				}
			case <-ctx.Done():
				return ctx.Err()
			}
			received.Add(1)
			j := &job{item: Item{Index: index, Path: path}, done: make(chan struct{})}
			workers.Go(func() error {
				defer close(j.done)
				if ctx.Err() != nil {
					j.item.Err = ctx.Err()
					return nil
				}
				t := tensors.Get().([]float32)
				buf := reads.Get().(*[]byte)
				if e.prepare(ctx, &j.item, t, files, o, buf) {
					j.tensor = t
				} else {
					tensors.Put(t)
				}
				if cap(*buf) <= maxPooledRead {
					reads.Put(buf)
				}
				return nil
			})
			select {
			case queue <- j:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})

	// Stage 2: take jobs in order, wait until each is prepared, gather up
	// to Batch ready tensors, run them and emit every item in order.
	g.Go(func() error {
		var pending []*job // in input order, failed ones included
		buf := make([]float32, e.batch*e.tlen)
		ready := 0
		var ran []*job // the pending jobs with a tensor, in order
		flush := func() error {
			if ready > 0 {
				ran = ran[:0]
				for _, j := range pending {
					if j.tensor != nil {
						copy(buf[len(ran)*e.tlen:], j.tensor)
						tensors.Put(j.tensor)
						j.tensor = nil
						ran = append(ran, j)
					}
				}
				vecs, err := e.RunTensors(buf, len(ran))
				if err != nil {
					return err
				}
				for n, j := range ran {
					if j.item.Vector = vecs[n]; j.item.Vector == nil {
						j.item.Err = ErrNoVector
					}
				}
			}
			for _, j := range pending {
				if err := emit(j.item); err != nil {
					return err
				}
			}
			pending, ready = pending[:0], 0
			return nil
		}
		consumed := int64(0)
		for {
			// Run a partial batch only when the input itself is slow: no path
			// is between the input and this loop.
			if len(pending) > 0 && consumed == received.Load() && len(queue) == 0 {
				if err := flush(); err != nil {
					return err
				}
			}
			var j *job
			var ok bool
			select {
			case j, ok = <-queue:
			case <-ctx.Done():
				return ctx.Err()
			}
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return flush()
			}
			consumed++
			select {
			case <-j.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			pending = append(pending, j)
			if j.tensor != nil {
				ready++
			}
			if ready == e.batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	})
	return g.Wait()
}

// maxPooledRead is the largest file buffer kept for the next file: a
// camera's photos fit, a rare huge TIFF is not held on to.
const maxPooledRead = 64 << 20

// prepare reads the file once (size, SHA-256 unless o.NoSHA256) into
// *buf's storage (growing it) and writes its tensor into t, unless o.Known
// knows the content. Nothing keeps the file's bytes after it returns. It
// reports whether t holds a tensor; otherwise it.Err says why not, or
// it.Known is set. Reading stops when ctx is cancelled; decoding one image
// is bounded by the pixel cap, so ctx is looked at again only before it.
func (e *Encoder) prepare(ctx context.Context, it *Item, t []float32, files inputfile.Options, o EmbedOptions, buf *[]byte) bool {
	data, fi, err := inputfile.ReadAllInto(ctx, it.Path, files, *buf)
	if data != nil {
		*buf = data
	}
	if err != nil {
		if errors.Is(err, inputfile.ErrTooLarge) && files.MaxSize == e.pixelBound {
			err = fmt.Errorf("%w: %w, the most an image of %g megapixels can take", preprocess.ErrTooLarge, err, float64(e.maxPixels)/1e6)
		}
		it.Err = err
		return false
	}
	it.Size = fi.Size()
	if !o.NoSHA256 || o.Known != nil {
		it.SHA256 = inputfile.SHA256Bytes(data)
	}
	if o.Known != nil && o.Known(it.SHA256) {
		it.Known = true
		return false
	}
	if err := ctx.Err(); err != nil {
		it.Err = err
		return false
	}
	switch {
	case o.SignatureOnly:
		it.Info, err = e.prep.BytesSigned(data, nil)
		it.Err = err
		return false
	case o.Signatures:
		it.Info, err = e.prep.BytesSigned(data, t)
	default:
		it.Info, err = e.prep.Bytes(data, t)
	}
	if err != nil {
		it.Err = err
		return false
	}
	return true
}
