package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Reader is a read-only snapshot of the last committed generation. It is
// safe for concurrent use. Slices it returns point into memory maps and
// stay valid until Close.
type Reader struct {
	dir  string
	man  *manifest
	segs []*segment
	v    *view

	matOnce sync.Once
	mat     []float32

	annMu   sync.Mutex
	ann     []byte // MapANN's mapping of the ANN file, unmapped by Close
	annInfo ANNInfo
}

// Open opens the store in dir for reading. It maps the segments and checks
// headers and entry tables; it neither decodes entries nor reads vectors
// (Verify does). It takes no lock: a writer may commit meanwhile, and the
// Reader keeps seeing the generation it opened.
func Open(dir string) (*Reader, error) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for attempt := 0; ; attempt++ {
		man, err := readManifest(dir)
		if err != nil {
			return nil, err
		}
		segs, err := openSegments(dir, man)
		if err != nil {
			// A writer may have committed and removed a segment between
			// reading the manifest and opening it: read the manifest again.
			if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
				if m2, e2 := readManifest(dir); e2 == nil && m2.Generation != man.Generation {
					continue
				}
			}
			return nil, fmt.Errorf("open store %s: %w", dir, err)
		}
		return &Reader{dir: dir, man: man, segs: segs, v: newView(man.Binding.Dim, segs)}, nil
	}
}

func openSegments(dir string, man *manifest) ([]*segment, error) {
	segs := make([]*segment, 0, len(man.Segments))
	for _, ref := range man.Segments {
		s, err := openSegment(dir, ref, man.Binding.Dim)
		if err != nil {
			closeSegments(segs)
			return nil, err
		}
		segs = append(segs, s)
	}
	return segs, nil
}

func closeSegments(segs []*segment) {
	for _, s := range segs {
		s.close()
	}
}

// Close unmaps the store; slices from Vectors and Vector become invalid.
func (r *Reader) Close() error {
	closeSegments(r.segs)
	r.segs = nil
	r.annMu.Lock()
	if r.ann != nil {
		unmapFile(r.ann)
		r.ann = nil
	}
	r.annMu.Unlock()
	return nil
}

// Dir is the store directory.
func (r *Reader) Dir() string { return r.dir }

// Len is the number of live entries; ids are 0..Len()-1 in path order.
func (r *Reader) Len() int { return r.v.len() }

// Dim is the vector dimension.
func (r *Reader) Dim() int { return r.man.Binding.Dim }

// Model is the model binding of the store.
func (r *Reader) Model() Binding { return r.man.Binding }

// Generation is the committed generation this Reader sees.
func (r *Reader) Generation() uint64 { return r.man.Generation }

// ModelSource is where the store's model was opened from, when that was
// not a registered name: a model folder. "" for registered models (the
// model id finds them) and for stores that did not record it.
func (r *Reader) ModelSource() string { return r.man.ModelSource }

// Roots are the folders and files given to the last index runs.
func (r *Reader) Roots() []string { return append([]string(nil), r.man.Roots...) }

// LastIndexed is when an index run last committed (zero if never).
func (r *Reader) LastIndexed() time.Time { return r.man.LastIndexed }

// Failed is the number of files that failed in the last index run.
func (r *Reader) Failed() int { return r.man.Failed }

// Segments is the number of segment files; 1 (or 0) when compacted.
func (r *Reader) Segments() int { return len(r.segs) }

// Vectors returns all live vectors, row-major, Len()*Dim() values, row i
// being entry id i. For a compacted store (one segment, the state every
// completed index run leaves) this is the memory-mapped file itself; for a
// store with several segments (an index run in progress or interrupted) it
// is a copy merged on the first call.
func (r *Reader) Vectors() []float32 {
	r.matOnce.Do(func() { r.mat = r.v.matrix() })
	return r.mat
}

// Vector returns the vector of id without copying.
func (r *Reader) Vector(id int) []float32 { return r.v.vector(id) }

// Entry returns the entry with the given id. The entry table was checksummed
// at Open, so a record that does not decode means a bug; Entry then returns
// an Entry with only Path set (or empty).
func (r *Reader) Entry(id int) Entry {
	e, err := r.v.entry(id)
	if err != nil {
		return Entry{Path: r.v.path(id)}
	}
	return e
}

// Signature returns the signature bytes of id without copying (nil when
// the entry has none). A Reader checks the signature section's checksum
// only in Verify and VerifySignatures; until then a slot that does not fit
// reads as none.
func (r *Reader) Signature(id int) []byte { return r.v.signature(id) }

// Signatures counts the entries that have a signature.
func (r *Reader) Signatures() int {
	n := 0
	for id := range r.Len() {
		if r.v.signature(id) != nil {
			n++
		}
	}
	return n
}

// VerifySignatures checks the signature sections against their checksums
// (a fraction of Verify, which checks them too).
func (r *Reader) VerifySignatures() error {
	for _, s := range r.segs {
		if err := s.verifySignatures(); err != nil {
			return err
		}
	}
	return nil
}

// Path returns the path of id, cheaper than Entry.
func (r *Reader) Path(id int) string { return r.v.path(id) }

// Lookup returns the id of an absolute, cleaned path.
func (r *Reader) Lookup(path string) (int, bool) { return r.v.lookup(path) }

// Verify reads everything Open skipped: every vector against its checksum
// and every entry record. It costs one pass over the segments.
func (r *Reader) Verify() error {
	for _, s := range r.segs {
		if err := s.verify(); err != nil {
			return err
		}
	}
	return nil
}

// VerifyCatalog reads every catalog file against the size and checksum
// the MANIFEST records (ErrCatalogDamaged when one differs or is missing),
// whatever the catalog's size (Filter reads checksums only below
// catalogSumLimit). A store written before catalog records existed has
// nothing to check it against (CatalogRecorded is false): nil.
func (r *Reader) VerifyCatalog() error { return r.checkCatalog(true) }

// CatalogRecorded reports whether the MANIFEST records the catalog's
// sizes and checksums; false for a store written before they existed,
// until the next writer records them.
func (r *Reader) CatalogRecorded() bool { return r.man.Catalog != nil }

// checkCatalog checks the catalog's files against the record of the
// current MANIFEST (the catalog is updated in place, so it belongs to the
// latest commit rather than to this snapshot), with checksums when full or
// when the catalog is under catalogSumLimit. A live writer may be between
// a catalog batch and the MANIFEST that records it: while one holds the
// lock, a mismatch is retried for up to catalogWait.
func (r *Reader) checkCatalog(full bool) error {
	deadline := time.Now().Add(catalogWait)
	for {
		man, err := readManifest(r.dir)
		if err != nil {
			return err
		}
		if man.Catalog == nil {
			return nil // written before catalog records: opened unchecked
		}
		err = checkCatalog(r.dir, man.Catalog, full || catalogBytes(man.Catalog) <= catalogSumLimit, nil)
		if !errors.Is(err, ErrCatalogDamaged) || time.Now().After(deadline) || !writerActive(r.dir) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DiskUsage is the total size of the files in the store directory.
func DiskUsage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n, err
}

// catalogWait is how long Filter waits for a writer that has committed
// entries but not yet applied them to the catalog.
var catalogWait = 3 * time.Second

// Filter evaluates a bleve query-string query (fields in doc.go, e.g.
// `ext:png camera:canon width:>1000 taken:>"2021-01-01"`; every clause must
// match, `-field:value` excludes) against the catalog and returns
// an allow function over this Reader's ids.
func (r *Reader) Filter(q string) (func(id int) bool, error) {
	qq, err := parseFilter(q)
	if err != nil {
		return nil, err
	}
	qq = wholeValues(qq)
	deadline := time.Now().Add(catalogWait)
	for {
		allow, err := r.filterOnce(qq)
		if !errors.Is(err, ErrCatalogStale) || time.Now().After(deadline) {
			return allow, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ParseFilter parses and checks a filter as Filter does (ErrBadFilter when
// it does not parse or could only match nothing by mistake): for another
// back end that maps the same clauses onto its own filters. A quoted value
// stays a phrase (query.MatchPhraseQuery) there; Filter reads one on a
// keyword field (path, dir, name, ext, format, hash, gps) as the whole
// value, and one on make, model or camera as words in that order.
func ParseFilter(q string) (query.Query, error) { return parseFilter(q) }

// parseFilter parses a bleve query string and makes every clause without
// a prefix required: a filter narrows, so `ext:png width:>1000` means both
// (bleve's own default would be either).
func parseFilter(q string) (query.Query, error) {
	parsed, err := bleve.NewQueryStringQuery(q).Parse()
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadFilter, q, err)
	}
	bq, ok := parsed.(*query.BooleanQuery)
	if !ok {
		return parsed, checkFilter(q, parsed)
	}
	var must, mustNot []query.Query
	if c, ok := bq.Must.(*query.ConjunctionQuery); ok {
		must = append(must, c.Conjuncts...)
	} else if bq.Must != nil {
		must = append(must, bq.Must)
	}
	if d, ok := bq.Should.(*query.DisjunctionQuery); ok {
		must = append(must, d.Disjuncts...)
	} else if bq.Should != nil {
		must = append(must, bq.Should)
	}
	if d, ok := bq.MustNot.(*query.DisjunctionQuery); ok {
		mustNot = d.Disjuncts
	} else if bq.MustNot != nil {
		mustNot = []query.Query{bq.MustNot}
	}
	if len(must) == 0 {
		must = []query.Query{bleve.NewMatchAllQuery()}
	}
	out := query.NewBooleanQuery(must, nil, mustNot)
	return out, checkFilter(q, out)
}

func (r *Reader) filterOnce(q query.Query) (_ func(id int) bool, err error) {
	bits := make([]uint64, (r.Len()+63)/64)
	allow := func(id int) bool { return id >= 0 && id < r.Len() && bits[id>>6]&(1<<(id&63)) != 0 }
	if r.Len() == 0 {
		return allow, nil
	}
	if _, err := os.Stat(filepath.Join(r.dir, catalogName)); err != nil {
		return nil, fmt.Errorf("%w: %s has no metadata catalog", ErrCatalogStale, r.dir)
	}
	if err := r.checkCatalog(false); err != nil {
		return nil, err
	}
	// A second line for a catalog above catalogSumLimit, whose checksums
	// were not read: bleve decoding a damaged file panics, mostly in this
	// goroutine (opening it); that becomes ErrCatalogDamaged. It cannot
	// reach bleve's own goroutines, hence the check above.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: reading it failed: %v", ErrCatalogDamaged, p)
		}
	}()
	idx, err := openCatalog(r.dir, true)
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	if g, ok := readCatalogGen(idx); !ok || g < r.man.ContentGen {
		return nil, fmt.Errorf("%w: %s", ErrCatalogStale, r.dir)
	}
	total, err := idx.DocCount()
	if err != nil {
		return nil, err
	}
	req := bleve.NewSearchRequestOptions(q, int(total)+1, 0, false)
	req.Score = "none"
	res, err := idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFilter, err)
	}
	for _, h := range res.Hits {
		if id, ok := r.Lookup(h.ID); ok {
			bits[id>>6] |= 1 << (id & 63)
		}
	}
	return allow, nil
}
