package index

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/store"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// TestReaderDuringWriter opens snapshots and runs filters while an index
// run commits: every snapshot must be complete and correct as of its
// generation.
func TestReaderDuringWriter(t *testing.T) {
	src := testenv.SharedData(t, "caltech101-neardup")
	enc, m := testEncoder(t)
	fresh := &freshVectors{enc: enc}
	root := filepath.Join(t.TempDir(), "photos")
	copyImages(t, filepath.Join(src, "dups"), root, 40)
	all := imagesUnder(t, root)
	sdir := t.TempDir()
	w, err := store.OpenWriter(sdir, Binding(m), store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), w, enc, Options{Roots: []string{root}, CommitEvery: 3})
		done <- err
	}()
	snapshots, gens := 0, map[uint64]bool{}
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		r, err := store.Open(sdir)
		if err != nil {
			t.Fatalf("open during index: %v", err)
		}
		gens[r.Generation()] = true
		var got []string
		for id := 0; id < r.Len(); id++ {
			got = append(got, r.Path(id))
			if !slices.Contains(all, r.Path(id)) {
				t.Fatalf("snapshot %d has unknown entry %s", r.Generation(), r.Path(id))
			}
		}
		allow, err := r.Filter("ext:jpg")
		if err != nil {
			t.Fatalf("filter during index: %v", err)
		}
		mat := r.Vectors()
		for id := range got {
			if allow(id) != (strings.ToLower(filepath.Ext(got[id])) == ".jpg") {
				t.Fatalf("filter ext:jpg says %v for %s in generation %d", allow(id), got[id], r.Generation())
			}
			if d := maxAbsDiff(mat[id*r.Dim():(id+1)*r.Dim()], fresh.of(t, got[id])); d > 1e-5 {
				t.Fatalf("snapshot vector of %s off by %g", got[id], d)
			}
		}
		r.Close()
		snapshots++
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d snapshots over %d generations", snapshots, len(gens))
	if len(gens) < 3 {
		t.Fatalf("readers saw only %d generations; the test did not overlap the writer", len(gens))
	}
	checkStore(t, sdir, all, fresh)
}
