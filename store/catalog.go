package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
)

// catalogName is the bleve index directory inside the store. It is a
// derived index: everything in it can be rebuilt from the segments.
const catalogName = "catalog"

// catalogGenKey is the bleve internal key holding the manifest ContentGen
// the catalog reflects.
var catalogGenKey = []byte("embedsearch.content_gen")

// catalogFormatKey is the bleve internal key holding the catalog's format
// (catalogFormat, u32), set when the catalog is created. bleve keeps the
// mapping inside the index and analyses queries with it, so a catalog
// answers as the build that created it indexed: a writer rebuilds one of
// another format (syncCatalog), and a reader queries it as it is.
var catalogFormatKey = []byte("embedsearch.catalog_format")

// catalogFormat 2: make, model and camera are split into words and
// lower-cased, with every word kept and its position (1 had no key: the
// standard analyzer, which drops English stopwords such as "a", "it" and
// "on", so make:A found nothing, and no positions, so a quoted make
// found nothing).
const catalogFormat = 2

// catalogTimeout bounds how long a writer or reader waits for the other's
// hold on bleve's own lock (held only for the duration of one batch or
// one filter query).
const catalogTimeout = "10s"

func init() {
	// scorch logs through the standard library's default logger
	// ("unable to load snapshot ..."), which would put timestamped lines
	// on the CLI's stderr. Libraries never print, and nothing else in
	// embedsearch uses package log. bleve's own logger discards already;
	// it is set too so that a change of that default does not leak.
	log.SetOutput(io.Discard)
	bleve.SetLog(log.New(io.Discard, "", 0))
}

// Filter fields (catalogFields), documented in doc.go. camera is make and
// model together.
const (
	lowerKeyword = "lower_keyword"
	// lowerWords splits on Unicode word boundaries and lower-cases, and
	// keeps every word: a camera make or model is a name, not English
	// text, and short ones ("A", "IT", "ON") are as much a name as
	// "Canon" (the standard analyzer's stopword list would drop them).
	lowerWords = "lower_words"
)

func catalogMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(lowerKeyword, map[string]any{
		"type":          custom.Name,
		"tokenizer":     single.Name,
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(lowerWords, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, err
	}
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	im.DefaultField = "name"
	doc := bleve.NewDocumentStaticMapping()
	field := func(f *mapping.FieldMapping) *mapping.FieldMapping {
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	kw := func(an string) *mapping.FieldMapping {
		f := field(bleve.NewKeywordFieldMapping())
		f.Analyzer = an
		return f
	}
	// Words keep their positions, for a quoted make or model (a phrase
	// query); these fields are a few words long.
	words := func() *mapping.FieldMapping {
		f := field(bleve.NewTextFieldMapping())
		f.Analyzer = lowerWords
		f.IncludeTermVectors = true
		return f
	}
	for _, f := range catalogFields {
		switch f.kind {
		case fieldExact:
			doc.AddFieldMappingsAt(f.name, kw(keyword.Name))
		case fieldLower:
			doc.AddFieldMappingsAt(f.name, kw(lowerKeyword))
		case fieldWords:
			doc.AddFieldMappingsAt(f.name, words())
		case fieldNumber:
			doc.AddFieldMappingsAt(f.name, field(bleve.NewNumericFieldMapping()))
		case fieldDate:
			doc.AddFieldMappingsAt(f.name, field(bleve.NewDateTimeFieldMapping()))
		}
	}
	im.DefaultMapping = doc
	return im, nil
}

// catalogDoc is the document indexed for an entry.
func catalogDoc(e *Entry) map[string]any {
	name := filepath.Base(e.Path)
	d := map[string]any{
		"path":   e.Path,
		"dir":    filepath.Dir(e.Path),
		"name":   name,
		"ext":    strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), "."),
		"size":   float64(e.Size),
		"mtime":  e.ModTime,
		"width":  float64(e.Width),
		"height": float64(e.Height),
		"format": e.Format,
		"gps":    strconv.FormatBool(gpsOK(e.GPS)),
	}
	if e.SHA256 != "" {
		d["hash"] = e.SHA256
	}
	if timeOK(e.Taken) {
		d["taken"] = e.Taken
	}
	if e.Make != "" {
		d["make"] = e.Make
	}
	if e.Model != "" {
		d["model"] = e.Model
	}
	if cam := strings.TrimSpace(e.Make + " " + e.Model); cam != "" {
		d["camera"] = cam
	}
	if gpsOK(e.GPS) {
		d["lat"], d["lon"] = e.GPS.Lat, e.GPS.Lon
	}
	return d
}

// openCatalog opens the store's catalog. A writer creates it when missing.
func openCatalog(dir string, readOnly bool) (bleve.Index, error) {
	path := filepath.Join(dir, catalogName)
	cfg := map[string]any{"bolt_timeout": catalogTimeout}
	if readOnly {
		cfg["read_only"] = true
	}
	idx, err := bleve.OpenUsing(path, cfg)
	if err == nil || readOnly || !errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if err != nil {
			return nil, fmt.Errorf("open catalog: %w", err)
		}
		return idx, nil
	}
	im, err := catalogMapping()
	if err != nil {
		return nil, err
	}
	idx, err = bleve.NewUsing(path, im, scorch.Name, scorch.Name, map[string]any{"bolt_timeout": catalogTimeout})
	if err != nil {
		return nil, fmt.Errorf("create catalog: %w", err)
	}
	if err := idx.SetInternal(catalogFormatKey, binary.LittleEndian.AppendUint32(nil, catalogFormat)); err != nil {
		idx.Close()
		return nil, fmt.Errorf("create catalog: %w", err)
	}
	return idx, nil
}

// readCatalogFormat is the catalog's format: 1 for a catalog created
// before formats were recorded.
func readCatalogFormat(idx bleve.Index) uint32 {
	b, err := idx.GetInternal(catalogFormatKey)
	if err != nil || len(b) != 4 {
		return 1
	}
	return binary.LittleEndian.Uint32(b)
}

func readCatalogGen(idx bleve.Index) (uint64, bool) {
	b, err := idx.GetInternal(catalogGenKey)
	if err != nil || len(b) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

func genBytes(g uint64) []byte { return binary.LittleEndian.AppendUint64(nil, g) }

// catalogBatchSize bounds the memory of one bleve batch during a rebuild.
const catalogBatchSize = 2000

// rebuildCatalog replaces the catalog with one built from the live entries
// of v, and stamps it with gen.
func rebuildCatalog(dir string, v *view, gen uint64) error {
	if err := os.RemoveAll(filepath.Join(dir, catalogName)); err != nil {
		return fmt.Errorf("remove catalog: %w", err)
	}
	idx, err := openCatalog(dir, false)
	if err != nil {
		return err
	}
	b := idx.NewBatch()
	for id := 0; id < v.len(); id++ {
		e, err := v.entry(id)
		if err != nil {
			idx.Close()
			return err
		}
		if err := b.Index(e.Path, catalogDoc(&e)); err != nil {
			idx.Close()
			return fmt.Errorf("catalog: %w", err)
		}
		if b.Size() >= catalogBatchSize {
			if err := idx.Batch(b); err != nil {
				idx.Close()
				return fmt.Errorf("catalog: %w", err)
			}
			b = idx.NewBatch()
		}
	}
	b.SetInternal(catalogGenKey, genBytes(gen))
	if err := idx.Batch(b); err != nil {
		idx.Close()
		return fmt.Errorf("catalog: %w", err)
	}
	return idx.Close()
}

// catalogFile is one file of the catalog as the last writer left it; the
// MANIFEST lists them (manifest.Catalog) so that a damaged catalog is
// refused before bleve opens it: bleve trusts its files, and a flipped
// byte panics (in its own goroutines too) while a truncated file it maps
// faults the process.
type catalogFile struct {
	Name string `json:"name"` // relative to catalog/, slash-separated
	Size int64  `json:"size"`
	CRC  uint32 `json:"crc32c"`
}

// catalogSumLimit is the largest catalog whose checksums Reader.Filter
// reads on every query. BenchmarkCatalogCheck (busy 2-core machine, warm
// page cache; the catalog takes ~1.7 KB per image): 20,000 images, 35 MB,
// checksums 8–13 ms beside a filter query of 50–94 ms (27 ms when the
// catalog's pages were dropped from the cache); 100,000 images, 169 MB,
// 112 ms beside 313 ms, and a cold cache makes it grow with the whole
// catalog while the query reads only the parts it needs. Up to this limit
// (~40,000 images) checksums add about a sixth to a filter query. Above
// it Filter checks every file's size only, which still keeps bleve from
// mapping a truncated file; a byte damaged in place is then found by the
// next OpenWriter (every `index`) or Reader.VerifyCatalog (`status
// --verify`), which read the checksums whatever the size.
var catalogSumLimit int64 = 64 << 20 // a variable for tests

// hashedFile is a checksum a writer computed or verified, from reading
// the file at hashedAt.
type hashedFile struct {
	size     int64
	mtime    time.Time
	hashedAt time.Time
	crc      uint32
}

// still reports whether the checksum still holds for a file of size and
// mtime. As in git's index, a file modified shortly before it was hashed
// may change again without its mtime changing (timestamps have a coarse
// tick), so it is hashed again.
func (h hashedFile) still(size int64, mtime time.Time) bool {
	return h.size == size && h.mtime.Equal(mtime) && mtime.Before(h.hashedAt.Add(-time.Second))
}

// catalogHashes lets a writer re-record the catalog after a commit by
// reading only what bleve wrote since (its segment files are written once;
// root.bolt, which changes in place, is small).
type catalogHashes map[string]hashedFile

func fileCRC(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

// sumCatalog lists the catalog's files with sizes and checksums, in name
// order, reusing known checksums (and adding the new ones to known).
func sumCatalog(dir string, known catalogHashes) ([]catalogFile, error) {
	root := filepath.Join(dir, catalogName)
	var files []catalogFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%w: %s/%s is not a regular file", ErrCatalogDamaged, catalogName, rel)
		}
		name := filepath.ToSlash(rel)
		k, ok := known[name]
		if !ok || !k.still(st.Size(), st.ModTime()) {
			at := time.Now()
			crc, err := fileCRC(p)
			if err != nil {
				return err
			}
			k = hashedFile{size: st.Size(), mtime: st.ModTime(), hashedAt: at, crc: crc}
			if known != nil {
				known[name] = k
			}
		}
		files = append(files, catalogFile{Name: name, Size: st.Size(), CRC: k.crc})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	slices.SortFunc(files, func(a, b catalogFile) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// checkCatalog compares the catalog's files with want (what the MANIFEST
// recorded): every file must be there with its size and, when sums is
// set, its checksum. Files not in want are ignored: bleve reads only the
// files its root.bolt names, and root.bolt is in want. Verified checksums
// go into known when it is not nil.
func checkCatalog(dir string, want []catalogFile, sums bool, known catalogHashes) error {
	for _, f := range want {
		p := filepath.Join(dir, catalogName, filepath.FromSlash(f.Name))
		st, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%w: %s/%s is missing", ErrCatalogDamaged, catalogName, f.Name)
		case err != nil:
			return fmt.Errorf("catalog: %w", err)
		case !st.Mode().IsRegular() || st.Size() != f.Size:
			return fmt.Errorf("%w: %s/%s is %d bytes, the last commit left %d", ErrCatalogDamaged, catalogName, f.Name, st.Size(), f.Size)
		}
		if !sums {
			continue
		}
		at := time.Now()
		crc, err := fileCRC(p)
		if err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
		if crc != f.CRC {
			return fmt.Errorf("%w: %s/%s: checksum mismatch", ErrCatalogDamaged, catalogName, f.Name)
		}
		if known != nil {
			known[f.Name] = hashedFile{size: st.Size(), mtime: st.ModTime(), hashedAt: at, crc: crc}
		}
	}
	return nil
}

// catalogBytes is the total size of the recorded catalog files.
func catalogBytes(files []catalogFile) int64 {
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n
}
