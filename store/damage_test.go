package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// damage is one way a file of a committed store goes bad.
type damage struct {
	name  string
	apply func(t *testing.T, path string)
}

var damages = []damage{
	{"flip", func(t *testing.T, p string) { flipByte(t, p, -1) }},
	{"truncate", func(t *testing.T, p string) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, st.Size()/2); err != nil {
			t.Fatal(err)
		}
	}},
	{"zero", func(t *testing.T, p string) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, st.Size()), 0o644); err != nil {
			t.Fatal(err)
		}
	}},
	{"delete", func(t *testing.T, p string) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}},
}

// flipByte inverts the bits of one byte of path: at off, or (off < 0) in
// the middle of the file (an empty file gets one byte).
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		data = []byte{0} // LOCK: empty once its writer is gone
	}
	if off < 0 {
		off = int64(len(data) / 2)
	}
	data[off] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// flipCatalogFooter flips a byte in the footer of every bleve segment file
// of the store's catalog: the byte bleve reads as an offset into the file,
// which made it panic with a slice out of range before the catalog was
// checked against the MANIFEST.
func flipCatalogFooter(t *testing.T, dir string) {
	t.Helper()
	zaps, _ := filepath.Glob(filepath.Join(dir, catalogName, "store", "*.zap"))
	if len(zaps) == 0 {
		t.Fatal("catalog has no segment file")
	}
	for _, z := range zaps {
		st, err := os.Stat(z)
		if err != nil {
			t.Fatal(err)
		}
		flipByte(t, z, st.Size()-35)
	}
}

func copyStore(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "store")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// filterPaths is the paths a filter lets through.
func filterPaths(r *Reader, allow func(int) bool) []string {
	var got []string
	for id := 0; id < r.Len(); id++ {
		if allow(id) {
			got = append(got, r.Path(id))
		}
	}
	return got
}

// TestCatalogDamageRefused: a flipped byte in the catalog is refused before
// bleve opens it (it used to panic), VerifyCatalog says so, and a plain writer
// (any `embedsearch index`) rebuilds it.
func TestCatalogDamageRefused(t *testing.T) {
	base, w := committedStore(t, "/a/1.jpg", "/a/2.png", "/b/3.jpg")
	w.Close()
	dir := copyStore(t, base)
	flipCatalogFooter(t, dir)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Filter("ext:jpg"); !errors.Is(err, ErrCatalogDamaged) || !strings.Contains(err.Error(), ".zap: checksum mismatch") {
		t.Fatalf("Filter on a damaged catalog: %v", err)
	}
	if err := r.Verify(); err != nil {
		t.Fatalf("Verify (segments) on a damaged catalog: %v", err)
	}
	if err := r.VerifyCatalog(); !errors.Is(err, ErrCatalogDamaged) {
		t.Fatalf("VerifyCatalog on a damaged catalog: %v", err)
	}
	w, err = OpenWriter(dir, testBinding, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep := strings.Join(w.Repairs(), "; "); !strings.Contains(rep, "rebuilt the metadata catalog (catalog damaged") {
		t.Fatalf("repairs: %q", rep)
	}
	w.Close()
	r2 := checkReader(t, dir, []string{"/a/1.jpg", "/a/2.png", "/b/3.jpg"})
	allow, err := r2.Filter("ext:jpg")
	if err != nil {
		t.Fatal(err)
	}
	if got := filterPaths(r2, allow); !slices.Equal(got, []string{"/a/1.jpg", "/b/3.jpg"}) {
		t.Fatalf("filter after rebuild: %v", got)
	}
}

// TestCatalogSizesAboveLimit: above catalogSumLimit a query checks sizes
// only (a truncated file is still refused before bleve maps it, and a
// panic while bleve opens a damaged file is caught); VerifyCatalog checks
// checksums whatever the size.
func TestCatalogSizesAboveLimit(t *testing.T) {
	old := catalogSumLimit
	catalogSumLimit = 0
	t.Cleanup(func() { catalogSumLimit = old })
	base, w := committedStore(t, "/a/1.jpg", "/a/2.png")
	w.Close()

	dir := copyStore(t, base)
	bolt := filepath.Join(dir, catalogName, "store", "root.bolt")
	data, _ := os.ReadFile(bolt)
	data[len(data)-1] ^= 0xff // a free page: bleve does not read it
	os.WriteFile(bolt, data, 0o644)
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if allow, err := r.Filter("ext:png"); err != nil || !slices.Equal(filterPaths(r, allow), []string{"/a/2.png"}) {
		t.Fatalf("Filter above the limit, same sizes: %v", err)
	}
	if err := r.VerifyCatalog(); !errors.Is(err, ErrCatalogDamaged) {
		t.Fatalf("VerifyCatalog: %v", err)
	}

	// A byte bleve reads as an offset: it panics, in the filtering
	// goroutine, and that is caught.
	dir = copyStore(t, base)
	flipCatalogFooter(t, dir)
	r1, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	if _, err := r1.Filter("ext:png"); !errors.Is(err, ErrCatalogDamaged) || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("Filter on a damaged catalog above the limit: %v", err)
	}

	dir = copyStore(t, base)
	zaps, _ := filepath.Glob(filepath.Join(dir, catalogName, "store", "*.zap"))
	st, _ := os.Stat(zaps[0])
	os.Truncate(zaps[0], st.Size()-1)
	r2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.Filter("ext:png"); !errors.Is(err, ErrCatalogDamaged) || !strings.Contains(err.Error(), "bytes, the last commit left") {
		t.Fatalf("Filter on a truncated catalog file: %v", err)
	}
}

// TestCatalogRecordUpgrade: a MANIFEST written before catalog records
// still opens and filters; the next writer records the catalog.
func TestCatalogRecordUpgrade(t *testing.T) {
	dir, w := committedStore(t, "/a/1.jpg", "/a/2.png")
	w.Close()
	man, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Catalog) == 0 || catalogBytes(man.Catalog) == 0 {
		t.Fatalf("commit recorded no catalog: %+v", man.Catalog)
	}
	man.Catalog = nil
	if err := writeManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	r := checkReader(t, dir, []string{"/a/1.jpg", "/a/2.png"})
	if r.CatalogRecorded() {
		t.Fatal("CatalogRecorded on an old MANIFEST")
	}
	if allow, err := r.Filter("ext:png"); err != nil || !slices.Equal(filterPaths(r, allow), []string{"/a/2.png"}) {
		t.Fatalf("Filter on an old MANIFEST: %v", err)
	}
	w = openW(t, dir)
	if len(w.Repairs()) != 0 {
		t.Fatalf("upgrade rebuilt: %v", w.Repairs())
	}
	w.Close()
	r2 := checkReader(t, dir, []string{"/a/1.jpg", "/a/2.png"})
	if !r2.CatalogRecorded() {
		t.Fatal("the writer did not record the catalog")
	}
}

// TestBleveLogSilenced: bleve logs through the standard library's logger
// when it cannot load a catalog; none of it may reach stderr. The child
// filters a truncated catalog of a store whose MANIFEST has no catalog
// record (so bleve does open it).
func TestBleveLogSilenced(t *testing.T) {
	if dir := os.Getenv("STORE_TEST_LEGACY_FILTER"); dir != "" {
		r, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Filter("ext:jpg")
		fmt.Println("filter:", err)
		return
	}
	dir, w := committedStore(t, "/a/1.jpg", "/a/2.png")
	w.Close()
	man, _ := readManifest(dir)
	man.Catalog = nil
	writeManifest(dir, man)
	zaps, _ := filepath.Glob(filepath.Join(dir, catalogName, "store", "*.zap"))
	st, _ := os.Stat(zaps[0])
	os.Truncate(zaps[0], st.Size()/2)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBleveLogSilenced$", "-test.v")
	cmd.Env = append(os.Environ(), "STORE_TEST_LEGACY_FILTER="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	if !strings.Contains(string(out), "filter:") {
		t.Fatalf("child did not filter: %s %s", out, stderr.String())
	}
	if stderr.Len() > 0 || strings.Contains(string(out), "unable to load") {
		t.Fatalf("bleve logged:\nstdout %s\nstderr %s", out, stderr.String())
	}
}

// TestFilterWhileWriting: a reader filtering while a writer commits never
// sees the catalog as damaged, though the catalog changes before the
// MANIFEST that records it.
func TestFilterWhileWriting(t *testing.T) {
	dir, w := committedStore(t, "/a/0.jpg")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var filterErr error
	filters := 0
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := r.Filter("ext:jpg"); err != nil {
				filterErr = err
				return
			}
			filters++
		}
	})
	for i := 1; i <= 15; i++ {
		put(t, w, fmt.Sprintf("/a/%d.jpg", i))
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if filterErr != nil {
		t.Fatalf("filter during commits: %v", filterErr)
	}
	t.Logf("%d filters during 15 commits", filters)
}

// storeFile is one file of a committed store, for the damage table.
type storeFile struct {
	name string // relative path
	// derived: damage costs no entries (the catalog, the ANN file, the
	// lock); otherwise a repair may drop a segment's entries.
	derived bool
}

// damageTableStore builds a store with two segments (the second replaces
// one entry and deletes another), a catalog and an ANN file.
func damageTableStore(t *testing.T) (dir string, files []storeFile, all []string, annPayload string) {
	t.Helper()
	dir = t.TempDir()
	w := openW(t, dir)
	put(t, w, "/a/1.jpg", "/a/2.png", "/a/3.jpg", "/b/4.jpg")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	put(t, w, "/b/5.png", "/a/3.jpg")
	w.Delete("/a/2.png")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	annPayload = "graph over 4 ids, not decoded by the store"
	if err := w.WriteANN(0, func(out io.Writer) (int64, error) {
		n, err := io.WriteString(out, annPayload)
		return int64(n), err
	}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	man, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range man.Segments {
		files = append(files, storeFile{s.Name, false})
	}
	filepath.WalkDir(filepath.Join(dir, catalogName), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, storeFile{filepath.ToSlash(rel), true})
		}
		return nil
	})
	files = append(files, storeFile{manifestName, false}, storeFile{annName, true}, storeFile{lockName, true})
	return dir, files, []string{"/a/1.jpg", "/a/2.png", "/a/3.jpg", "/b/4.jpg", "/b/5.png"}, annPayload
}

// TestStoreDamageTable damages each file of a committed store in each way
// and checks that reading, filtering and writing never panic, give either
// the right answer or an error a repair fixes (ErrCorrupt or a catalog
// error, for which the CLI names the repair), and that a repair
// brings back a store that verifies and filters. Vector rows are not
// checked here (a flipped vector byte is found by Verify, not by a query).
func TestStoreDamageTable(t *testing.T) {
	old := catalogWait
	catalogWait = 0
	t.Cleanup(func() { catalogWait = old })
	base, files, all, annPayload := damageTableStore(t)
	live := []string{"/a/1.jpg", "/a/3.jpg", "/b/4.jpg", "/b/5.png"}
	for _, f := range files {
		for _, d := range damages {
			t.Run(strings.ReplaceAll(f.name, "/", "_")+"/"+d.name, func(t *testing.T) {
				dir := copyStore(t, base)
				d.apply(t, filepath.Join(dir, filepath.FromSlash(f.name)))
				repairable := func(what string, err error) {
					t.Helper()
					if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrCatalogDamaged) && !errors.Is(err, ErrCatalogStale) {
						t.Errorf("%s: an error a repair does not fix: %v", what, err)
					}
				}
				// Reading: the right content, or an error a repair fixes.
				if r, err := Open(dir); err != nil {
					repairable("Open", err)
				} else {
					if err := r.Verify(); err != nil {
						repairable("Verify", err)
					} else if f.derived || f.name == manifestName {
						checkContent(t, r, live)
					}
					if err := r.VerifyCatalog(); err != nil {
						repairable("VerifyCatalog", err)
					} else if strings.HasPrefix(f.name, catalogName+"/") {
						t.Errorf("VerifyCatalog found nothing")
					}
					if allow, err := r.Filter("ext:jpg"); err != nil {
						if !errors.Is(err, ErrCatalogDamaged) && !errors.Is(err, ErrCatalogStale) {
							t.Errorf("Filter: %v", err)
						}
						repairable("Filter", err)
					} else if got := filterPaths(r, allow); !slices.Equal(got, []string{"/a/1.jpg", "/a/3.jpg", "/b/4.jpg"}) {
						t.Errorf("Filter ext:jpg = %v", got)
					}
					if payload, _, err := readPayload(t, r.ReadANN); err == nil && payload != annPayload && f.name != annName {
						t.Errorf("ANN payload %q", payload)
					}
					r.MapANN()
					r.Close()
				}
				// A plain writer works or fails with an error a repair fixes.
				if w, err := OpenWriter(dir, testBinding, WriterOptions{}); err != nil {
					repairable("OpenWriter", err)
				} else {
					w.Close()
				}
				// A repair always gives a store that verifies and filters.
				w, err := OpenWriter(dir, testBinding, WriterOptions{Repair: true})
				if err != nil {
					t.Fatalf("repair: %v", err)
				}
				w.Close()
				r, err := Open(dir)
				if err != nil {
					t.Fatalf("after repair: %v", err)
				}
				defer r.Close()
				if err := r.Verify(); err != nil {
					t.Fatalf("Verify after repair: %v", err)
				}
				if err := r.VerifyCatalog(); err != nil {
					t.Fatalf("VerifyCatalog after repair: %v", err)
				}
				var paths []string
				for id := 0; id < r.Len(); id++ {
					e := r.Entry(id)
					if !slices.Contains(all, e.Path) || !slices.Equal(r.Vector(id), testVector(e.Path, testBinding.Dim)) {
						t.Fatalf("after repair: entry %+v", e)
					}
					paths = append(paths, e.Path)
				}
				if f.derived && !slices.Equal(paths, live) {
					t.Fatalf("after repair of a derived file: %v, want %v", paths, live)
				}
				allow, err := r.Filter("ext:png")
				if err != nil {
					t.Fatalf("Filter after repair: %v", err)
				}
				var want []string
				for _, p := range paths {
					if strings.HasSuffix(p, ".png") {
						want = append(want, p)
					}
				}
				if got := filterPaths(r, allow); !slices.Equal(got, want) {
					t.Fatalf("Filter after repair = %v, want %v", got, want)
				}
			})
		}
	}
}
