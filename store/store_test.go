package store

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func openW(t *testing.T, dir string) *Writer {
	t.Helper()
	w, err := OpenWriter(dir, testBinding, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func put(t *testing.T, w *Writer, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := w.Put(testEntry(p), testVector(p, testBinding.Dim)); err != nil {
			t.Fatal(err)
		}
	}
}

// checkReader opens dir and checks that it holds exactly want (sorted ids =
// path order), each with its own vector, and passes Verify.
func checkReader(t *testing.T, dir string, want []string) *Reader {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	checkContent(t, r, want)
	return r
}

func checkContent(t *testing.T, r *Reader, want []string) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if r.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", r.Len(), len(want))
	}
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	mat := r.Vectors()
	if len(mat) != r.Len()*r.Dim() {
		t.Fatalf("Vectors has %d values, want %d", len(mat), r.Len()*r.Dim())
	}
	for id, p := range want {
		e := r.Entry(id)
		if !reflect.DeepEqual(e, testEntry(p)) {
			t.Fatalf("entry %d = %+v, want %s", id, e, p)
		}
		if got, ok := r.Lookup(p); !ok || got != id {
			t.Fatalf("Lookup(%s) = %d %v, want %d", p, got, ok, id)
		}
		if !slices.Equal(mat[id*r.Dim():(id+1)*r.Dim()], testVector(p, r.Dim())) {
			t.Fatalf("vector of %s differs", p)
		}
	}
	if _, ok := r.Lookup("/not/there"); ok {
		t.Fatal("Lookup found a missing path")
	}
}

func TestWriteReadCompact(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	put(t, w, "/p/3.jpg", "/p/1.jpg", "/p/2.jpg")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	checkReader(t, dir, []string{"/p/1.jpg", "/p/2.jpg", "/p/3.jpg"})

	put(t, w, "/p/0.jpg")
	if !w.Delete("/p/2.jpg") {
		t.Fatal("Delete of a committed entry reported false")
	}
	if w.Delete("/p/nope.jpg") {
		t.Fatal("Delete of a missing entry reported true")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	want := []string{"/p/0.jpg", "/p/1.jpg", "/p/3.jpg"}
	r := checkReader(t, dir, want)
	if r.Segments() != 2 {
		t.Fatalf("segments = %d, want 2 before compaction", r.Segments())
	}
	if !w.NeedsCompaction() {
		t.Fatal("NeedsCompaction false with two segments")
	}
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The reader opened before compaction still reads its (removed) files.
	checkContent(t, r, want)
	r2 := checkReader(t, dir, want)
	if r2.Segments() != 1 {
		t.Fatalf("segments = %d after compaction", r2.Segments())
	}
	names, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	if len(names) != 1 {
		t.Fatalf("old segments not removed: %v", names)
	}
	// Reopen as writer: state survives; re-put replaces.
	w = openW(t, dir)
	defer w.Close()
	if w.Len() != 3 {
		t.Fatalf("writer Len = %d", w.Len())
	}
	if size, mt, ok := w.Stat("/p/3.jpg"); !ok || size != testEntry("/p/3.jpg").Size || !mt.Equal(testEntry("/p/3.jpg").ModTime) {
		t.Fatalf("Stat = %d %v %v", size, mt, ok)
	}
	if _, _, ok := w.Stat("/p/2.jpg"); ok {
		t.Fatal("Stat found a deleted entry")
	}
	e, vec, ok := w.ByHash(testSHA("/p/1.jpg"))
	if !ok || e.Path != "/p/1.jpg" || !slices.Equal(vec, testVector("/p/1.jpg", testBinding.Dim)) {
		t.Fatalf("ByHash: %v %+v", ok, e)
	}
}

func TestModelMismatch(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	w.Close()
	for _, b := range []Binding{
		{ModelID: "other", Digest: "d1", Preprocess: "p1", Dim: 16},
		{ModelID: "test-v1", Digest: "d2", Preprocess: "p1", Dim: 16},
		{ModelID: "test-v1", Digest: "d1", Preprocess: "p2", Dim: 16},
		{ModelID: "test-v1", Digest: "d1", Preprocess: "p1", Dim: 8},
	} {
		_, err := OpenWriter(dir, b, WriterOptions{})
		if !errors.Is(err, ErrModelMismatch) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%+v: %v, want ErrModelMismatch naming the store", b, err)
		}
	}
}

func TestNoStore(t *testing.T) {
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Open of empty dir: %v", err)
	}
}

func TestTwoWriters(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	start := time.Now()
	_, err := OpenWriter(dir, testBinding, WriterOptions{LockWait: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("second writer: %v, want ErrLocked naming PID %d", err, os.Getpid())
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Fatal("second writer did not wait")
	}
	// A waiting writer gets in when the first closes.
	done := make(chan error)
	go func() {
		w2, err := OpenWriter(dir, testBinding, WriterOptions{LockWait: 10 * time.Second})
		if err == nil {
			w2.Close()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	w.Close()
	if err := <-done; err != nil {
		t.Fatalf("waiting writer: %v", err)
	}
}

// TestStaleLock kills a child that holds the lock and checks the next
// writer takes over and names the dead PID.
func TestStaleLock(t *testing.T) {
	if os.Getenv("STORE_TEST_HOLD_LOCK") != "" {
		w, err := OpenWriter(os.Getenv("STORE_TEST_HOLD_LOCK"), testBinding, WriterOptions{})
		if err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("LOCKED")
		time.Sleep(time.Minute)
		w.Close()
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStaleLock$")
	cmd.Env = append(os.Environ(), "STORE_TEST_HOLD_LOCK="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if !strings.Contains(string(buf[:n]), "LOCKED") {
		t.Fatalf("child: %q", buf[:n])
	}
	if _, err := OpenWriter(dir, testBinding, WriterOptions{LockWait: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("while child lives: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	w, err := OpenWriter(dir, testBinding, WriterOptions{LockWait: time.Second})
	if err != nil {
		t.Fatalf("after child died: %v", err)
	}
	defer w.Close()
	if w.StaleLockPID() != cmd.Process.Pid {
		t.Fatalf("StaleLockPID = %d, want %d", w.StaleLockPID(), cmd.Process.Pid)
	}
}

func TestCorruptionAndRepair(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	put(t, w, "/a/1.jpg", "/a/2.jpg")
	w.Commit()
	put(t, w, "/b/1.jpg")
	w.Commit()
	w.Close()

	// Damage one vector of the second segment.
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	slices.Sort(segs)
	f, err := os.OpenFile(segs[1], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff, 0xff}, headerSize+4)
	f.Close()
	r, err := Open(dir) // Open does not read vectors ...
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify: %v", err) // ... Verify does.
	}
	r.Close()
	if _, err := OpenWriter(dir, testBinding, WriterOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("OpenWriter on damaged segment: %v", err)
	}
	w, err = OpenWriter(dir, testBinding, WriterOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Repairs()) == 0 {
		t.Fatal("repair reported nothing")
	}
	w.Close()
	checkReader(t, dir, []string{"/a/1.jpg", "/a/2.jpg"})

	// Damage the MANIFEST: refused, then rebuilt from the segment files.
	os.WriteFile(filepath.Join(dir, manifestName), []byte("ESMANIFS garbage"), 0o644)
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with damaged MANIFEST: %v", err)
	}
	if _, err := OpenWriter(dir, testBinding, WriterOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("OpenWriter with damaged MANIFEST: %v", err)
	}
	w, err = OpenWriter(dir, testBinding, WriterOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r = checkReader(t, dir, []string{"/a/1.jpg", "/a/2.jpg"})
	allow, err := r.Filter("ext:jpg")
	if err != nil || !allow(0) || !allow(1) {
		t.Fatalf("filter after repair: %v", err)
	}
}

func TestDebrisRemoved(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	put(t, w, "/a/1.jpg")
	w.Commit()
	w.Close()
	// What a crash between segment and manifest leaves behind.
	os.WriteFile(filepath.Join(dir, segmentName(99)), []byte("half"), 0o644)
	os.WriteFile(filepath.Join(dir, tempPrefix+"x-MANIFEST"), []byte("half"), 0o644)
	checkReader(t, dir, []string{"/a/1.jpg"})
	w = openW(t, dir)
	w.Close()
	for _, n := range []string{segmentName(99), tempPrefix + "x-MANIFEST"} {
		if _, err := os.Stat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("%s not removed", n)
		}
	}
}

func TestCatalogFilter(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	es := []Entry{
		{Path: "/p/IMG_1.JPG", Size: 10, Width: 4000, Height: 3000, Format: "jpeg", Make: "Canon", Model: "EOS 5D", Taken: time.Date(2022, 1, 2, 0, 0, 0, 0, time.UTC), GPS: &GPS{Lat: 48.8, Lon: 2.3}},
		{Path: "/p/b.png", Size: 20, Width: 800, Height: 600, Format: "png"},
		{Path: "/q/c.jpg", Size: 30, Width: 1200, Height: 900, Format: "jpeg", Make: "NIKON CORPORATION", Model: "D750", Taken: time.Date(2019, 1, 2, 0, 0, 0, 0, time.UTC)},
	}
	for _, e := range es {
		if err := w.Put(e, testVector(e.Path, testBinding.Dim)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for q, want := range map[string][]string{
		"ext:png":                   {"/p/b.png"},
		"ext:jpg":                   {"/p/IMG_1.JPG", "/q/c.jpg"},
		"camera:canon":              {"/p/IMG_1.JPG"},
		"make:nikon":                {"/q/c.jpg"},
		"width:>1000":               {"/p/IMG_1.JPG", "/q/c.jpg"},
		`taken:>"2021-01-01"`:       {"/p/IMG_1.JPG"},
		"gps:true":                  {"/p/IMG_1.JPG"},
		"format:jpeg -camera:canon": {"/q/c.jpg"},
		"-ext:jpg":                  {"/p/b.png"},
		"ext:jpg width:<2000":       {"/q/c.jpg"},
		"dir:/p":                    {"/p/IMG_1.JPG", "/p/b.png"},
		"size:>=20 size:<=20":       {"/p/b.png"},
		"name:img_1.jpg":            {"/p/IMG_1.JPG"},
	} {
		allow, err := r.Filter(q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		var got []string
		for id := 0; id < r.Len(); id++ {
			if allow(id) {
				got = append(got, r.Path(id))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", q, got, want)
		}
	}
	if _, err := r.Filter("width:>>"); !errors.Is(err, ErrBadFilter) {
		t.Errorf("bad filter: %v", err)
	}
	// Delete and re-filter from a new snapshot: the catalog follows.
	w.Delete("/p/b.png")
	w.Commit()
	r2, _ := Open(dir)
	defer r2.Close()
	allow, err := r2.Filter("ext:png")
	if err != nil {
		t.Fatal(err)
	}
	for id := 0; id < r2.Len(); id++ {
		if allow(id) {
			t.Fatalf("deleted png still matches: %s", r2.Path(id))
		}
	}
}

// TestCatalogLagReplayed: a crash between MANIFEST and catalog update
// leaves the catalog one commit behind (and recorded as such in the
// MANIFEST); Filter refuses it, the next writer replays it.
func TestCatalogLagReplayed(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	put(t, w, "/a/1.jpg")
	w.Commit()
	// Snapshot the catalog and its record as they are now, commit more,
	// put the old ones back: what the MANIFEST of the second commit holds
	// until its catalog batch is done.
	snap := t.TempDir()
	if err := os.CopyFS(filepath.Join(snap, "c"), os.DirFS(filepath.Join(dir, catalogName))); err != nil {
		t.Fatal(err)
	}
	record := w.man.Catalog
	put(t, w, "/a/2.png")
	w.Commit()
	w.Close()
	os.RemoveAll(filepath.Join(dir, catalogName))
	if err := os.CopyFS(filepath.Join(dir, catalogName), os.DirFS(filepath.Join(snap, "c"))); err != nil {
		t.Fatal(err)
	}
	man, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	man.Catalog = record
	if err := writeManifest(dir, man); err != nil {
		t.Fatal(err)
	}
	old := catalogWait
	catalogWait = 0
	defer func() { catalogWait = old }()
	r, _ := Open(dir)
	if _, err := r.Filter("ext:png"); !errors.Is(err, ErrCatalogStale) {
		t.Fatalf("filter on lagging catalog: %v", err)
	}
	r.Close()
	w = openW(t, dir)
	if len(w.Repairs()) != 0 {
		t.Fatalf("replay should not need a rebuild: %v", w.Repairs())
	}
	w.Close()
	r = checkReader(t, dir, []string{"/a/1.jpg", "/a/2.png"})
	allow, err := r.Filter("ext:png")
	if err != nil || !allow(1) || allow(0) {
		t.Fatalf("after replay: %v", err)
	}
}

func TestReadOnlyStore(t *testing.T) {
	if os.Getenv("STORE_TEST_RO") != "" {
		_, err := OpenWriter(os.Getenv("STORE_TEST_RO"), testBinding, WriterOptions{})
		fmt.Println("RESULT", errors.Is(err, ErrReadOnly), err)
		os.Exit(0)
	}
	dir := t.TempDir()
	w := openW(t, dir)
	put(t, w, "/a/1.jpg")
	w.Commit()
	w.Close()
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	if os.Geteuid() != 0 {
		_, err := OpenWriter(dir, testBinding, WriterOptions{})
		if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("read-only store: %v", err)
		}
	} else {
		out := runAsNobody(t, "TestReadOnlyStore", "STORE_TEST_RO="+dir)
		if !strings.Contains(out, "RESULT true") || !strings.Contains(out, dir) {
			t.Fatalf("read-only store (as nobody): %s", out)
		}
	}
	// Reading a read-only store works.
	checkReader(t, dir, []string{"/a/1.jpg"})
}

// TestCatalogFilterExact: short makes and models ("A", "IT", "ON", which
// English text analysis drops as stopwords) match as words, any case; a
// quoted value matches a path or name with spaces as a whole, and a
// quoted make or model as a phrase.
func TestCatalogFilterExact(t *testing.T) {
	dir := t.TempDir()
	w := openW(t, dir)
	defer w.Close()
	for _, e := range []Entry{
		{Path: "/p/my photo.jpg", Format: "jpeg", Make: "A", Model: "IT ON"},
		{Path: "/p/photo.jpg", Format: "jpeg", Make: "Canon", Model: "EOS 5D Mark II"},
		{Path: "/x/y.png", Format: "png", Make: "ON", Model: "5D"},
		{Path: "/x/y z/IMG 2.PNG", Format: "png"},
	} {
		if err := w.Put(e, testVector(e.Path, testBinding.Dim)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for q, want := range map[string][]string{
		"make:A":                     {"/p/my photo.jpg"},
		"make:a":                     {"/p/my photo.jpg"},
		"model:it":                   {"/p/my photo.jpg"},
		"make:ON":                    {"/x/y.png"},
		"camera:on":                  {"/p/my photo.jpg", "/x/y.png"},
		"make:canon":                 {"/p/photo.jpg"},
		"-make:A":                    {"/p/photo.jpg", "/x/y z/IMG 2.PNG", "/x/y.png"},
		`make:"A"`:                   {"/p/my photo.jpg"},
		`model:"eos 5d"`:             {"/p/photo.jpg"},
		`model:"5d eos"`:             nil,
		`camera:"a it on"`:           {"/p/my photo.jpg"},
		`path:"/x/y.png"`:            {"/x/y.png"},
		`path:"/p/my photo.jpg"`:     {"/p/my photo.jpg"},
		`path:"/p/MY photo.jpg"`:     nil,
		`name:"my photo.jpg"`:        {"/p/my photo.jpg"},
		`name:"img 2.png"`:           {"/x/y z/IMG 2.PNG"},
		`"My Photo.jpg"`:             {"/p/my photo.jpg"},
		`name:"photo.jpg"`:           {"/p/photo.jpg"},
		`dir:"/x/y z"`:               {"/x/y z/IMG 2.PNG"},
		`-dir:"/x/y z" format:png`:   {"/x/y.png"},
		`name:"my*"`:                 nil,
		`ext:"png" -path:"/x/y.png"`: {"/x/y z/IMG 2.PNG"},
	} {
		allow, err := r.Filter(q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if got := filterPaths(r, allow); !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
}

// TestCatalogFormat1: a store whose catalog an earlier build wrote
// (testdata/catalog-format1: format 1, make and model without stopwords
// or positions) is read as it is, quoted paths and names included, and
// the next writer rebuilds its catalog in this build's format, with the
// entries and vectors unchanged: then make:A and a quoted model match.
func TestCatalogFormat1(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "catalog-format1"))); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "README.md"))
	b := Binding{ModelID: "test-v1", Digest: "d1", Preprocess: "p1", Dim: 4}
	paths := []string{"/photos/canon.jpg", "/photos/my photo.jpg", "/photos/y z/b.png"}
	filter := func(r *Reader, q string, want ...string) {
		t.Helper()
		allow, err := r.Filter(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := filterPaths(r, allow); !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", q, got, want)
		}
	}
	check := func(r *Reader) {
		t.Helper()
		if err := r.Verify(); err != nil {
			t.Fatal(err)
		}
		if r.Len() != len(paths) || r.Model() != b {
			t.Fatalf("%d entries of %+v, want %d of %+v", r.Len(), r.Model(), len(paths), b)
		}
		for id, p := range paths {
			e := r.Entry(id)
			v := []float32{0, 0, 0, 0}
			v[map[string]int{"/photos/my photo.jpg": 0, "/photos/canon.jpg": 1, "/photos/y z/b.png": 2}[p]] = 1
			if e.Path != p || !slices.Equal(r.Vector(id), v) {
				t.Errorf("entry %d: %s %v, want %s %v", id, e.Path, r.Vector(id), p, v)
			}
		}
		filter(r, "ext:jpg", paths[:2]...)
		filter(r, "make:canon", paths[0])
		filter(r, `path:"/photos/my photo.jpg"`, paths[1])
		filter(r, `name:"My Photo.jpg"`, paths[1])
		filter(r, `dir:"/photos/y z"`, paths[2])
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(r)
	r.Close()

	w, err := OpenWriter(dir, b, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.Repairs(), "; "); got != "rebuilt the metadata catalog in format 2 (it was in format 1)" {
		t.Errorf("repairs: %q", got)
	}
	w.Close()
	if r, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	check(r)
	filter(r, "make:A", paths[1])
	filter(r, "camera:on", paths[1])
	filter(r, `model:"eos 5d"`, paths[0])
	filter(r, `model:"it on"`, paths[1])

	// In step now: the next writer keeps the catalog.
	w, err = OpenWriter(dir, b, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Repairs()) != 0 {
		t.Errorf("second writer: %q", w.Repairs())
	}
	w.Close()
}
