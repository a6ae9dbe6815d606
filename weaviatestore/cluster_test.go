package weaviatestore

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/store"
)

// TestCluster: three nodes, replication factor 3. A node killed (SIGKILL)
// in the middle of an index run (commits at QUORUM) does not stop it:
// every object is committed. With the node down, queries at QUORUM and at
// ONE are all answered with recall@10 ≥ 0.99 against exact search. After
// the node restarts, what was written while it was down reaches it (async
// replication), in a time the test logs; the same after a clean stop
// (SIGTERM) of another node.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("three Weaviate nodes: not with -short")
	}
	c := weaviatetest.Start(t, 3)
	ctx := context.Background()
	const dim, n = 32, 1500
	b := store.Binding{ModelID: "test-model", Digest: "d", Preprocess: "p", Dim: dim}
	rng := rand.New(rand.NewPCG(5, 6))
	vecs := map[string][]float32{}
	base := c.URL("Replicated") + "&replication=3"
	s := open(t, base)
	if err := s.Bind(b); err != nil {
		t.Fatal(err)
	}
	if s.factor != 3 {
		t.Fatalf("replication factor %d; want 3", s.factor)
	}
	put := func(s *Store, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			v := unit(rng, dim)
			vecs[entry(i).Path] = v
			if err := s.Put(entry(i), v); err != nil {
				t.Fatal(err)
			}
			if i%batchSize == batchSize-1 || i == to-1 {
				if err := s.Commit(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	down := c.Nodes[2]
	killed := time.AfterFunc(300*time.Millisecond, down.Kill)
	put(s, 0, n)
	if killed.Stop() {
		t.Log("the import ended before the kill; the node is killed now")
		down.Kill()
	}
	for _, level := range []string{Quorum, One} {
		q := open(t, base+"&consistency="+level)
		var recall float64
		const queries = 40
		for range queries {
			v := unit(rng, dim)
			hits, err := q.Search(ctx, v, 10, nil)
			if err != nil {
				t.Fatalf("%s with a node down: %v", level, err)
			}
			recall += overlap(hits, exact(vecs, v, 10))
		}
		if recall /= queries; recall < 0.99 {
			t.Errorf("%s with a node down: recall@10 %.3f; want ≥ 0.99", level, recall)
		}
		t.Logf("%s with node2 killed: %d queries answered, recall@10 %.3f", level, queries, recall)
	}
	// Another run while the node is down.
	put(open(t, base), n, n+200)

	l, _ := ParseLocation(base)
	r, err := OpenReader(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	// catchUp restarts the node and waits until a sample of the objects
	// from..to, written while it was down, is on it.
	catchUp := func(how string, from, to int) {
		t.Helper()
		down.Start()
		if err := down.WaitReady(3 * time.Minute); err != nil {
			t.Fatalf("restart: %v\n%s", err, down.Log())
		}
		restarted := time.Now()
		var missing []string
		for i := from; i < to; i += 10 {
			missing = append(missing, ObjectID(entry(i).Path))
		}
		for len(missing) > 0 && time.Since(restarted) < 3*time.Minute {
			var still []string
			for _, id := range missing {
				objs, err := r.c.Data().ObjectsGetter().WithClassName(l.Class).WithID(id).WithNodeName(down.Name).Do(ctx)
				if err != nil || len(objs) != 1 {
					still = append(still, id)
				}
			}
			if missing = still; len(missing) > 0 {
				time.Sleep(time.Second)
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s: 3 minutes after the restart, %d sampled objects written while %s was down are still not on it", how, len(missing), down.Name)
		} else {
			t.Logf("%s: objects written while %s was down were on it %.1f s after it was ready again", how, down.Name, time.Since(restarted).Seconds())
		}
	}
	catchUp("SIGKILL", n, n+200)

	// A clean stop (SIGTERM), writes, a restart.
	down = c.Nodes[1]
	down.Stop()
	put(open(t, base), n+200, n+400)
	catchUp("SIGTERM", n+200, n+400)
	if n := count(t, r); n != 1900 {
		t.Errorf("%d objects; want 1900", n)
	}
}

func count(t *testing.T, s *Store) int {
	t.Helper()
	k := 0
	if err := s.Each(context.Background(), false, func(store.Entry, []float32) error { k++; return nil }); err != nil {
		t.Fatal(err)
	}
	return k
}

// exact is the k nearest of vecs to q by exact search: paths and
// Euclidean distances, ordered by distance, then path.
func exact(vecs map[string][]float32, q []float32, k int) []Hit {
	var all []Hit
	for p, v := range vecs {
		var d float64
		for i := range v {
			d += float64(v[i]-q[i]) * float64(v[i]-q[i])
		}
		all = append(all, Hit{Path: p, Dist: float32(math.Sqrt(d))})
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].Dist < all[j].Dist || all[i].Dist == all[j].Dist && all[i].Path < all[j].Path
	})
	return all[:k]
}

func overlap(hits, want []Hit) float64 {
	in := map[string]bool{}
	for _, w := range want {
		in[w.Path] = true
	}
	k := 0
	for _, h := range hits {
		if in[h.Path] {
			k++
		}
	}
	return float64(k) / float64(len(want))
}
