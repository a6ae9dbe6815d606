package collection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// Options say how Open opens a collection for change.
type Options struct {
	// Model is the model to use (see Model): "" for the store's own.
	Model string
	// Repair rebuilds a damaged store (store.WriterOptions.Repair).
	Repair bool
	// ANNThreshold is the size from which the store keeps an approximate
	// index (0: index.DefaultANNThreshold).
	ANNThreshold int
	// Note, when set, receives what people may want to know and nothing
	// needs to act on: a stale lock taken over, a repair, the graph built.
	Note func(Note)
	// ANNProgress, when set, is called while the graph is built or updated.
	ANNProgress func(done, total int)
	// Snapshot (a remote store) is the store's version (Backend.Version)
	// that the reader given to Act was read at: Act refuses a store that
	// has another now (ErrStoreChanged), as it refuses a local store
	// changed since its reader's generation.
	Snapshot string
	// JournalDir (a remote store) is the local folder that keeps Act's
	// journals (a local store keeps them in its own journals/).
	JournalDir string
}

// Note kinds.
const (
	NoteStaleLock  = "stale-lock"  // took over the lock of a process that died holding it
	NoteRepair     = "repair"      // the store was repaired on opening
	NoteANN        = "ann"         // the approximate index was built or updated
	NoteANNProblem = "ann-problem" // the previous approximate index was unreadable; rebuilt
)

// Note is one thing a collection reports on its way.
type Note struct {
	Kind string
	Text string
	// PID is the process whose lock was taken over (NoteStaleLock).
	PID int
	// ANN is what the graph update did (NoteANN).
	ANN index.ANNStats
}

// Collection is a store open for change, bound to its model. See the
// package doc.
type Collection struct {
	dir    string
	model  *models.Model // nil until Model() needs it
	source string        // where model came from (store.Writer.SetModelSource)
	o      Options
	st     index.Store   // what changes: w, or remote
	w      *store.Writer // nil for a remote store
	remote Backend       // nil for a local store
	ann    *index.ANNUpdater
	// dirty: something changed since Open (Close brings the graph along).
	dirty bool
}

// Open opens the store at dir for change (creating it when missing),
// taking the writer lock. The store stays bound to its model: with
// o.Model "" the binding comes from the store itself, and the model is
// opened only when something needs it (Index); otherwise Model decides.
// Close it.
func Open(ctx context.Context, dir string, o Options) (*Collection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &Collection{dir: dir, o: o}
	var b store.Binding
	if r, err := store.Open(dir); err == nil && o.Model == "" {
		b = r.Model()
		r.Close()
	} else {
		if err == nil {
			r.Close()
		}
		m, src, err := Model(dir, o.Model)
		if err != nil {
			return nil, err
		}
		c.model, c.source, b = m, src, index.Binding(m)
	}
	w, err := store.OpenWriter(dir, b, store.WriterOptions{Repair: o.Repair})
	if errors.Is(err, store.ErrModelMismatch) {
		// A store damaged enough that Model could not read it, then
		// found by the writer: say the retired built-in if it is one.
		if r, rerr := store.Open(dir); rerr == nil {
			if old := models.RetiredBuiltin(r.Model().ModelID); old != nil {
				err = old
			}
			r.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	c.w, c.st = w, w
	if pid := w.StaleLockPID(); pid != 0 {
		c.note(Note{Kind: NoteStaleLock, PID: pid,
			Text: fmt.Sprintf("took over the lock of process %d, which ended without releasing it", pid)})
	}
	for _, r := range w.Repairs() {
		c.note(Note{Kind: NoteRepair, Text: r})
	}
	c.ann = index.PrepareANN(w)
	return c, nil
}

func (c *Collection) note(n Note) {
	if c.o.Note != nil {
		c.o.Note(n)
	}
}

// Dir is the store's folder.
func (c *Collection) Dir() string { return c.dir }

// Model is the model the store's vectors come from, opened on first use.
func (c *Collection) Model() (*models.Model, error) {
	if c.model == nil && c.remote != nil {
		return c.remoteModel()
	}
	if c.model == nil {
		m, src, err := Model(c.dir, "")
		if err != nil {
			return nil, err
		}
		c.model, c.source = m, src
	}
	return c.model, nil
}

// Binding is the model binding of the store.
func (c *Collection) Binding() store.Binding {
	if c.remote != nil {
		return c.remote.Binding()
	}
	return c.w.Model()
}

// Roots are the folders the store keeps in step.
func (c *Collection) Roots() []string { return c.st.Roots() }

// Writer is the local store under change (nil for a remote one), for
// what the use cases here do not cover yet; prefer them.
func (c *Collection) Writer() *store.Writer { return c.w }

// Index brings the store in step with the folders and files of o (see
// index.Run), embedding with emb, which must embed with Model().
func (c *Collection) Index(ctx context.Context, emb index.Embedder, o index.Options) (index.Stats, error) {
	c.dirty = true
	if c.model != nil && c.w != nil {
		c.w.SetModelSource(c.source)
	}
	return index.Run(ctx, c.st, emb, o)
}

// Forget removes the entries at or under each path, and the roots inside
// them, and commits. It returns how many entries it removed.
func (c *Collection) Forget(ctx context.Context, paths ...string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := index.Forget(c.st, paths...)
	if err != nil {
		return n, err
	}
	c.dirty = true
	return n, c.st.Commit()
}

// Close commits what is pending, compacts the store when worthwhile,
// brings the approximate index in step (cancellable: ctx stops a graph
// build within one chunk of insertions) and releases the lock. After a
// cancellation the store holds its last commit and a stale graph, which
// readers ignore and the next change rebuilds.
func (c *Collection) Close(ctx context.Context) error {
	if b := c.remote; b != nil {
		c.remote, c.st = nil, nil
		return errors.Join(b.Commit(), b.Close())
	}
	if c.w == nil {
		return nil
	}
	defer func() {
		c.ann.Close()
		c.w.Close()
		c.w = nil
	}()
	if !c.dirty {
		return nil
	}
	if err := c.w.Commit(); err != nil { // a no-op when nothing is pending
		return err
	}
	if c.w.NeedsCompaction() {
		if err := c.w.Compact(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	st, err := c.ann.Update(ctx, c.w, index.ANNOptions{Threshold: c.o.ANNThreshold, Progress: c.o.ANNProgress})
	if err != nil {
		return err
	}
	if st.PreviousProblem != nil {
		c.note(Note{Kind: NoteANNProblem, Text: fmt.Sprintf("the approximate index was unreadable (%v); rebuilt it", st.PreviousProblem)})
	}
	switch st.Action {
	case index.ANNBuilt:
		c.note(Note{Kind: NoteANN, ANN: st, Text: fmt.Sprintf("approximate index built: %d vectors in %s", st.Nodes, st.Elapsed.Round(10*time.Millisecond))})
	case index.ANNUpdated:
		c.note(Note{Kind: NoteANN, ANN: st, Text: fmt.Sprintf("approximate index updated: %d added, %d dropped, %d vectors in %s",
			st.Added, st.Dropped, st.Nodes, st.Elapsed.Round(10*time.Millisecond))})
	}
	return nil
}
