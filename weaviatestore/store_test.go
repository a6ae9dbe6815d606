package weaviatestore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/store"
)

var _ index.Store = (*Store)(nil)

var testBinding = store.Binding{ModelID: "test-model", Digest: "d1", Preprocess: "p1", Dim: 8}

func unit(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var s float64
	for i := range v {
		v[i] = float32(rng.NormFloat64())
		s += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(s))
	}
	return v
}

func entry(i int) store.Entry {
	return store.Entry{Path: fmt.Sprintf("/photos/%03d.jpg", i), Size: int64(1000 + i), ModTime: time.Unix(1700000000, int64(i)),
		SHA256: fmt.Sprintf("%064x", i), Width: 10, Height: 20, Format: "jpeg", Make: "A", Model: "Camera " + fmt.Sprint(i%3),
		Signature: []byte{byte(i), 1}}
}

func open(t *testing.T, url string) *Store {
	t.Helper()
	l, err := ParseLocation(url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStore runs one node and checks what index, forget and the readers
// rely on: the binding recorded and checked, entries and vectors back
// exactly, roots and the last run, deletions, ByHash, search distances
// as Euclidean in exact order, tenants kept apart, the mirror, field
// tokenization, and two writers at once.
func TestStore(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	ctx := context.Background()
	url := c.URL("Photos")
	rng := rand.New(rand.NewPCG(1, 2))

	s := open(t, url)
	if s.Binding() != (store.Binding{}) || s.Len() != 0 {
		t.Fatalf("a new collection: binding %v, %d entries", s.Binding(), s.Len())
	}
	if err := s.Bind(testBinding); err != nil {
		t.Fatal(err)
	}
	vecs := map[string][]float32{}
	for i := range 60 {
		v := unit(rng, 8)
		vecs[entry(i).Path] = v
		if err := s.Put(entry(i), v); err != nil {
			t.Fatal(err)
		}
	}
	s.AddRoots("/photos")
	ran := time.Unix(1700000500, 0)
	s.SetRunStats(ran, 2)
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}

	s = open(t, url)
	if s.Binding() != testBinding || s.Len() != 60 {
		t.Fatalf("reopened: binding %v, %d entries", s.Binding(), s.Len())
	}
	for i := range 60 {
		e, ok := s.Get(entry(i).Path)
		if !ok || !same(e, entry(i)) {
			t.Fatalf("entry %d: %+v, %v", i, e, ok)
		}
	}
	if v, ok := s.Vector(entry(7).Path); !ok || !slices.Equal(v, vecs[entry(7).Path]) {
		t.Errorf("Vector = %v, %v", v, ok)
	}
	if e, v, ok := s.ByHash(entry(9).SHA256); !ok || e.Path != entry(9).Path || !slices.Equal(v, vecs[e.Path]) {
		t.Errorf("ByHash = %v, %v", e, ok)
	}
	v1 := s.Version()
	if v1 == "" {
		t.Error("no version after a commit")
	}
	if err := s.Commit(); err != nil { // nothing to commit: no new version
		t.Fatal(err)
	}
	if v := open(t, url).Version(); v != v1 {
		t.Errorf("an empty commit changed the version: %q, was %q", v, v1)
	}
	if r := s.Roots(); !slices.Equal(r, []string{"/photos"}) {
		t.Errorf("Roots = %v", r)
	}
	if at, failed := s.LastRun(); !at.Equal(ran) || failed != 2 {
		t.Errorf("LastRun = %v, %d", at, failed)
	}
	other := testBinding
	other.Digest = "d2"
	if err := s.Bind(other); !errors.Is(err, store.ErrModelMismatch) {
		t.Errorf("Bind(another build) = %v; want ErrModelMismatch", err)
	}

	// Search: Euclidean distances (not squared), in the exact order.
	q := unit(rng, 8)
	hits, err := s.Search(ctx, q, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 10 {
		t.Fatalf("%d hits", len(hits))
	}
	for i, want := range exact(vecs, q, 10) {
		if h := hits[i]; h.Path != want.Path || math.Abs(float64(h.Dist-want.Dist)) > 1e-5 {
			t.Errorf("hit %d = %s %.6f; exact %s %.6f", i, h.Path, h.Dist, want.Path, want.Dist)
		}
	}

	// Field tokenization: "A" is a whole value, not a stopword.
	resp, err := s.c.GraphQL().Get().WithClassName("Photos").WithFields(graphql.Field{Name: "path"}).WithLimit(100).
		WithWhere(filters.Where().WithPath([]string{"make"}).WithOperator(filters.Equal).WithValueText("A")).Do(ctx)
	if err != nil || len(resp.Errors) > 0 {
		t.Fatalf("filter make = A: %v %v", err, resp.Errors)
	}
	if rows, _ := resp.Data["Get"].(map[string]interface{})["Photos"].([]interface{}); len(rows) != 60 {
		t.Errorf("filter make = A found %d of 60", len(rows))
	}

	// Delete and the mirror.
	for i := range 10 {
		if !s.Delete(entry(i).Path) {
			t.Fatalf("Delete %d: not there", i)
		}
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	mdir := filepath.Join(t.TempDir(), "mirror")
	w, err := store.OpenWriter(mdir, testBinding, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := open(t, url)
	if r.Version() == v1 {
		t.Error("deleting objects did not change the version")
	}
	if r.Len() != 50 {
		t.Fatalf("after deleting 10: %d", r.Len())
	}
	if err := r.Mirror(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	lr, err := store.Open(mdir)
	if err != nil {
		t.Fatal(err)
	}
	if lr.Len() != 50 || !slices.Equal(lr.Roots(), []string{"/photos"}) || lr.Failed() != 2 {
		t.Errorf("mirror: %d entries, roots %v, failed %d", lr.Len(), lr.Roots(), lr.Failed())
	}
	for id := range lr.Len() {
		if p := lr.Path(id); !slices.Equal(lr.Vector(id), vecs[p]) || !same(lr.Entry(id), entryByPath(p)) {
			t.Errorf("mirror entry %s differs", p)
		}
	}
	lr.Close()

	// A second mirror fetches what changed: a changed entry, a new one, a
	// deleted one.
	e20 := entry(20)
	e20.Size++
	vecs[e20.Path] = unit(rng, 8)
	e70 := entry(70)
	vecs[e70.Path] = unit(rng, 8)
	r.Put(e20, vecs[e20.Path])
	r.Put(e70, vecs[e70.Path])
	r.Delete(entry(21).Path)
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if w, err = store.OpenWriter(mdir, testBinding, store.WriterOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := open(t, url).Mirror(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if lr, err = store.Open(mdir); err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	if lr.Len() != 50 {
		t.Errorf("second mirror: %d entries; want 50", lr.Len())
	}
	for id := range lr.Len() {
		p := lr.Path(id)
		want := entryByPath(p)
		if p == e20.Path {
			want = e20
		}
		if p == entry(21).Path || !slices.Equal(lr.Vector(id), vecs[p]) || !same(lr.Entry(id), want) {
			t.Errorf("second mirror: entry %s differs", p)
		}
	}
}

func entryByPath(p string) store.Entry {
	var i int
	fmt.Sscanf(filepath.Base(p), "%03d.jpg", &i)
	return entry(i)
}

// TestStoreTenants: two tenants of one collection hold their own
// entries and roots.
func TestStoreTenants(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	rng := rand.New(rand.NewPCG(3, 4))
	for i, tenant := range []string{"alice", "bob"} {
		s := open(t, c.URL("Shared")+"&tenant="+tenant)
		if err := s.Bind(testBinding); err != nil {
			t.Fatal(err)
		}
		for j := range 5 + i {
			s.Put(entry(j), unit(rng, 8))
		}
		s.AddRoots("/" + tenant)
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for i, tenant := range []string{"alice", "bob"} {
		s := open(t, c.URL("Shared")+"&tenant="+tenant)
		if s.Len() != 5+i || !slices.Equal(s.Roots(), []string{"/" + tenant}) {
			t.Errorf("tenant %s: %d entries, roots %v", tenant, s.Len(), s.Roots())
		}
	}
	l, _ := ParseLocation(c.URL("Shared"))
	if _, err := Open(context.Background(), l); err == nil {
		t.Error("a tenanted collection opened without ?tenant=")
	}
}

// TestStoreConcurrentWriters: two writers (two index processes) put
// overlapping sets at once: every entry is there once.
func TestStoreConcurrentWriters(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	url := c.URL("Together")
	first := open(t, url)
	if err := first.Bind(testBinding); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := open(t, url)
			if err := s.Bind(testBinding); err != nil {
				errs[w] = err
				return
			}
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for i := w * 300; i < w*300+500; i++ { // 300..499 written by both
				s.Put(entry(i), unit(rng, 8))
				if i%100 == 99 {
					if err := s.Commit(); err != nil {
						errs[w] = err
						return
					}
				}
			}
			s.AddRoots(fmt.Sprintf("/root%d", w))
			errs[w] = s.Commit()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s := open(t, url)
	if s.Len() != 800 {
		t.Errorf("%d entries; want 800 (0..799 once each)", s.Len())
	}
	n := 0
	s.Each(context.Background(), false, func(store.Entry, []float32) error { n++; return nil })
	if n != 800 {
		t.Errorf("%d objects; want 800", n)
	}
	if !slices.Equal(s.Roots(), []string{"/root0", "/root1"}) {
		t.Errorf("roots %v; want both writers'", s.Roots())
	}
}

// TestStoreReportsRefusedObjects: objects Weaviate refuses (here: their
// tenant was removed behind the writer's back) are retried, then each is
// named in ErrObjects; none is dropped silently or taken as stored.
func TestStoreReportsRefusedObjects(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	url := c.URL("Refusing") + "&tenant=carol"
	s := open(t, url)
	if err := s.Bind(testBinding); err != nil {
		t.Fatal(err)
	}
	if err := s.c.Schema().TenantsDeleter().WithClassName("Refusing").WithTenants("carol").Do(context.Background()); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range 3 {
		s.Put(entry(i), unit(rng, 8))
	}
	start := time.Now()
	err := s.Commit()
	if !errors.Is(err, ErrObjects) {
		t.Fatalf("Commit = %v; want ErrObjects", err)
	}
	for i := range 3 {
		if !strings.Contains(err.Error(), entry(i).Path) {
			t.Errorf("the error does not name %s: %v", entry(i).Path, err)
		}
		if _, ok := s.cat[ObjectID(entry(i).Path)]; ok {
			t.Errorf("%s taken as stored", entry(i).Path)
		}
	}
	t.Logf("refused after %v of retries: %v", time.Since(start).Round(time.Millisecond), err)
}
