package weaviatestore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// TestCompareLocal times, on the same N random unit vectors of dimension
// 128 (EMBEDSEARCH_WEAVIATE_BENCH=N; skipped without it), the local store
// against one Weaviate node on this machine: import (Put and Commit), a
// single query (k = 10: the local store's exact scan, Weaviate's HNSW
// through GraphQL), and dedup's k-NN per object (the local store's
// all-pairs KNN against one Weaviate query per object, 4 at a time, on a
// sample). README's "Weaviate against the local store" quotes it.
func TestCompareLocal(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("EMBEDSEARCH_WEAVIATE_BENCH"))
	if n <= 0 {
		t.Skip("set EMBEDSEARCH_WEAVIATE_BENCH=N to compare the stores on N vectors")
	}
	const dim, k = 128, 10
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	b := store.Binding{ModelID: "bench", Digest: "d", Preprocess: "p", Dim: dim}
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = unit(rng, dim)
	}
	ent := func(i int) store.Entry {
		return store.Entry{Path: fmt.Sprintf("/bench/%07d.jpg", i), Size: int64(i), ModTime: time.Unix(int64(i), 0), Format: "jpeg"}
	}

	// Local.
	dir := filepath.Join(t.TempDir(), "store")
	start := time.Now()
	w, err := store.OpenWriter(dir, b, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs {
		if err := w.Put(ent(i), v); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	localImport := time.Since(start)
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := search.Matrix{Data: r.Vectors(), Dim: dim}
	queries := make([][]float32, 100)
	for i := range queries {
		queries[i] = unit(rng, dim)
	}
	var localQ []time.Duration
	for _, q := range queries {
		s := time.Now()
		search.Exact(m, q, k, search.Options{})
		localQ = append(localQ, time.Since(s))
	}
	start = time.Now()
	if _, err := search.KNN(ctx, m, k, 2, search.Options{}); err != nil {
		t.Fatal(err)
	}
	localKNN := time.Since(start)

	// Weaviate.
	c := weaviatetest.Start(t, 1)
	s := open(t, c.URL("Bench"))
	if err := s.Bind(b); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for i, v := range vecs {
		if err := s.Put(ent(i), v); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			if err := s.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	remoteImport := time.Since(start)
	var remoteQ []time.Duration
	for _, q := range queries {
		st := time.Now()
		if _, err := s.Search(ctx, q, k, nil); err != nil {
			t.Fatal(err)
		}
		remoteQ = append(remoteQ, time.Since(st))
	}
	sample := min(n, 2000)
	start = time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := s.Search(ctx, vecs[i], k+1, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range sample {
		next <- i * (n / sample)
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	remoteKNN := time.Since(start)

	med := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	t.Logf("N = %d x %d", n, dim)
	t.Logf("import: local %.0f vectors/s (%v), weaviate %.0f vectors/s (%v)", float64(n)/localImport.Seconds(), localImport.Round(time.Millisecond),
		float64(n)/remoteImport.Seconds(), remoteImport.Round(time.Millisecond))
	t.Logf("single query, median of 100: local exact %v, weaviate %v", med(localQ), med(remoteQ))
	t.Logf("k-NN per object (dedup): local all-pairs %.0f objects/s (%v), weaviate %.0f objects/s (%d queries, 4 at a time, %v)",
		float64(n)/localKNN.Seconds(), localKNN.Round(time.Millisecond), float64(sample)/remoteKNN.Seconds(), sample, remoteKNN.Round(time.Millisecond))
}
