package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// DefaultANNThreshold is the store size (entries) from which an index run
// keeps an approximate (HNSW) index and query uses it. Below it exact
// search answers in a few tens of milliseconds (it streams the vectors at
// memory speed: 100,000 × 512 is 200 MB), so the graph's build cost and
// recall loss buy nothing.
const DefaultANNThreshold = 100_000

// DefaultANNMaxDropped is the fraction of nodes an incremental update may
// have dropped (deleted or changed entries, summed since the last full
// build) before the graph is rebuilt from scratch: a dropped node's links
// are cut, not repaired.
const DefaultANNMaxDropped = 0.1

// ANNParams are the HNSW parameters of a store's approximate index (the
// ones bench/search compares with FAISS; query searches with ef ≥ 200:
// recall@10 1.000 against exact on bench/annquery's clustered sets).
var ANNParams = search.HNSWOptions{M: 16, EfConstruction: 100}

// ANNOptions tune UpdateANN.
type ANNOptions struct {
	// Threshold: stores with fewer entries have no ANN file (0 means
	// DefaultANNThreshold).
	Threshold int
	// MaxDropped: see DefaultANNMaxDropped (0 means the default).
	MaxDropped float64
	// Progress, when set, is called with nodes inserted so far and to do.
	Progress func(done, total int)
}

// ANN actions reported in ANNStats.Action.
const (
	ANNNone    = "none"    // below the threshold and no file
	ANNRemoved = "removed" // below the threshold: the file was deleted
	ANNKept    = "kept"    // the file already matched the store
	ANNUpdated = "updated" // old graph renumbered, dropped and new nodes applied
	ANNBuilt   = "built"   // built from scratch
)

// ANNStats say what UpdateANN did.
type ANNStats struct {
	Action          string
	Nodes           int // nodes in the index written
	Added, Dropped  int // for ANNUpdated: nodes inserted and cut
	Elapsed         time.Duration
	Reason          string // why a full build happened instead of an update
	PreviousProblem error  // a damaged or unreadable previous file (rebuilt)
}

// ANNUpdater carries the approximate index of a store across a run that
// changes it: PrepareANN before the changes captures the graph and the
// snapshot its ids refer to, Update after the final commit renumbers it
// for the new ids (ids are rows in path order), cuts deleted and changed
// entries out, and inserts new ones, or rebuilds it when that would
// degrade it too much. Not safe for concurrent use.
type ANNUpdater struct {
	old     *search.HNSW
	oldInfo store.ANNInfo
	oldR    *store.Reader // the snapshot old's ids refer to
	problem error
}

// PrepareANN loads the store's ANN file if it matches w's committed
// state. It costs one read of the file (a graph, not vectors). Call Close
// when done.
func PrepareANN(w *store.Writer) *ANNUpdater {
	u := &ANNUpdater{}
	var ix *search.HNSW
	info, err := w.ReadANN(func(r io.Reader) error {
		var err error
		ix, err = search.ReadHNSW(r)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNoANN) || errors.Is(err, store.ErrANNStale):
		return u
	case err != nil:
		u.problem = err
		return u
	}
	if ix.Dim() != w.Model().Dim {
		u.problem = fmt.Errorf("%s: dimension %d, store %d", store.ANNFile, ix.Dim(), w.Model().Dim)
		return u
	}
	r, err := store.Open(w.Dir())
	if err != nil || r.ContentGen() != w.ContentGen() || r.Len() != info.Count {
		if r != nil {
			r.Close()
		}
		return u
	}
	u.old, u.oldInfo, u.oldR = ix, info, r
	return u
}

// Close releases the old snapshot.
func (u *ANNUpdater) Close() {
	if u.oldR != nil {
		u.oldR.Close()
		u.oldR = nil
	}
}

// Update brings the store's ANN file in step with w's last commit (commit
// first: it refuses pending changes). It writes the file atomically, so a
// crash or cancellation leaves the previous file (stale, hence ignored by
// readers) or none, never a half-written one.
func (u *ANNUpdater) Update(ctx context.Context, w *store.Writer, o ANNOptions) (ANNStats, error) {
	start := time.Now()
	st := ANNStats{PreviousProblem: u.problem}
	if o.Threshold <= 0 {
		o.Threshold = DefaultANNThreshold
	}
	if o.MaxDropped <= 0 {
		o.MaxDropped = DefaultANNMaxDropped
	}
	if w.Pending() > 0 {
		return st, fmt.Errorf("approximate index: %d uncommitted changes", w.Pending())
	}
	r, err := store.Open(w.Dir())
	if err != nil {
		return st, fmt.Errorf("approximate index: %w", err)
	}
	defer r.Close()
	if r.ContentGen() != w.ContentGen() {
		return st, fmt.Errorf("approximate index: store changed while the writer held it")
	}
	n := r.Len()
	if n < o.Threshold {
		st.Action = ANNNone
		if _, err := w.ReadANN(func(io.Reader) error { return nil }); !errors.Is(err, store.ErrNoANN) {
			if err := w.RemoveANN(); err != nil {
				return st, fmt.Errorf("approximate index: %w", err)
			}
			st.Action = ANNRemoved
		}
		return st, nil
	}
	if u.old != nil && u.oldInfo.ContentGen == r.ContentGen() && u.oldInfo.Count == n {
		st.Action, st.Nodes = ANNKept, u.old.Len()
		return st, nil
	}
	m := search.Matrix{Data: r.Vectors(), Dim: r.Dim()}
	var ix *search.HNSW
	var edits uint64
	var todo []int
	if u.old != nil {
		newID, kept, dropped := remap(u.oldR, r)
		edits = u.oldInfo.Edits + uint64(dropped)
		if float64(edits) <= o.MaxDropped*float64(n) {
			ix = u.old.Renumber(newID, n)
			for id := range n {
				if !ix.Has(id) {
					todo = append(todo, id)
				}
			}
			st.Action, st.Added, st.Dropped = ANNUpdated, n-kept, dropped
		} else {
			st.Reason = fmt.Sprintf("%d of %d nodes dropped since the last full build (limit %.0f%%)", edits, n, 100*o.MaxDropped)
		}
	} else if u.problem != nil {
		st.Reason = "previous index unreadable"
	} else {
		st.Reason = "no index for the previous content"
	}
	if ix == nil {
		ix = search.NewHNSW(r.Dim(), ANNParams)
		edits = 0
		todo = make([]int, n)
		for i := range todo {
			todo[i] = i
		}
		st.Action = ANNBuilt
	}
	if err := addChunked(ctx, ix, m, todo, o.Progress); err != nil {
		return st, err
	}
	if err := w.WriteANN(edits, ix.WriteTo); err != nil {
		return st, fmt.Errorf("approximate index: %w", err)
	}
	st.Nodes = ix.Len()
	st.Elapsed = time.Since(start)
	return st, nil
}

// addChunked inserts ids in chunks so that progress is reported between
// them; Add itself stops within the insertions under way when ctx is
// cancelled (a chunk can take seconds: the README's 1,000,000 × 128 build,
// 18 min 31 s on 2 cores, is about 4.5 s per 4,096 nodes).
func addChunked(ctx context.Context, ix *search.HNSW, m search.Matrix, ids []int, progress func(done, total int)) error {
	const chunk = 4096
	if progress != nil && len(ids) > 0 {
		progress(0, len(ids))
	}
	for i := 0; i < len(ids); i += chunk {
		if err := ix.Add(ctx, m, ids[i:min(i+chunk, len(ids))]); err != nil {
			return err
		}
		if progress != nil {
			progress(min(i+chunk, len(ids)), len(ids))
		}
	}
	return nil
}

// remap maps every id of the old snapshot to the id of the same path in
// the new one (both are in path order: one merge pass), or −1 when the
// path is gone or its vector changed.
func remap(old, cur *store.Reader) (newID []int, kept, dropped int) {
	newID = make([]int, old.Len())
	j := 0
	for i := range newID {
		p := old.Path(i)
		for j < cur.Len() && cur.Path(j) < p {
			j++
		}
		if j < cur.Len() && cur.Path(j) == p && slices.Equal(old.Vector(i), cur.Vector(j)) {
			newID[i] = j
			kept++
			j++
			continue
		}
		newID[i] = -1
		dropped++
	}
	return newID, kept, dropped
}

// LoadANN opens the approximate index of r's snapshot in place (mapped,
// read-only, valid until r is closed): opening reads only the graph's
// small sections (search.MapHNSW), not layer 0. Any error means "search
// exactly":
// store.ErrNoANN (none), store.ErrANNStale (built for other content; the
// next index run updates it), or a damaged file (search.ErrChecksum,
// ErrFormat, ErrVersion; the next index run rebuilds it).
func LoadANN(r *store.Reader) (*search.HNSW, error) {
	data, _, err := r.MapANN()
	if err != nil {
		return nil, err
	}
	ix, err := search.MapHNSW(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", store.ANNFile, err)
	}
	if ix.Dim() != r.Dim() || ix.Slots() > r.Len() {
		return nil, fmt.Errorf("%s: %w: dimension %d over %d rows, store %d over %d",
			store.ANNFile, search.ErrFormat, ix.Dim(), ix.Slots(), r.Dim(), r.Len())
	}
	return ix, nil
}
