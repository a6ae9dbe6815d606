package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/store"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// TestRemoteQueryLatency times one `query --vector` (k = 10, in process,
// so without the program's start) on a Weaviate collection of N random
// unit vectors of dimension 128 (EMBEDSEARCH_WEAVIATE_BENCH=N; skipped
// without it): Weaviate's search against the local mirror (the first
// query, which fills it; a query when nothing changed; a query after one
// object changed). README quotes it.
func TestRemoteQueryLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("EMBEDSEARCH_WEAVIATE_BENCH"))
	if n <= 0 {
		t.Skip("set EMBEDSEARCH_WEAVIATE_BENCH=N to time query on N vectors")
	}
	const dim = 128
	ctx := context.Background()
	c := weaviatetest.Start(t, 1)
	t.Setenv(envMirror, t.TempDir())
	url := c.URL("Latency")
	l, err := weaviatestore.ParseLocation(url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := weaviatestore.Open(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(store.Binding{ModelID: "bench", Digest: "d", Preprocess: "p", Dim: dim}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	unit := func() []float32 {
		v := make([]float32, dim)
		var sum float64
		for i := range v {
			v[i] = float32(rng.NormFloat64())
			sum += float64(v[i]) * float64(v[i])
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(sum))
		}
		return v
	}
	ent := func(i int) store.Entry {
		return store.Entry{Path: fmt.Sprintf("/bench/%07d.jpg", i), Size: int64(i), ModTime: time.Unix(int64(i), 0), Format: "jpeg", Width: i % 1000}
	}
	for i := range n {
		if err := s.Put(ent(i), unit()); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 || i == n-1 {
			if err := s.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	vf := filepath.Join(t.TempDir(), "q.json")
	js, _ := json.Marshal(unit())
	os.WriteFile(vf, js, 0o644)
	query := func(args ...string) time.Duration {
		start := time.Now()
		if code, out, errs := embedCLI(t, "", append([]string{"query", "--vector", vf, "--store", url, "--csv"}, args...)...); code != 0 {
			t.Fatalf("query: %d %s %s", code, out, errs)
		}
		return time.Since(start)
	}
	med := func(runs int, args ...string) time.Duration {
		var d []time.Duration
		for range runs {
			d = append(d, query(args...))
		}
		slices.Sort(d)
		return d[len(d)/2]
	}
	server := med(21)
	filtered := med(21, "--filter", "width:<100")
	serverSearch = false
	defer func() { serverSearch = true }()
	first := query()
	warm := med(21)
	if err := s.Put(ent(0), unit()); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	changed := query()
	mirrorFiltered := med(21, "--filter", "width:<100")
	t.Logf("N = %d x %d, one query --vector, k = 10", n, dim)
	t.Logf("weaviate search: median of 21 %v; with --filter width:<100 (a where filter) %v", server.Round(10*time.Microsecond), filtered.Round(10*time.Microsecond))
	t.Logf("mirror: first query (fills it) %v; nothing changed, median of 21 %v; after one object changed %v; with --filter width:<100 %v",
		first.Round(time.Millisecond), warm.Round(10*time.Microsecond), changed.Round(time.Millisecond), mirrorFiltered.Round(10*time.Microsecond))
}
