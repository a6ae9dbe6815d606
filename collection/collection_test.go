package collection

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// fill puts n random unit vectors of the store's dimension under /photos
// and commits them (no model runs: the store only checks the binding).
func fill(t *testing.T, c *Collection, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	dim := c.Binding().Dim
	for i := range n {
		v := make([]float32, dim)
		var s float64
		for j := range v {
			v[j] = float32(rng.NormFloat64())
			s += float64(v[j]) * float64(v[j])
		}
		for j := range v {
			v[j] = float32(float64(v[j]) / math.Sqrt(s))
		}
		e := store.Entry{Path: fmt.Sprintf("/photos/%06d.jpg", i), Size: 1, ModTime: time.Unix(1, 0), Width: 1, Height: 1, Format: "jpeg"}
		if err := c.Writer().Put(e, v); err != nil {
			t.Fatal(err)
		}
	}
	c.dirty = true
	if err := c.Writer().Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseStopsGraphBuildOnCancel: Ctrl-C while Close rebuilds the graph
// after a change (here a Forget) stops it within a second and leaves the
// store valid: the last commit readable, the graph stale (ignored by
// readers) and rebuilt by the next change.
func TestCloseStopsGraphBuildOnCancel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	ctx := context.Background()
	c, err := Open(ctx, dir, Options{ANNThreshold: 1000})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, c, 12000, 1)
	if _, err := c.Forget(ctx, "/photos/000001.jpg"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	var cancelled time.Time
	time.AfterFunc(100*time.Millisecond, func() { cancelled = time.Now(); cancel() })
	err = c.Close(cctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v; want the cancellation (the build took longer than 100 ms before)", err)
	}
	if d := time.Since(cancelled); d > time.Second {
		t.Errorf("Close returned %v after the cancellation; want under a second", d)
	}
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(); err != nil || r.Len() != 11999 {
		t.Errorf("after a cancelled Close: %d entries, verify %v", r.Len(), err)
	}
	if _, err := index.LoadANN(r); err == nil {
		t.Error("a graph was published by a cancelled build")
	}
	r.Close()

	// The next change brings the graph along.
	c, err = Open(ctx, dir, Options{ANNThreshold: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Forget(ctx, "/photos/000002.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ = store.Open(dir)
	defer r.Close()
	if _, err := index.LoadANN(r); err != nil {
		t.Errorf("graph after the next change: %v", err)
	}
}

// TestModelDecidedOnce: a store remembers the model folder it was built
// with, so later opens need no model argument; another model is refused.
func TestModelDecidedOnce(t *testing.T) {
	tiny, err := filepath.Abs(filepath.Join("..", "testdata", "models", "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	ctx := context.Background()
	c, err := Open(ctx, dir, Options{Model: tiny})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Model()
	if err != nil || m.Dir != tiny {
		t.Fatalf("Model = %v, %v", m, err)
	}
	fill(t, c, 3, 2)
	c.w.SetModelSource(c.source)
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}

	got, src, err := Model(dir, "")
	if err != nil || got.Manifest.ID != m.Manifest.ID || src != tiny {
		t.Fatalf("Model(store) = %v, %q, %v; want the tiny model from %s", got, src, err, tiny)
	}
	if _, _, err := Model(dir, models.BuiltinName); !errors.Is(err, store.ErrModelMismatch) {
		t.Errorf("Model(store, builtin) = %v; want ErrModelMismatch", err)
	}
	if _, err := Open(ctx, dir, Options{Model: models.BuiltinName}); !errors.Is(err, store.ErrModelMismatch) {
		t.Errorf("Open(store, builtin) = %v; want ErrModelMismatch", err)
	}
	// A new store without a model argument gets the built-in model.
	b, _, err := Model(filepath.Join(t.TempDir(), "new"), "")
	if err != nil || b.Dir != "" {
		t.Errorf("Model(new store) = %v, %v; want the built-in", b, err)
	}
}
