package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/store"
)

// ErrStoreChanged: the store was changed (an index run) between the
// snapshot the dedup groups came from and the action.
var ErrStoreChanged = errors.New("the store changed while grouping")

// ErrStoreBehind: dedup actions were done but the store could not record
// them; the next index run of those folders brings it in step.
var ErrStoreBehind = errors.New("the store is behind the files")

// storeEntry is what a journal keeps of a file's store entry
// (dedup.Action.StoreEntry), so undo can put it back without embedding the
// image again; Binding keeps it out of a store rebuilt with another model.
type storeEntry struct {
	Binding store.Binding `json:"binding"`
	Entry   store.Entry   `json:"entry"`
	Vector  []float32     `json:"vector"` // JSON writes float32 exactly
}

// ActResult is what Act did.
type ActResult struct {
	Journal string
	// HeldDir is the journal's holding folder (links of differing files).
	HeldDir string
	Results []dedup.Result
	// ApplyErr stopped the actions (an I/O error); Results say what was
	// done before. StoreErr: the files changed as the journal says, but
	// the store could not be told (the next index run brings it in step).
	ApplyErr, StoreErr error
}

// Act performs plan on the files, journalled (at journal, or under the
// store's journals/ when ""), then makes the store say what the files now
// are. The plan's groups must come from the snapshot r, which must still
// be the store's committed state (else ErrStoreChanged, nothing done).
//
// On a remote store, r is a local mirror of it read at its version
// Options.Snapshot, and journals are kept under Options.JournalDir; the
// store is told what the files now are in the same step. (A remote store
// has no lock: a change made between this check and the store's update is
// not seen; the journal and the next index run put things right.)
func (c *Collection) Act(ctx context.Context, r *store.Reader, plan *dedup.Plan, journal string) (ActResult, error) {
	var res ActResult
	jdir := filepath.Join(c.dir, "journals")
	switch {
	case c.remote != nil && c.o.JournalDir == "" && journal == "":
		return res, fmt.Errorf("%w: no folder for the journal", ErrRemote)
	case c.remote != nil:
		if c.remote.Version() != c.o.Snapshot {
			return res, ErrStoreChanged
		}
		jdir = c.o.JournalDir
	case c.w.Generation() != r.Generation():
		return res, ErrStoreChanged
	}
	// The journal keeps each file's store entry, for undo to put back.
	for i := range plan.Actions {
		a := &plan.Actions[i]
		if id, ok := r.Lookup(a.File.Path); ok && a.Refused == nil {
			b, err := json.Marshal(storeEntry{Binding: r.Model(), Entry: r.Entry(id), Vector: r.Vector(id)})
			if err != nil {
				return res, err
			}
			a.StoreEntry = b
		}
	}
	if journal == "" {
		journal = filepath.Join(jdir, "dedup-"+time.Now().UTC().Format("20060102T150405.000000000Z")+".jsonl")
	}
	j, err := dedup.CreateJournal(journal, dedup.Header{Op: plan.Config.Op, Roots: plan.Config.Roots, MoveTo: plan.Config.MoveTo, Store: c.dir})
	if err != nil {
		return res, err
	}
	defer j.Close()
	res.Journal, res.HeldDir = journal, j.HeldDir()
	res.Results, res.ApplyErr = plan.Apply(ctx, dedup.ApplyOptions{Journal: j})
	res.StoreErr = c.applied(r, res.Results)
	return res, nil
}

// applied makes the store say what the files now are: a moved, trashed or
// deleted image gone (a moved one is outside the folders dedup acts on,
// and would otherwise be reported again by every run), a duplicate
// replaced by a hard link described as its keeper (same bytes), one
// replaced by a symbolic link gone (index does not follow links). Undo
// puts the entries back from the journal.
func (c *Collection) applied(r *store.Reader, results []dedup.Result) error {
	changed := 0
	for _, res := range results {
		if !res.Done {
			continue
		}
		src := res.Action.File.Path
		if _, ok := r.Lookup(src); !ok {
			continue
		}
		switch res.Action.Op {
		case dedup.OpMove, dedup.OpTrash, dedup.OpDelete, dedup.OpSymlink:
			c.st.Delete(src)
		case dedup.OpHardLink:
			kid, ok := r.Lookup(res.Action.Keeper.Path)
			if !ok {
				c.st.Delete(src)
				break
			}
			e := r.Entry(kid)
			e.Path = src
			if err := c.st.Put(e, r.Vector(kid)); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		c.dirty = true
		changed++
	}
	if changed == 0 {
		return nil
	}
	if err := c.st.Commit(); err != nil {
		return fmt.Errorf("%w: the files were changed as the journal says, but the store could not be told: %w", ErrStoreBehind, err)
	}
	return nil
}

// UndoResult is what Undo did.
type UndoResult struct {
	Results []dedup.UndoResult
	// Missing restored files could not be put back in the store (journals
	// written before entries were kept, or a store of another model now).
	Missing int
	// UndoErr stopped the undo; StoreErr: the files are back, the store
	// could not be told.
	UndoErr, StoreErr error
}

// Undo reverses the actions of a journal and puts the store entries of
// the restored files back: in the store at dir, or when dir is "" in the
// one the journal names, else in fallback. A journal that cannot be read
// is the error.
func Undo(ctx context.Context, journal, dir, fallback string) (UndoResult, error) {
	return UndoWith(ctx, journal, dir, fallback, nil)
}

// UndoWith is Undo with the store to tell opened by open (a remote store,
// by its name); open returns nil and no error when there is no such
// store. A nil open opens a local store.
func UndoWith(ctx context.Context, journal, dir, fallback string, open func(ctx context.Context, name string) (*Collection, error)) (UndoResult, error) {
	var u UndoResult
	if dir == "" {
		dir = fallback
		if h, _, err := dedup.ReadJournal(journal); err == nil && h.Store != "" {
			dir = h.Store
		}
	}
	u.Results, u.UndoErr = dedup.Undo(ctx, journal, nil)
	if errors.Is(u.UndoErr, dedup.ErrBadJournal) || errors.Is(u.UndoErr, fs.ErrNotExist) {
		return u, u.UndoErr
	}
	var restored []dedup.UndoResult
	for _, r := range u.Results {
		if r.Restored {
			restored = append(restored, r)
		}
	}
	if len(restored) == 0 || dir == "" {
		u.Missing = len(restored)
		return u, nil
	}
	if open == nil {
		open = OpenExisting
	}
	c, err := open(ctx, dir)
	if err != nil {
		u.StoreErr = fmt.Errorf("store: %w", err)
		return u, nil
	}
	if c == nil {
		u.Missing = len(restored) // the files are back; there is no store to tell
		return u, nil
	}
	u.Missing, u.StoreErr = c.restore(restored)
	if err := c.Close(ctx); u.StoreErr == nil {
		u.StoreErr = err
	}
	return u, nil
}

// OpenExisting opens the local store at dir for change, as Open does,
// unless there is none (nil, no error): for Undo, which must not create one.
func OpenExisting(ctx context.Context, dir string) (*Collection, error) {
	r, err := store.Open(dir)
	if errors.Is(err, store.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.Close()
	return Open(ctx, dir, Options{})
}

// restore puts the store entries of restored files back, from the journal
// (storeEntry); it returns how many it could not (journals written before
// entries were kept: a moved file's entry is then taken from its new path,
// as those versions kept it there).
func (c *Collection) restore(restored []dedup.UndoResult) (missing int, err error) {
	b := c.Binding()
	changed := 0
	for _, u := range restored {
		var se storeEntry
		var e store.Entry
		var vec []float32
		var ok bool
		if json.Unmarshal(u.Entry.StoreEntry, &se) == nil && se.Binding == b && len(se.Vector) == b.Dim {
			e, vec = se.Entry, se.Vector
		} else if e, ok = c.st.Get(u.Entry.Dst); ok && u.Entry.Op == dedup.OpMove {
			if vec, ok = c.st.Vector(u.Entry.Dst); !ok {
				missing++
				continue
			}
		} else {
			missing++
			continue
		}
		e.Path = u.Entry.Src
		if err := c.st.Put(e, vec); err != nil {
			return missing, fmt.Errorf("store: %w", err)
		}
		if u.Entry.Op == dedup.OpMove {
			c.st.Delete(u.Entry.Dst)
		}
		c.dirty = true
		changed++
	}
	if changed == 0 {
		return missing, nil
	}
	if err := c.st.Commit(); err != nil {
		return missing, fmt.Errorf("store: %w", err)
	}
	return missing, nil
}
