package index

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/store"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

func runIndex(t *testing.T, storeDir string, enc Embedder, b store.Binding, o Options) Stats {
	t.Helper()
	w, err := store.OpenWriter(storeDir, b, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st, err := Run(context.Background(), w, enc, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestIncremental(t *testing.T) {
	src := testenv.SharedData(t, "caltech101-neardup")
	enc, m := testEncoder(t)
	fresh := &freshVectors{enc: enc}
	b := Binding(m)
	root := t.TempDir()
	sdir := filepath.Join(t.TempDir(), "store")
	files := copyImages(t, filepath.Join(src, "dups"), filepath.Join(root, "photos"), 24)
	copyImages(t, filepath.Join(src, "distractors"), filepath.Join(root, "photos", "more"), 6)
	// Things the walker must skip.
	copyFile(t, files[0], filepath.Join(root, "photos", ".hidden.jpg"))
	copyFile(t, files[0], filepath.Join(root, "photos", "@eaDir", "thumb.jpg"))
	copyFile(t, files[0], filepath.Join(root, "photos", "node_modules", "x.jpg"))
	os.WriteFile(filepath.Join(root, "photos", "notes.txt"), []byte("not an image"), 0o644)
	os.Symlink(files[1], filepath.Join(root, "photos", "link.jpg"))

	st := runIndex(t, sdir, enc, b, Options{Roots: []string{filepath.Join(root, "photos")}})
	all := imagesUnder(t, filepath.Join(root, "photos"))
	if st.New != len(all) || st.Scanned != len(all) || st.Failed != 0 {
		t.Fatalf("first run: %+v, want %d new", st, len(all))
	}
	checkStore(t, sdir, all, fresh)

	// Unchanged re-run: nothing embedded.
	st = runIndex(t, sdir, enc, b, Options{Roots: []string{filepath.Join(root, "photos")}})
	if st.Unchanged != len(all) || st.New+st.Changed+st.Moved+st.Removed+st.Embedded != 0 {
		t.Fatalf("unchanged run: %+v", st)
	}

	// Now change the tree.
	p := func(rel string) string { return filepath.Join(root, "photos", rel) }
	rel := func(abs string) string { r, _ := filepath.Rel(filepath.Join(root, "photos"), abs); return r }
	// New file with new content.
	extra := copyImages(t, filepath.Join(src, "distractors"), filepath.Join(root, "extra"), 8)
	copyFile(t, extra[7], p("new.jpg"))
	// Content changed (and so size/mtime).
	copyFile(t, extra[6], all[2])
	// Touched only: same content, new mtime.
	future := time.Now().Add(time.Hour)
	os.Chtimes(all[3], future, future)
	// Renamed.
	if err := os.Rename(all[4], p("renamed.jpg")); err != nil {
		t.Fatal(err)
	}
	// Deleted file and deleted directory.
	os.Remove(all[5])
	moreDir := p("more")
	nMore := len(imagesUnder(t, moreDir))
	os.RemoveAll(moreDir)
	_ = rel

	st = runIndex(t, sdir, enc, b, Options{Roots: []string{filepath.Join(root, "photos")}})
	want := Stats{New: 1, Changed: 2, Moved: 1, Removed: 1 + nMore, Embedded: 2}
	if st.New != want.New || st.Changed != want.Changed || st.Moved != want.Moved || st.Removed != want.Removed || st.Embedded != want.Embedded {
		t.Fatalf("after changes: new %d changed %d moved %d removed %d embedded %d; want %+v",
			st.New, st.Changed, st.Moved, st.Removed, st.Embedded, want)
	}
	all = imagesUnder(t, filepath.Join(root, "photos"))
	checkStore(t, sdir, all, fresh)

	// The root disappears (unmounted drive): entries stay.
	moved := filepath.Join(root, "away")
	os.Rename(filepath.Join(root, "photos"), moved)
	st = runIndex(t, sdir, enc, b, Options{Roots: []string{filepath.Join(root, "photos")}})
	if st.Removed != 0 || st.Failed != 1 || !slices.Contains(st.MissingRoots, filepath.Join(root, "photos")) {
		t.Fatalf("missing root: %+v", st)
	}
	// The mount point is back but empty: entries stay too.
	os.Mkdir(filepath.Join(root, "photos"), 0o755)
	st = runIndex(t, sdir, enc, b, Options{Roots: []string{filepath.Join(root, "photos")}})
	if st.Removed != 0 || st.Failed != 1 || !slices.Contains(st.EmptyRoots, filepath.Join(root, "photos")) {
		t.Fatalf("empty root: %+v", st)
	}
	os.Remove(filepath.Join(root, "photos"))
	os.Rename(moved, filepath.Join(root, "photos"))
	checkStore(t, sdir, all, fresh)

	// A corrupt image fails alone; the rest of the run goes on.
	os.WriteFile(p("broken.jpg"), []byte("\xff\xd8\xff\xe0 truncated"), 0o644)
	copyFile(t, extra[5], p("another.png"))
	var reported []Failure
	st = runIndex(t, sdir, enc, b, Options{Roots: []string{filepath.Join(root, "photos")}, Failure: func(f Failure) { reported = append(reported, f) }})
	if st.Failed != 1 || len(reported) != 1 || reported[0].Path != p("broken.jpg") || st.New != 1 {
		t.Fatalf("corrupt file: %+v %v", st, reported)
	}
	checkStore(t, sdir, slices.DeleteFunc(imagesUnder(t, filepath.Join(root, "photos")), func(s string) bool { return strings.HasSuffix(s, "broken.jpg") }), fresh)
	r, _ := store.Open(sdir)
	if r.Failed() != 1 || !slices.Contains(r.Roots(), filepath.Join(root, "photos")) {
		t.Fatalf("status: failed %d roots %v", r.Failed(), r.Roots())
	}
	r.Close()

	// Forget removes entries under a path.
	w, err := store.OpenWriter(sdir, b, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := Forget(w, filepath.Join(root, "photos"))
	if err != nil || n == 0 {
		t.Fatalf("forget: %d %v", n, err)
	}
	w.Commit()
	w.Close()
	checkStore(t, sdir, nil, fresh)
}

func TestModelMismatchStore(t *testing.T) {
	_, m := testEncoder(t)
	sdir := t.TempDir()
	w, err := store.OpenWriter(sdir, Binding(m), store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	b := Binding(m)
	b.Digest = strings.Repeat("0", 64)
	if _, err := store.OpenWriter(sdir, b, store.WriterOptions{}); !errors.Is(err, store.ErrModelMismatch) {
		t.Fatalf("other model: %v", err)
	}
}

func TestSymlinkLoop(t *testing.T) {
	src := testenv.SharedData(t, "caltech101-neardup")
	enc, m := testEncoder(t)
	root := t.TempDir()
	files := copyImages(t, filepath.Join(src, "dups"), filepath.Join(root, "a"), 3)
	os.Symlink(root, filepath.Join(root, "a", "loop"))       // loop back to the top
	os.Symlink(files[0], filepath.Join(root, "a", "ln.jpg")) // link to a file
	sdir := t.TempDir()
	st := runIndex(t, sdir, enc, Binding(m), Options{Roots: []string{root}, FollowSymlinks: true})
	// 3 files + the file link; the loop is entered once at most (root is
	// already visited, so a/loop is skipped).
	if st.Scanned != 4 || st.Failed != 0 {
		t.Fatalf("follow symlinks: %+v", st)
	}
	st = runIndex(t, t.TempDir(), enc, Binding(m), Options{Roots: []string{root}})
	if st.Scanned != 3 {
		t.Fatalf("without following: %+v", st)
	}
	st = runIndex(t, t.TempDir(), enc, Binding(m), Options{Roots: []string{root}, Exclude: []string{"*" + filepath.Base(files[0])}})
	if st.Scanned != 2 {
		t.Fatalf("exclude: %+v", st)
	}
}

// TestExcludedKept: an entry whose file still exists but is no longer
// walked (excluded now) stays; once the file is gone it is swept.
func TestExcludedKept(t *testing.T) {
	src := testenv.SharedData(t, "caltech101-neardup")
	enc, m := testEncoder(t)
	root := t.TempDir()
	files := copyImages(t, filepath.Join(src, "dups"), root, 3)
	sdir := t.TempDir()
	runIndex(t, sdir, enc, Binding(m), Options{Roots: []string{root}})
	ex := Options{Roots: []string{root}, Exclude: []string{filepath.Base(files[0])}}
	if st := runIndex(t, sdir, enc, Binding(m), ex); st.Scanned != 2 || st.Removed != 0 {
		t.Fatalf("excluded but present: %+v", st)
	}
	os.Remove(files[0])
	if st := runIndex(t, sdir, enc, Binding(m), ex); st.Removed != 1 {
		t.Fatalf("excluded and gone: %+v", st)
	}
	checkStore(t, sdir, files[1:], &freshVectors{enc: enc})
}
