// Package synthstore writes large synthetic stores for the benchmarks:
// fake entries and clustered random unit vectors, no images and no model.
package synthstore

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// Options say what Build writes.
type Options struct {
	N, Dim int
	// Clusters is how many centres the vectors scatter around (1,000
	// when 0), Spread how far (per coordinate, before normalising; 0.7
	// when 0).
	Clusters int
	Spread   float64
	// Copies: every Copies-th vector is followed by one near copy of it
	// (noise Noise per coordinate), so that dedup has true groups among
	// the look-alikes, at about distance Noise from it. 0: none.
	Copies int
	Noise  float64
	// ANN also builds the approximate index (index.PrepareANN).
	ANN bool
	// Progress, when set, hears what is being done.
	Progress func(format string, args ...any)
}

// Build writes a store of o.N vectors of o.Dim into dir (removed first)
// and returns how long the store and the graph took.
func Build(dir string, o Options) (storeTime, annTime time.Duration, err error) {
	if o.Clusters == 0 {
		o.Clusters = 1000
	}
	if o.Spread == 0 {
		o.Spread = 0.7
	}
	say := o.Progress
	if say == nil {
		say = func(string, ...any) {}
	}
	os.RemoveAll(dir)
	t0 := time.Now()
	w, err := store.OpenWriter(dir, store.Binding{ModelID: "synthetic", Digest: "none", Preprocess: "none", Dim: o.Dim}, store.WriterOptions{})
	if err != nil {
		return 0, 0, err
	}
	defer w.Close()
	var u *index.ANNUpdater
	if o.ANN {
		u = index.PrepareANN(w)
		defer u.Close()
	}
	rng := rand.New(rand.NewPCG(7, 7))
	centres := make([][]float32, o.Clusters)
	for i := range centres {
		centres[i] = make([]float32, o.Dim)
		for j := range centres[i] {
			centres[i][j] = float32(rng.NormFloat64())
		}
	}
	v := make([]float32, o.Dim)
	mtime := time.Unix(1700000000, 0)
	for i := 0; i < o.N; i++ {
		if o.Copies > 0 && i%o.Copies == 1 {
			sigma := o.Noise / math.Sqrt(float64(o.Dim))
			for j := range v { // a near copy of the (unit) vector before
				v[j] += float32(sigma * rng.NormFloat64())
			}
		} else {
			c := centres[rng.IntN(o.Clusters)]
			for j := range v {
				v[j] = c[j] + float32(o.Spread*rng.NormFloat64())
			}
		}
		search.Normalize(v)
		e := store.Entry{Path: fmt.Sprintf("/photos/%04d/img%08d.jpg", i%1000, i), Size: 1000, ModTime: mtime,
			Format: "jpeg", Width: 640, Height: 480}
		if err := w.Put(e, v); err != nil {
			return 0, 0, err
		}
		if (i+1)%100000 == 0 {
			if err := w.Commit(); err != nil {
				return 0, 0, err
			}
			say("\rstore: %d/%d", i+1, o.N)
		}
	}
	if err := w.Compact(); err != nil {
		return 0, 0, err
	}
	storeTime = time.Since(t0)
	if !o.ANN {
		return storeTime, 0, nil
	}
	say("\nstore written in %s; building the ANN…\n", storeTime.Round(time.Second))
	t1 := time.Now()
	st, err := u.Update(context.Background(), w, index.ANNOptions{Threshold: 1, Progress: func(done, total int) {
		say("\rANN: %d/%d (%s)", done, total, time.Since(t1).Round(time.Second))
	}})
	if err != nil {
		return 0, 0, err
	}
	say("\nANN %s: %d nodes in %s\n", st.Action, st.Nodes, st.Elapsed.Round(time.Second))
	return storeTime, time.Since(t1), nil
}
