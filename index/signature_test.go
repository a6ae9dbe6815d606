package index

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/embedsearch/embedsearch/internal/testenv"
	"github.com/embedsearch/embedsearch/store"
)

// TestSignaturesGainedWithoutEmbedding: index gives every image its dedup
// signature; a store without them (as written before signatures) gains
// them at its next run, decoded only, its vectors kept, and the same
// signatures as a fresh index gives.
func TestSignaturesGainedWithoutEmbedding(t *testing.T) {
	enc, m := testEncoder(t)
	b := Binding(m)
	root := filepath.Join(t.TempDir(), "photos")
	copyImages(t, filepath.Join(testenv.RepoRoot(t), "testdata", "photos"), root, 8)
	sdir := filepath.Join(t.TempDir(), "store")
	st := runIndex(t, sdir, enc, b, Options{Roots: []string{root}})
	if st.New != 8 || st.Signed != 0 {
		t.Fatalf("first run: %+v", st)
	}
	sigs, vecs := readBack(t, sdir)
	for i, s := range sigs {
		if len(s) == 0 {
			t.Fatalf("entry %d has no signature", i)
		}
	}

	// Drop the signatures, as a store of an earlier build has none.
	w, err := store.OpenWriter(sdir, b, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	w.Walk(func(p string) bool { paths = append(paths, p); return true })
	for _, p := range paths {
		e, _ := w.Get(p)
		v, _ := w.Vector(p)
		e.Signature = nil
		if err := w.Put(e, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got, _ := readBack(t, sdir); slices.ContainsFunc(got, func(s []byte) bool { return s != nil }) {
		t.Fatal("signatures not dropped")
	}

	st = runIndex(t, sdir, enc, b, Options{Roots: []string{root}})
	if st.Signed != 8 || st.Embedded != 0 || st.Unchanged != 8 || st.Failed != 0 {
		t.Fatalf("second run: %+v, want 8 signed, none embedded", st)
	}
	got, gotVecs := readBack(t, sdir)
	for i := range sigs {
		if !bytes.Equal(got[i], sigs[i]) || !slices.Equal(gotVecs[i], vecs[i]) {
			t.Errorf("entry %d: signature or vector differs from a fresh index", i)
		}
	}
	// And a third run has nothing left to do.
	if st = runIndex(t, sdir, enc, b, Options{Roots: []string{root}}); st.Signed != 0 || st.Embedded != 0 {
		t.Fatalf("third run: %+v", st)
	}
}

func readBack(t *testing.T, dir string) (sigs [][]byte, vecs [][]float32) {
	t.Helper()
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	for id := range r.Len() {
		sigs = append(sigs, bytes.Clone(r.Signature(id)))
		vecs = append(vecs, slices.Clone(r.Vector(id)))
	}
	return sigs, vecs
}
