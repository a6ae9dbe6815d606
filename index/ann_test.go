package index

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

var annBinding = store.Binding{ModelID: "ann-test", Digest: "d", Preprocess: "p", Dim: 32}

// clusteredVec is a unit vector near one of 50 cluster centres (like real
// embeddings, which are far from uniform), derived from the seed.
func clusteredVec(seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	c := rand.New(rand.NewPCG(seed%50, 11))
	v := make([]float32, annBinding.Dim)
	for i := range v {
		v[i] = float32(c.NormFloat64() + 0.5*r.NormFloat64())
	}
	search.Normalize(v)
	return v
}

func annPath(i int) string { return fmt.Sprintf("/img/%06d.jpg", i) }

// putRange stores entries for paths annPath(i), lo ≤ i < hi, with vectors
// from seed i+salt.
func putRange(t *testing.T, w *store.Writer, lo, hi int, salt uint64) {
	t.Helper()
	for i := lo; i < hi; i++ {
		e := store.Entry{Path: annPath(i), Size: 1, ModTime: time.Unix(1700000000, 0), Format: "jpeg"}
		if err := w.Put(e, clusteredVec(uint64(i)+salt)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
}

// recallVsExact measures recall@10 of the store's ANN file against Exact
// for 200 queries, and checks the file is usable for the current content.
func recallVsExact(t *testing.T, dir string) float64 {
	t.Helper()
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ix, err := LoadANN(r)
	if err != nil {
		t.Fatalf("LoadANN after update: %v", err)
	}
	if ix.Len() != r.Len() {
		t.Fatalf("ANN has %d live nodes, store %d entries", ix.Len(), r.Len())
	}
	m := search.Matrix{Data: r.Vectors(), Dim: r.Dim()}
	hit, total := 0, 0
	for q := range 200 {
		qv := clusteredVec(uint64(1_000_000 + q))
		want := map[int]bool{}
		for _, nb := range search.Exact(m, qv, 10, search.Options{}) {
			want[nb.ID] = true
		}
		for _, nb := range ix.Search(m, qv, 10, 200, search.Options{}) {
			if want[nb.ID] {
				hit++
			}
		}
		total += len(want)
	}
	return float64(hit) / float64(total)
}

func TestANNLifecycle(t *testing.T) {
	dir := t.TempDir()
	o := ANNOptions{Threshold: 1000}
	update := func(w *store.Writer) ANNStats {
		t.Helper()
		u := PrepareANN(w)
		defer u.Close()
		st, err := u.Update(context.Background(), w, o)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	w, err := store.OpenWriter(dir, annBinding, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { w.Close() }()

	// Below the threshold: no file.
	putRange(t, w, 0, 500, 0)
	if st := update(w); st.Action != ANNNone {
		t.Fatalf("below threshold: action %q", st.Action)
	}
	if _, err := os.Stat(filepath.Join(dir, store.ANNFile)); !os.IsNotExist(err) {
		t.Fatalf("ANN file below the threshold: %v", err)
	}

	// Prepare before the change (as index does), then grow past it: built.
	u := PrepareANN(w)
	putRange(t, w, 500, 3000, 0)
	st, err := u.Update(context.Background(), w, o)
	u.Close()
	if err != nil || st.Action != ANNBuilt || st.Nodes != 3000 {
		t.Fatalf("build: %+v %v", st, err)
	}
	if r := recallVsExact(t, dir); r < 0.95 {
		t.Fatalf("recall@10 after build %.3f, want ≥ 0.95", r)
	}
	if st := update(w); st.Action != ANNKept {
		t.Fatalf("unchanged store: action %q, want kept", st.Action)
	}

	// A small change (paths interleaved with the old ones, so every id
	// shifts; some removed, some with a new vector): updated in place.
	u = PrepareANN(w)
	for i := 0; i < 3000; i += 50 {
		w.Delete(annPath(i))
	}
	putRange(t, w, 3000, 3300, 0)
	for i := 1; i < 3000; i += 100 {
		w.Put(store.Entry{Path: annPath(i) + ".new", Size: 1, Format: "jpeg"}, clusteredVec(uint64(i)+5000))
	}
	putRange(t, w, 7, 8, 99) // changed vector at the same path
	st, err = u.Update(context.Background(), w, o)
	u.Close()
	if err != nil || st.Action != ANNUpdated {
		t.Fatalf("small change: %+v %v", st, err)
	}
	if st.Dropped != 61 || st.Added != 300+30+1 || st.Nodes != 3000-60+300+30 {
		t.Fatalf("small change: %+v, want 61 dropped, 331 added, 3270 nodes", st)
	}
	if r := recallVsExact(t, dir); r < 0.95 {
		t.Fatalf("recall@10 after update %.3f, want ≥ 0.95", r)
	}

	// A stale file (content changed without an update) is refused by
	// readers; the next update, lacking the old snapshot, rebuilds.
	putRange(t, w, 4000, 4010, 0)
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadANN(r); !errors.Is(err, store.ErrANNStale) {
		t.Fatalf("stale file: %v, want ErrANNStale", err)
	}
	r.Close()
	if st := update(w); st.Action != ANNBuilt {
		t.Fatalf("after stale: action %q, want built", st.Action)
	}

	// Heavy churn beyond MaxDropped: rebuilt rather than patched.
	u = PrepareANN(w)
	for i := 0; i < 3000; i += 3 {
		w.Delete(annPath(i))
	}
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	st, err = u.Update(context.Background(), w, o)
	u.Close()
	if err != nil || st.Action != ANNBuilt || st.Reason == "" {
		t.Fatalf("heavy churn: %+v %v", st, err)
	}
	if r := recallVsExact(t, dir); r < 0.95 {
		t.Fatalf("recall@10 after rebuild %.3f", r)
	}

	// A damaged file, or one from the version-1 format (decoded, not
	// mapped): readers refuse it, the next update rebuilds it and says why.
	p := filepath.Join(dir, store.ANNFile)
	for _, tc := range []struct {
		name string
		edit func([]byte)
		want error
	}{
		// Layer 0 (the middle of the file) is checked by the next index
		// run, not by queries, which bound what they read there.
		{"damaged layer 0", func(b []byte) { b[len(b)/2] ^= 0xff }, nil},
		{"damaged upper layers", func(b []byte) { b[len(b)-10] ^= 0xff }, search.ErrChecksum},
		{"version 1", func(b []byte) { b[64+8] = 1 }, search.ErrVersion}, // the graph's own version, after the store header
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tc.edit(data)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err = store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadANN(r); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Fatalf("%s file: %v, want %v", tc.name, err, tc.want)
		}
		r.Close()
		u = PrepareANN(w)
		putRange(t, w, 5000, 5001, 0)
		st, err = u.Update(context.Background(), w, o)
		u.Close()
		if err != nil || st.Action != ANNBuilt || st.PreviousProblem == nil {
			t.Fatalf("%s: %+v %v", tc.name, st, err)
		}
		if r := recallVsExact(t, dir); r < 0.95 {
			t.Fatalf("%s: recall@10 after repair %.3f", tc.name, r)
		}
	}

	// A cancelled build leaves the previous (now stale) file, whole.
	u = PrepareANN(w)
	for i := 0; i < 3000; i += 2 {
		w.Delete(annPath(i))
	}
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := u.Update(ctx, w, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled update: %v", err)
	}
	u.Close()
	after, _ := os.ReadFile(p)
	if string(before) != string(after) {
		t.Fatal("cancelled update changed the ANN file")
	}

	// Shrinking below the threshold removes the file.
	for i := 0; i < 6000; i++ {
		w.Delete(annPath(i))
		w.Delete(annPath(i) + ".new")
	}
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	if st := update(w); st.Action != ANNRemoved {
		t.Fatalf("emptied store: action %q, want removed", st.Action)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("ANN file after emptying: %v", err)
	}
}

// BenchmarkANNUpdate compares what an index run that changed 1% of a
// 30,000-entry store (32 dims) pays for its approximate index: a full
// build versus the incremental update (renumber, cut 1% deleted, insert 1%
// new).
func BenchmarkANNUpdate(b *testing.B) {
	const n = 30000
	dir := b.TempDir()
	w, err := store.OpenWriter(dir, annBinding, store.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	put := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if err := w.Put(store.Entry{Path: annPath(i), Size: 1, Format: "jpeg"}, clusteredVec(uint64(i))); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Compact(); err != nil {
			b.Fatal(err)
		}
	}
	put(0, n)
	o := ANNOptions{Threshold: 1, MaxDropped: 1} // however many iterations run
	u := PrepareANN(w)
	if _, err := u.Update(context.Background(), w, o); err != nil {
		b.Fatal(err)
	}
	u.Close()
	for _, mode := range []string{"rebuild", "update-1pct"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				u := PrepareANN(w)
				// Churn: delete 1% and add 1% at new paths (interleaved).
				for j := 0; j < n/100; j++ {
					w.Delete(annPath((j*97 + i*31) % n))
				}
				put(n+i*(n/100), n+(i+1)*(n/100))
				if mode == "rebuild" {
					u.Close()
					u = &ANNUpdater{}
				}
				b.StartTimer()
				st, err := u.Update(context.Background(), w, o)
				b.StopTimer()
				u.Close()
				want := ANNUpdated
				if mode == "rebuild" {
					want = ANNBuilt
				}
				if err != nil || st.Action != want {
					b.Fatalf("%+v %v", st, err)
				}
				b.StartTimer()
			}
		})
	}
}
