package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// WriterOptions tune OpenWriter.
type WriterOptions struct {
	// LockWait is how long to wait for another writer to finish before
	// failing with ErrLocked. Zero means DefaultLockWait.
	LockWait time.Duration
	// Repair drops segments that fail verification, rebuilds a damaged
	// MANIFEST from the segment files and rebuilds the catalog. Entries of
	// dropped segments are gone; the next index run embeds them again.
	Repair bool
}

// DefaultLockWait is how long a second writer waits for the first.
const DefaultLockWait = 3 * time.Second

// Writer changes a store. There is at most one per store (a lock file
// guards it). Changes are buffered until Commit, which publishes them as
// one new generation; Close without Commit discards them. A Writer is not
// safe for concurrent use.
type Writer struct {
	dir  string
	lock *lockFile
	man  *manifest
	segs []*segment
	v    *view

	// byHash maps content hashes of committed entries (including ones
	// deleted but not yet committed) to their path, for move detection.
	byHash map[string]string

	pending     map[string]*pendingEntry
	pendingHash map[string]string
	deleted     map[string]bool // committed paths to drop at Commit
	metaDirty   bool

	repaired []string
	stalePID int

	// catHashes holds the catalog checksums this writer verified or
	// computed, so re-recording after a commit reads only new files.
	catHashes catalogHashes
}

type pendingEntry struct {
	e   Entry
	vec []float32
}

// OpenWriter opens (creating if needed) the store in dir for writing,
// bound to model b. It takes the writer lock, removes debris of crashed
// commits, verifies every segment, checks the catalog against the sums
// the MANIFEST records, and brings the catalog in step with the committed
// entries (rebuilding it when it is missing or damaged).
func OpenWriter(dir string, b Binding, o WriterOptions) (w *Writer, err error) {
	if b.Dim <= 0 || b.ModelID == "" {
		return nil, fmt.Errorf("open store: model binding needs an id and a dimension")
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, writeErr(dir, err)
	}
	if err := probeWritable(dir); err != nil {
		return nil, err
	}
	wait := o.LockWait
	if wait == 0 {
		wait = DefaultLockWait
	}
	lock, err := acquireLock(dir, wait)
	if err != nil {
		return nil, err
	}
	w = &Writer{dir: dir, lock: lock, stalePID: lock.stalePID}
	opened := w // the named result is nil by the time an error return defers run
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()
	man, err := readManifest(dir)
	switch {
	case errors.Is(err, ErrNotExist):
		man = &manifest{Binding: b, Created: time.Now().UTC()}
		if err := writeManifest(dir, man); err != nil {
			return nil, err
		}
	case err != nil && o.Repair && errors.Is(err, ErrCorrupt):
		man, err = w.rebuildManifest(b)
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if man.Binding != b {
		return nil, fmt.Errorf("%w: %s holds %s", ErrModelMismatch, dir, man.Binding.Mismatch(b))
	}
	w.man = man
	w.removeDebris()
	segs := make([]*segment, 0, len(man.Segments))
	var kept []segmentRef
	for _, ref := range man.Segments {
		s, err := openSegment(dir, ref, b.Dim)
		if err == nil {
			err = s.verify()
			if err != nil {
				s.close()
			}
		}
		if err != nil {
			if !o.Repair {
				closeSegments(segs)
				return nil, err
			}
			w.repaired = append(w.repaired, fmt.Sprintf("dropped segment %s: %v", ref.Name, err))
			continue
		}
		segs = append(segs, s)
		kept = append(kept, ref)
	}
	w.segs = segs
	w.v = newView(b.Dim, segs)
	if len(kept) != len(man.Segments) {
		m2 := *man
		m2.Segments = kept
		m2.Generation++
		m2.ContentGen = m2.Generation
		if err := writeManifest(dir, &m2); err != nil {
			return nil, err
		}
		w.man = &m2
	}
	w.resetPending()
	if err := w.syncCatalog(o.Repair); err != nil {
		return nil, err
	}
	return w, nil
}

// probeWritable fails early, with a clear message, on a read-only store.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, tempPrefix+"probe-")
	if err != nil {
		return writeErr(dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func (w *Writer) resetPending() {
	w.pending = make(map[string]*pendingEntry)
	w.pendingHash = make(map[string]string)
	w.deleted = make(map[string]bool)
}

// removeDebris deletes temporary files and segments no committed manifest
// refers to (a crash between writing a segment and the manifest). Older
// segments go first so that any survivor of an interrupted removal still
// has every later segment beside it.
func (w *Writer) removeDebris() {
	names, _ := os.ReadDir(w.dir)
	ref := map[string]bool{}
	for _, s := range w.man.Segments {
		ref[s.Name] = true
	}
	var drop []string
	for _, d := range names {
		n := d.Name()
		if strings.HasPrefix(n, tempPrefix) || (isSegmentName(n) && !ref[n]) {
			drop = append(drop, n)
		}
	}
	sort.Strings(drop)
	for _, n := range drop {
		os.Remove(filepath.Join(w.dir, n))
	}
	if len(drop) > 0 {
		_ = syncDir(w.dir)
	}
}

// rebuildManifest reconstructs a lost or damaged MANIFEST from the segment
// files in the directory (each is self-describing), in generation order.
func (w *Writer) rebuildManifest(b Binding) (*manifest, error) {
	names, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, err
	}
	man := &manifest{Binding: b, Created: time.Now().UTC()}
	for _, d := range names {
		if !isSegmentName(d.Name()) {
			continue
		}
		ref, err := probeSegment(w.dir, d.Name(), b.Dim)
		if err != nil {
			w.repaired = append(w.repaired, fmt.Sprintf("ignored %s: %v", d.Name(), err))
			continue
		}
		man.Segments = append(man.Segments, ref)
		man.Generation = max(man.Generation, ref.Gen)
	}
	slices.SortFunc(man.Segments, func(a, b segmentRef) int { return int(a.Gen - b.Gen) })
	man.Generation++
	man.ContentGen = man.Generation
	if err := writeManifest(w.dir, man); err != nil {
		return nil, err
	}
	w.repaired = append(w.repaired, fmt.Sprintf("rebuilt MANIFEST from %d segment(s)", len(man.Segments)))
	return man, nil
}

// probeSegment reads a segment file's header and turns it into a ref.
func probeSegment(dir, name string, dim int) (segmentRef, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return segmentRef{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return segmentRef{}, err
	}
	hb := make([]byte, headerSize)
	if _, err := f.ReadAt(hb, 0); err != nil {
		return segmentRef{}, fmt.Errorf("%w: short header", ErrCorrupt)
	}
	h, crc, err := decodeSegmentHeader(hb, st.Size())
	if err != nil {
		return segmentRef{}, err
	}
	if int(h.Dim) != dim || segmentName(h.Gen) != name {
		return segmentRef{}, fmt.Errorf("%w: segment dimension or generation does not fit", ErrCorrupt)
	}
	return segmentRef{Name: name, Gen: h.Gen, Count: int(h.Count), Tombstones: int(h.Tombstones), Size: st.Size(), HeaderCRC: crc}, nil
}

// Repairs lists what OpenWriter with Repair changed (empty when nothing).
func (w *Writer) Repairs() []string { return w.repaired }

// StaleLockPID is the PID recorded in a lock file left behind by a writer
// that died (0 when the lock was clean).
func (w *Writer) StaleLockPID() int { return w.stalePID }

// Dir is the absolute store directory.
func (w *Writer) Dir() string { return w.dir }

// Model is the binding of the store.
func (w *Writer) Model() Binding { return w.man.Binding }

// Generation is the last committed generation.
func (w *Writer) Generation() uint64 { return w.man.Generation }

// Segments is the number of committed segment files.
func (w *Writer) Segments() int { return len(w.segs) }

// Get returns the entry for path as it will be after the next Commit.
func (w *Writer) Get(path string) (Entry, bool) {
	if p, ok := w.pending[path]; ok {
		return p.e, true
	}
	if w.deleted[path] {
		return Entry{}, false
	}
	id, ok := w.v.lookup(path)
	if !ok {
		return Entry{}, false
	}
	e, err := w.v.entry(id)
	return e, err == nil
}

// ByHash finds an entry (pending, committed, or committed and deleted in
// this batch) whose content has the given SHA-256, and returns it with a
// copy of its vector. It is how a moved or copied file reuses a vector.
func (w *Writer) ByHash(sha string) (Entry, []float32, bool) {
	if sha == "" {
		return Entry{}, nil, false
	}
	if p, ok := w.pendingHash[sha]; ok {
		if pe, ok := w.pending[p]; ok && pe.e.SHA256 == sha {
			return pe.e, slices.Clone(pe.vec), true
		}
	}
	if err := w.loadHashes(); err != nil {
		return Entry{}, nil, false
	}
	p, ok := w.byHash[sha]
	if !ok {
		return Entry{}, nil, false
	}
	id, ok := w.v.lookup(p)
	if !ok {
		return Entry{}, nil, false
	}
	e, err := w.v.entry(id)
	if err != nil || e.SHA256 != sha {
		return Entry{}, nil, false
	}
	return e, slices.Clone(w.v.vector(id)), true
}

// loadHashes builds byHash on first use: an unchanged re-index never
// needs it.
func (w *Writer) loadHashes() error {
	if w.byHash != nil {
		return nil
	}
	m := make(map[string]string, w.v.len())
	for id := 0; id < w.v.len(); id++ {
		e, err := w.v.entry(id)
		if err != nil {
			return err
		}
		if e.SHA256 != "" {
			m[e.SHA256] = e.Path
		}
	}
	w.byHash = m
	return nil
}

// Stat returns the size and modification time recorded for path as it
// will be after the next Commit; cheaper than Get (no full decode).
func (w *Writer) Stat(path string) (size int64, mtime time.Time, ok bool) {
	if p, ok := w.pending[path]; ok {
		return p.e.Size, p.e.ModTime, true
	}
	if w.deleted[path] {
		return 0, time.Time{}, false
	}
	id, ok := w.v.lookup(path)
	if !ok {
		return 0, time.Time{}, false
	}
	size, mtime, ok = w.v.stat(id)
	return size, mtime, ok
}

// Vector returns a copy of path's vector as it will be after the next
// Commit.
func (w *Writer) Vector(path string) ([]float32, bool) {
	if p, ok := w.pending[path]; ok {
		return slices.Clone(p.vec), true
	}
	if w.deleted[path] {
		return nil, false
	}
	id, ok := w.v.lookup(path)
	if !ok {
		return nil, false
	}
	return slices.Clone(w.v.vector(id)), true
}

// HasSignature reports whether path's entry, as it will be after the next
// Commit, has a signature (false when there is no such entry).
func (w *Writer) HasSignature(path string) bool {
	if p, ok := w.pending[path]; ok {
		return p.e.Signature != nil
	}
	if w.deleted[path] {
		return false
	}
	id, ok := w.v.lookup(path)
	return ok && w.v.signature(id) != nil
}

// Put adds or replaces the entry for e.Path with vector vec (copied), and
// its signature (copied).
func (w *Writer) Put(e Entry, vec []float32) error {
	if len(vec) != w.man.Binding.Dim {
		return fmt.Errorf("put %s: vector length %d, store dimension %d", e.Path, len(vec), w.man.Binding.Dim)
	}
	if !filepath.IsAbs(e.Path) || filepath.Clean(e.Path) != e.Path {
		return fmt.Errorf("put %q: path must be absolute and clean", e.Path)
	}
	if _, err := appendRecord(nil, &e); err != nil {
		return err
	}
	if len(e.Signature) > maxSignature {
		return fmt.Errorf("put %s: signature of %d bytes (at most %d)", e.Path, len(e.Signature), maxSignature)
	}
	e.Signature = slices.Clip(slices.Clone(e.Signature))
	if len(e.Signature) == 0 {
		e.Signature = nil
	}
	w.pending[e.Path] = &pendingEntry{e: e, vec: slices.Clone(vec)}
	if e.SHA256 != "" {
		w.pendingHash[e.SHA256] = e.Path
	}
	delete(w.deleted, e.Path)
	return nil
}

// Delete removes path; it reports whether there was such an entry.
func (w *Writer) Delete(path string) bool {
	_, had := w.pending[path]
	delete(w.pending, path)
	if _, ok := w.v.lookup(path); ok && !w.deleted[path] {
		w.deleted[path] = true
		had = true
	}
	return had
}

// Walk calls fn with every path as it will be after the next Commit, in
// no particular order, until fn returns false.
func (w *Writer) Walk(fn func(path string) bool) {
	for id := 0; id < w.v.len(); id++ {
		p := w.v.path(id)
		if w.deleted[p] {
			continue
		}
		if _, ok := w.pending[p]; ok {
			continue
		}
		if !fn(p) {
			return
		}
	}
	for p := range w.pending {
		if !fn(p) {
			return
		}
	}
}

// Len is the number of entries after the next Commit.
func (w *Writer) Len() int {
	n := w.v.len() - len(w.deleted)
	for p := range w.pending {
		if _, ok := w.v.lookup(p); !ok || w.deleted[p] {
			n++
		}
	}
	return n
}

// Pending is the number of buffered puts and deletes.
func (w *Writer) Pending() int { return len(w.pending) + len(w.deleted) }

// Roots are the roots recorded so far.
func (w *Writer) Roots() []string { return append([]string(nil), w.man.Roots...) }

// AddRoots records index roots (absolute, cleaned) for status.
func (w *Writer) AddRoots(roots ...string) {
	set := append([]string(nil), w.man.Roots...)
	for _, r := range roots {
		if !slices.Contains(set, r) {
			set = append(set, r)
		}
	}
	sort.Strings(set)
	if !slices.Equal(set, w.man.Roots) {
		w.man.Roots = set
		w.metaDirty = true
	}
}

// SetModelSource records where the store's model was opened from (see
// Reader.ModelSource), committed with the next Commit.
func (w *Writer) SetModelSource(src string) {
	if w.man.ModelSource != src {
		w.man.ModelSource = src
		w.metaDirty = true
	}
}

// RemoveRoots forgets recorded roots.
func (w *Writer) RemoveRoots(roots ...string) {
	set := slices.DeleteFunc(append([]string(nil), w.man.Roots...), func(r string) bool { return slices.Contains(roots, r) })
	if !slices.Equal(set, w.man.Roots) {
		w.man.Roots = set
		w.metaDirty = true
	}
}

// SetRunStats records the outcome of an index run, written at next Commit.
func (w *Writer) SetRunStats(at time.Time, failed int) {
	w.man.LastIndexed = at.UTC()
	w.man.Failed = failed
	w.metaDirty = true
}

// Commit publishes buffered changes as a new generation: the new segment
// is written and synced, then the MANIFEST is replaced (the commit point),
// then the catalog is updated. A crash before the MANIFEST rename leaves
// the previous generation; after it, the new one (and OpenWriter brings the
// catalog up to date).
func (w *Writer) Commit() error {
	if w.man == nil {
		return ErrClosed
	}
	if w.Pending() == 0 && !w.metaDirty {
		return nil
	}
	next := *w.man
	next.Segments = slices.Clone(w.man.Segments)
	next.Generation++
	var added []*Entry
	var tombs []string
	segs := w.segs
	if w.Pending() > 0 {
		paths := make([]string, 0, len(w.pending))
		for p := range w.pending {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for p := range w.deleted {
			tombs = append(tombs, p)
		}
		sort.Strings(tombs)
		ref, err := writeSegment(w.dir, &segmentData{
			gen: next.Generation, dim: w.man.Binding.Dim, count: len(paths),
			entries:    func(i int) *Entry { return &w.pending[paths[i]].e },
			vector:     func(i int) []float32 { return w.pending[paths[i]].vec },
			tombstones: tombs,
		})
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		s, err := openSegment(w.dir, ref, w.man.Binding.Dim)
		if err != nil {
			os.Remove(filepath.Join(w.dir, ref.Name))
			return fmt.Errorf("commit: reopen new segment: %w", err)
		}
		next.Segments = append(next.Segments, ref)
		next.ContentGen = next.Generation
		segs = append(slices.Clone(w.segs), s)
		for _, p := range paths {
			added = append(added, &w.pending[p].e)
		}
	}
	if err := writeManifest(w.dir, &next); err != nil {
		if len(segs) > len(w.segs) {
			segs[len(segs)-1].close()
			os.Remove(filepath.Join(w.dir, next.Segments[len(next.Segments)-1].Name))
		}
		return fmt.Errorf("commit: %w", err)
	}
	// Committed. Bring the in-memory state along.
	w.man = &next
	w.metaDirty = false
	if len(segs) != len(w.segs) {
		w.segs = segs
		w.v = newView(w.man.Binding.Dim, segs)
		for _, e := range added {
			if e.SHA256 != "" && w.byHash != nil {
				w.byHash[e.SHA256] = e.Path
			}
		}
	}
	w.resetPending()
	if len(added) > 0 || len(tombs) > 0 {
		// A failure here leaves the MANIFEST's catalog record behind the
		// catalog, so the next writer finds it damaged and rebuilds it.
		err := checkCatalog(w.dir, w.man.Catalog, false, nil)
		if err == nil {
			err = w.applyCatalog(added, tombs, w.man.ContentGen)
		}
		if err == nil {
			err = w.recordCatalog()
		}
		if err != nil {
			return fmt.Errorf("commit (entries are saved; the catalog is rebuilt at next index): %w", err)
		}
	}
	return nil
}

// NeedsCompaction reports whether the store has more than one segment or
// tombstones, i.e. whether readers would have to merge.
func (w *Writer) NeedsCompaction() bool {
	return len(w.segs) > 1 || (len(w.segs) == 1 && w.segs[0].hdr.Tombstones > 0)
}

// Compact rewrites all live entries into one segment so readers can map
// the vectors as one contiguous matrix. It commits buffered changes first.
// It costs one sequential rewrite of the store's vectors.
func (w *Writer) Compact() error {
	if err := w.Commit(); err != nil {
		return err
	}
	if !w.NeedsCompaction() {
		return nil
	}
	next := *w.man
	next.Generation++
	v := w.v
	ents := make([]Entry, v.len())
	for id := range ents {
		e, err := v.entry(id)
		if err != nil {
			return fmt.Errorf("compact: %w", err)
		}
		ents[id] = e
	}
	ref, err := writeSegment(w.dir, &segmentData{
		gen: next.Generation, dim: w.man.Binding.Dim, count: len(ents),
		entries: func(i int) *Entry { return &ents[i] },
		vector:  v.vector,
	})
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	ref.Compacted = true
	s, err := openSegment(w.dir, ref, w.man.Binding.Dim)
	if err != nil {
		os.Remove(filepath.Join(w.dir, ref.Name))
		return fmt.Errorf("compact: %w", err)
	}
	next.Segments = []segmentRef{ref}
	if err := writeManifest(w.dir, &next); err != nil {
		s.close()
		os.Remove(filepath.Join(w.dir, ref.Name))
		return fmt.Errorf("compact: %w", err)
	}
	old := w.segs
	w.man = &next
	w.segs = []*segment{s}
	w.v = newView(w.man.Binding.Dim, w.segs)
	// Old files go oldest first; open Readers keep their mappings, and a
	// Reader that read the previous MANIFEST retries on a missing file.
	for _, o := range old {
		o.close()
		os.Remove(filepath.Join(w.dir, o.ref.Name))
	}
	_ = syncDir(w.dir)
	return nil
}

// Close releases the lock and the mappings. Uncommitted changes are lost.
func (w *Writer) Close() error {
	if w == nil {
		return nil
	}
	closeSegments(w.segs)
	w.segs = nil
	w.man = nil
	return w.lock.release()
}

// syncCatalog brings the catalog up to the manifest's ContentGen: applies
// the delta segments it missed, or rebuilds it when that is not possible
// (missing, damaged, or a compaction swallowed the deltas) or when forced.
// bleve opens the catalog only after its files passed checkCatalog (size
// and checksum of each, whatever the catalog's size: an index run can
// afford one read of it). A MANIFEST without a catalog record (a store
// written before there was one) is trusted and recorded now.
func (w *Writer) syncCatalog(force bool) error {
	w.catHashes = catalogHashes{}
	var damage error
	if !force && w.man.Catalog != nil {
		damage = checkCatalog(w.dir, w.man.Catalog, true, w.catHashes)
		if damage != nil && !errors.Is(damage, ErrCatalogDamaged) {
			return damage
		}
	}
	inStep, format := false, uint32(0)
	if !force && damage == nil {
		// A catalog of another format is rebuilt: its mapping analyses
		// fields (and so filters) as the build that created it did.
		format, inStep = w.catalogInStep()
		if !inStep && format == catalogFormat && w.replayCatalog() == nil {
			_, inStep = w.catalogInStep()
		}
	}
	if !inStep {
		if err := rebuildCatalog(w.dir, w.v, w.man.ContentGen); err != nil {
			return fmt.Errorf("rebuild catalog: %w", err)
		}
		switch {
		case damage != nil:
			w.repaired = append(w.repaired, fmt.Sprintf("rebuilt the metadata catalog (%v)", damage))
		case format != 0 && format != catalogFormat && w.v.len() > 0:
			w.repaired = append(w.repaired, fmt.Sprintf("rebuilt the metadata catalog in format %d (it was in format %d)", catalogFormat, format))
		case force || w.v.len() > 0:
			w.repaired = append(w.repaired, "rebuilt metadata catalog")
		}
	}
	return w.recordCatalog()
}

// recordCatalog records the catalog's files in the MANIFEST when they
// changed. It is not a new generation: the entries are the same.
func (w *Writer) recordCatalog() error {
	files, err := sumCatalog(w.dir, w.catHashes)
	if err != nil {
		return err
	}
	if w.man.Catalog != nil && slices.Equal(files, w.man.Catalog) {
		return nil
	}
	next := *w.man
	next.Catalog = files
	if err := writeManifest(w.dir, &next); err != nil {
		return err
	}
	w.man = &next
	return nil
}

// catalogInStep reports the catalog's format (0 when it cannot be
// opened) and whether it is in step: of this build's format, carrying the
// manifest's ContentGen and as many documents as there are entries. It
// opens the catalog read-only: a read-write open may let bleve tidy its
// files.
func (w *Writer) catalogInStep() (format uint32, inStep bool) {
	idx, err := openCatalog(w.dir, true)
	if err != nil {
		return 0, false
	}
	defer idx.Close()
	format = readCatalogFormat(idx)
	g, ok := readCatalogGen(idx)
	n, err := idx.DocCount()
	return format, format == catalogFormat && ok && err == nil && g == w.man.ContentGen && int(n) == w.v.len()
}

// replayCatalog applies the delta segments newer than the catalog's
// generation, when they are all still there.
func (w *Writer) replayCatalog() error {
	idx, err := openCatalog(w.dir, true)
	if err != nil {
		return err
	}
	g, ok := readCatalogGen(idx)
	idx.Close()
	if !ok || g > w.man.ContentGen {
		return ErrCatalogStale
	}
	for _, s := range w.segs {
		if s.ref.Gen > g && s.ref.Compacted {
			return ErrCatalogStale
		}
	}
	for _, s := range w.segs {
		if s.ref.Gen <= g {
			continue
		}
		added := make([]*Entry, 0, s.len())
		for i := 0; i < s.len(); i++ {
			e, err := s.entry(i)
			if err != nil {
				return err
			}
			added = append(added, &e)
		}
		if err := w.applyCatalog(added, s.tombs, s.ref.Gen); err != nil {
			return err
		}
	}
	return nil
}

// applyCatalog indexes added entries, deletes tombstoned paths and stamps
// gen, in one bleve batch.
func (w *Writer) applyCatalog(added []*Entry, tombs []string, gen uint64) error {
	idx, err := openCatalog(w.dir, false)
	if err != nil {
		return err
	}
	b := idx.NewBatch()
	for _, t := range tombs {
		b.Delete(t)
	}
	for _, e := range added {
		if err := b.Index(e.Path, catalogDoc(e)); err != nil {
			idx.Close()
			return fmt.Errorf("catalog: %w", err)
		}
	}
	b.SetInternal(catalogGenKey, genBytes(gen))
	if err := idx.Batch(b); err != nil {
		idx.Close()
		return fmt.Errorf("catalog: %w", err)
	}
	return idx.Close()
}
