package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
)

// catalogName is the bleve index directory inside the store. It is a
// derived index: everything in it can be rebuilt from the segments.
const catalogName = "catalog"

// catalogGenKey is the bleve internal key holding the manifest ContentGen
// the catalog reflects.
var catalogGenKey = []byte("embedsearch.content_gen")

// catalogTimeout bounds how long a writer or reader waits for the other's
// hold on bleve's own lock (held only for the duration of one batch or
// one filter query).
const catalogTimeout = "10s"

// Filter fields, documented in doc.go. camera is make and model together.
const lowerKeyword = "lower_keyword"

func catalogMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(lowerKeyword, map[string]any{
		"type":          custom.Name,
		"tokenizer":     single.Name,
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
	text := func() *mapping.FieldMapping {
		f := field(bleve.NewTextFieldMapping())
		f.Analyzer = "standard"
		return f
	}
	for _, name := range []string{"path", "dir", "hash", "gps"} {
		doc.AddFieldMappingsAt(name, kw(keyword.Name))
	}
	for _, name := range []string{"name", "ext", "format"} {
		doc.AddFieldMappingsAt(name, kw(lowerKeyword))
	}
	for _, name := range []string{"make", "model", "camera"} {
		doc.AddFieldMappingsAt(name, text())
	}
	for _, name := range []string{"size", "width", "height", "lat", "lon"} {
		doc.AddFieldMappingsAt(name, field(bleve.NewNumericFieldMapping()))
	}
	for _, name := range []string{"mtime", "taken"} {
		doc.AddFieldMappingsAt(name, field(bleve.NewDateTimeFieldMapping()))
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
	return idx, nil
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
