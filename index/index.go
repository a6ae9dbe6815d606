package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/internal/fspath"
	"github.com/embedsearch/embedsearch/internal/inputfile"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// Embedder turns image files into vectors; *infer.Encoder is one. EmbedWith
// must call emit once per path, in input order, from one goroutine, with
// per-file failures in Item.Err, and read each file once: its SHA-256
// goes to EmbedOptions.Known before it is decoded, so that stored
// content (a moved or copied file) is reused without decoding it.
type Embedder interface {
	EmbedWith(ctx context.Context, paths <-chan string, o infer.EmbedOptions, emit func(infer.Item) error) error
}

// Defaults for Options.
const (
	DefaultCommitEvery    = 1000
	DefaultCommitInterval = 30 * time.Second
)

// Options say what to index and how.
type Options struct {
	// Roots are directories (walked) or files (indexed as Files are); made
	// absolute and cleaned. Entries under a root directory that exists and
	// is readable but whose files are gone are removed.
	Roots []string
	// Files are single files to index (e.g. a list read from stdin); they
	// are never roots, so nothing is swept because of them.
	Files []string
	// Exclude are filepath.Match patterns tested against the base name and
	// against the absolute path of every file and directory.
	Exclude        []string
	IncludeHidden  bool
	FollowSymlinks bool
	// MaxFileSize refuses larger files before hashing them; 0 = 1 GiB,
	// negative = no limit. The Embedder has its own limit for reading.
	MaxFileSize int64
	// CommitEvery and CommitInterval bound the work an interruption can
	// lose: a commit happens after that many changed entries or that much
	// time, whichever comes first.
	CommitEvery    int
	CommitInterval time.Duration
	// Progress, when set, is called from one goroutine at a time.
	Progress func(Progress)
	// Failure, when set, is called for each per-file failure as it happens
	// (they are also returned in Stats.Failures).
	Failure func(Failure)
	// Skipped, when set, is called for each file of a walked folder that
	// is not taken (WalkOptions.Skipped); they are counted in
	// Stats.Skipped. A skipped file is no failure.
	Skipped func(Skip)
}

// Phases of Progress.
const (
	PhaseScan  = "scan"  // walking the roots
	PhaseEmbed = "embed" // embedding new and changed files
	PhaseSign  = "sign"  // signing stored images that have no signature yet
	PhaseSave  = "save"  // sweeping, committing and compacting
)

// Progress is a snapshot of a run, for progress bars.
type Progress struct {
	Phase string
	Stats
	// Todo is the number of new or changed files to process; Done of them
	// are processed.
	Todo, Done int
}

// Failure is one file (or directory) that could not be indexed.
type Failure struct {
	Path string
	Err  error
}

// Stats summarise a run.
type Stats struct {
	Scanned   int // image files found under the roots and in Files
	Unchanged int // same path, size and mtime as stored
	New       int // embedded (or reused by content) under a new path
	Changed   int // stored path whose size or mtime changed
	Moved     int // new path whose content matched a path that vanished
	Removed   int // entries swept because their file is gone
	Failed    int
	Failures  []Failure
	// Skipped counts the files of walked folders that were not taken.
	Skipped SkipCounts
	// MissingRoots did not exist or could not be read: their entries are
	// kept. EmptyRoots exist but hold no images while the store has entries
	// under them (an unmounted drive's mount point): also kept. Both are
	// also Failures, so that a script notices.
	MissingRoots []string
	EmptyRoots   []string
	Embedded     int // files actually run through the model
	// Signed counts stored images that gained their dedup signature
	// without being embedded again (stores written before signatures).
	Signed  int
	Elapsed time.Duration
}

// Run brings the store in step with the roots: it walks them, embeds new
// and changed images, reuses vectors of files whose content is already
// stored (moves, renames, copies), removes entries of vanished files, and
// commits periodically. On cancellation it commits what was done and
// returns the context's error; the next Run resumes from there. It
// compacts the store when it completes.
func Run(ctx context.Context, w Store, emb Embedder, o Options) (Stats, error) {
	r := &run{w: w, emb: emb, o: o, start: time.Now(), lastCommit: time.Now()}
	if r.o.CommitEvery <= 0 {
		r.o.CommitEvery = DefaultCommitEvery
	}
	if r.o.CommitInterval <= 0 {
		r.o.CommitInterval = DefaultCommitInterval
	}
	return r.run(ctx)
}

type run struct {
	w     Store
	emb   Embedder
	o     Options
	start time.Time

	mu          sync.Mutex // guards everything below and the Writer
	st          Stats
	todo, done  int
	sinceCommit int
	lastCommit  time.Time
	lastReport  time.Time
	changed     map[string]bool // candidate path → was already stored
	gone        map[string]bool // stored paths not found under swept roots
	stat        map[string]file
}

func (r *run) run(ctx context.Context) (Stats, error) {
	roots, err := absAll(r.o.Roots)
	if err != nil {
		return r.st, err
	}
	files, err := absAll(r.o.Files)
	if err != nil {
		return r.st, err
	}

	// 1. Walk.
	wk := &collector{o: &r.o, seen: map[string]bool{}}
	wk.progress = func(n int) { r.report(PhaseScan, func() { r.st.Scanned = n }) }
	var swept []string
	present := roots[:0:0] // roots that exist: only they are recorded as roots
	for _, root := range roots {
		if err := ctx.Err(); err != nil {
			return r.st, err
		}
		info, err := os.Stat(root)
		if err != nil {
			r.st.MissingRoots = append(r.st.MissingRoots, root)
			wk.fail(root, fmt.Errorf("root missing or unreadable, its entries are kept: %v", err))
			continue
		}
		if !info.IsDir() {
			// A file named as a root is indexed like one of Files: it is
			// never recorded as a root (nothing is swept because of it).
			wk.addFile(root, info)
			continue
		}
		present = append(present, root)
		before := len(wk.files)
		if f, err := os.Open(root); err != nil {
			r.st.MissingRoots = append(r.st.MissingRoots, root)
			wk.fail(root, fmt.Errorf("root unreadable, its entries are kept: %v", err))
			continue
		} else {
			f.Close()
		}
		wk.walk(ctx, root, info)
		if len(wk.files) == before && r.storedUnder(root) {
			r.st.EmptyRoots = append(r.st.EmptyRoots, root)
			wk.fail(root, errors.New("root holds no images but the store has entries under it (unmounted?); they are kept"))
			continue
		}
		swept = append(swept, root)
	}
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			wk.fail(f, err)
			continue
		}
		if info.IsDir() {
			wk.fail(f, errors.New("is a directory (give directories as roots)"))
			continue
		}
		wk.addFile(f, info)
	}
	// A walk cut short by ctx saw only part of the roots: nothing may be
	// swept from it.
	if err := ctx.Err(); err != nil {
		return r.st, err
	}
	for _, f := range wk.failures {
		r.failure(f.Path, f.Err)
	}
	r.st.Scanned = len(wk.files)
	r.st.Skipped = wk.skipped

	// 2. Compare with the store.
	r.changed = map[string]bool{}
	r.stat = make(map[string]file)
	var todo []string
	for _, f := range wk.files {
		size, mtime, ok := r.w.Stat(f.path)
		if ok && size == f.size && mtime.UnixNano() == f.mtime.UnixNano() {
			r.st.Unchanged++
			continue
		}
		r.changed[f.path] = ok
		r.stat[f.path] = f
		todo = append(todo, f.path)
	}
	r.gone = map[string]bool{}
	r.w.Walk(func(p string) bool {
		if !wk.seen[p] && fspath.WithinAny(swept, p) && !fspath.WithinAny(wk.unreadable, p) && vanished(p) {
			r.gone[p] = true
		}
		return true
	})
	r.todo = len(todo)
	r.w.AddRoots(present...)

	// 3. Embed what is new or changed; reuse vectors by content hash.
	// Then sign what the store has without a signature.
	err = r.embed(ctx, todo)
	if err == nil {
		err = r.sign(ctx, wk.files)
	}
	if err != nil {
		// Keep what was done; the sweep waits for a complete run.
		if cerr := r.commit(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		r.st.Elapsed = time.Since(r.start)
		return r.st, err
	}

	// 4. Sweep, record, commit, compact.
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reportLocked(PhaseSave)
	for p := range r.gone {
		if r.w.Delete(p) {
			r.st.Removed++
		}
	}
	r.w.SetRunStats(time.Now(), r.st.Failed)
	if err := r.w.Commit(); err != nil {
		return r.st, err
	}
	if err := r.w.Compact(); err != nil {
		return r.st, err
	}
	r.st.Elapsed = time.Since(r.start)
	return r.st, nil
}

// vanished reports whether path no longer exists. An entry the walk did
// not pick but whose file is still there (named explicitly once, or now
// hidden or excluded) is kept: only `forget` removes it.
func vanished(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func absAll(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (r *run) storedUnder(root string) bool {
	found := false
	r.w.Walk(func(p string) bool {
		found = fspath.Within(root, p)
		return !found
	})
	return found
}

// embed sends every candidate through the embedder, which reads and
// hashes each file once, in its own goroutines: content already in the
// store is reused (Item.Known), the rest is embedded.
func (r *run) embed(parent context.Context, todo []string) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	paths := feed(ctx, todo)
	o := infer.EmbedOptions{NoFollowLinks: !r.o.FollowSymlinks, MaxFileSize: r.o.MaxFileSize, Known: r.known, Signatures: true}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = inputfile.DefaultMaxSize
	}
	err := r.emb.EmbedWith(ctx, paths, o, func(it infer.Item) error {
		if it.Known {
			if !r.reuse(it.Path, it.SHA256) {
				// Only a store changed by someone else between the two
				// looks gets here; the next run embeds the file.
				r.mu.Lock()
				r.failure(it.Path, errors.New("its stored copy vanished while indexing; index again"))
				r.done++
				r.mu.Unlock()
			}
			return nil
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.done++
		if it.Err != nil {
			r.failure(it.Path, it.Err)
			return nil
		}
		f := r.stat[it.Path]
		e := store.Entry{
			Path: it.Path, Size: it.Size, ModTime: f.mtime, SHA256: it.SHA256,
			Width: it.Info.Width, Height: it.Info.Height, Format: it.Info.Format,
			Taken: it.Info.Taken, Make: it.Info.Make, Model: it.Info.Model,
			Signature: it.Info.Signature,
		}
		if it.Size != f.size {
			// Rewritten between walk and read: a zero mtime makes the next
			// run look again.
			e.ModTime = time.Time{}
		}
		if it.Info.GPS != nil {
			e.GPS = &store.GPS{Lat: it.Info.GPS.Lat, Lon: it.Info.GPS.Lon}
		}
		r.st.Embedded++
		if r.changed[it.Path] {
			r.st.Changed++
		} else {
			r.st.New++
		}
		return r.putLocked(e, it.Vector)
	})
	cancel()
	// Drain the producer if Embed stopped early.
	for range paths {
	}
	if err == nil {
		err = parent.Err()
	}
	return err
}

// sign decodes the walked images whose entry has no signature (a store
// written before signatures, or content reused from one) and gives them
// theirs, keeping their vectors. A file that changed since it was embedded
// is left for the next run (its content no longer matches the entry); one
// that cannot be read is a failure, its entry kept as it is.
func (r *run) sign(parent context.Context, walked []file) error {
	var todo []string
	r.mu.Lock()
	for _, f := range walked {
		if _, ok := r.w.Get(f.path); ok && !r.w.HasSignature(f.path) {
			todo = append(todo, f.path)
		}
	}
	r.todo += len(todo)
	r.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	paths := feed(ctx, todo)
	o := infer.EmbedOptions{NoFollowLinks: !r.o.FollowSymlinks, MaxFileSize: r.o.MaxFileSize, Signatures: true, SignatureOnly: true}
	if o.MaxFileSize == 0 {
		o.MaxFileSize = inputfile.DefaultMaxSize
	}
	err := r.emb.EmbedWith(ctx, paths, o, func(it infer.Item) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.done++
		if it.Err != nil {
			r.failure(it.Path, fmt.Errorf("its dedup signature: %w", it.Err))
			return nil
		}
		e, ok := r.w.Get(it.Path)
		vec, vok := r.w.Vector(it.Path)
		if !ok || !vok || len(it.Info.Signature) == 0 || (e.SHA256 != "" && e.SHA256 != it.SHA256) {
			r.reportLocked(PhaseSign)
			return nil
		}
		e.Signature = it.Info.Signature
		r.st.Signed++
		err := r.putLocked(e, vec)
		r.reportLocked(PhaseSign)
		return err
	})
	cancel()
	for range paths {
	}
	if err == nil {
		err = parent.Err()
	}
	return err
}

// known reports whether content with this SHA-256 is stored. The
// embedder calls it from its decoding goroutines.
func (r *run) known(sha string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _, ok := r.w.ByHash(sha)
	return ok
}

// reuse stores p with the vector of stored content equal to sha, if any.
func (r *run) reuse(p, sha string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, vec, ok := r.w.ByHash(sha)
	if !ok {
		return false
	}
	f := r.stat[p]
	e := old
	e.Path, e.Size, e.ModTime, e.SHA256 = p, f.size, f.mtime, sha
	r.done++
	switch {
	case r.gone[old.Path]:
		delete(r.gone, old.Path)
		r.w.Delete(old.Path)
		r.st.Moved++
	case r.changed[p]:
		r.st.Changed++
	default:
		r.st.New++
	}
	if err := r.putLocked(e, vec); err != nil {
		r.failure(p, err)
	}
	return true
}

// putLocked stores e and commits when a batch is full or old.
func (r *run) putLocked(e store.Entry, vec []float32) error {
	if err := r.w.Put(e, vec); err != nil {
		return err
	}
	r.sinceCommit++
	if r.sinceCommit >= r.o.CommitEvery || time.Since(r.lastCommit) >= r.o.CommitInterval {
		if err := r.commitLocked(); err != nil {
			return err
		}
	}
	r.reportLocked(PhaseEmbed)
	return nil
}

func (r *run) commit() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commitLocked()
}

func (r *run) commitLocked() error {
	r.sinceCommit = 0
	r.lastCommit = time.Now()
	return r.w.Commit()
}

func (r *run) failure(path string, err error) {
	r.st.Failed++
	f := Failure{Path: path, Err: err}
	r.st.Failures = append(r.st.Failures, f)
	if r.o.Failure != nil {
		r.o.Failure(f)
	}
}

func (r *run) report(phase string, update func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	update()
	r.reportLocked(phase)
}

func (r *run) reportLocked(phase string) {
	if r.o.Progress == nil {
		return
	}
	st := r.st
	st.Failures = nil
	st.Elapsed = time.Since(r.start)
	r.o.Progress(Progress{Phase: phase, Stats: st, Todo: r.todo, Done: r.done})
}

// Forget removes the entries at or under each path (made absolute) and
// the roots inside them. It returns how many entries it removed; the caller
// commits.
func Forget(w Store, paths ...string) (int, error) {
	abs, err := absAll(paths)
	if err != nil {
		return 0, err
	}
	var drop []string
	w.Walk(func(p string) bool {
		if fspath.WithinAny(abs, p) {
			drop = append(drop, p)
		}
		return true
	})
	for _, p := range drop {
		w.Delete(p)
	}
	var roots []string
	for _, r := range w.Roots() {
		if fspath.WithinAny(abs, r) {
			roots = append(roots, r)
		}
	}
	w.RemoveRoots(roots...)
	return len(drop), nil
}

// Binding is the store binding of a model.
func Binding(m *models.Model) store.Binding {
	return store.Binding{
		ModelID:    m.Manifest.ID,
		Digest:     m.Digest(),
		Preprocess: m.Manifest.Preprocess.Fingerprint(),
		Dim:        m.Manifest.Dim,
	}
}

// feed sends todo's paths one by one until they are all sent or ctx ends,
// then closes the channel.
func feed(ctx context.Context, todo []string) <-chan string {
	paths := make(chan string)
	go func() {
		defer close(paths)
		for _, p := range todo {
			select {
			case paths <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	return paths
}
