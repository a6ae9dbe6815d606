package tune

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/store"
)

// TestLoadReview: --review's marks become negatives between labelled
// images of different labels; without class labels a marked image in no
// pair joins as a label of its own; a mark inside one label is dropped.
func TestLoadReview(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "store")
	w, err := store.OpenWriter(st, store.Binding{ModelID: "fake-v1", Digest: "00", Preprocess: "00", Dim: 4}, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := randomUnit(rand.New(rand.NewPCG(1, 1)), 6, 4)
	hash := func(i int) string { return fmt.Sprintf("%064x", i+1) }
	var paths []string
	for i := range 6 {
		p := filepath.Join(dir, fmt.Sprintf("img%d.jpg", i))
		paths = append(paths, p)
		if err := w.Put(store.Entry{Path: p, Size: 1, ModTime: time.Unix(1, 0), SHA256: hash(i)}, x[i*4:(i+1)*4]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ctx := context.Background()
	// Marked: 0-2 (different pairs), 0-1 (the same pair: contradicts it), 3-5 (5 in no pair).
	for _, m := range [][2]int{{0, 2}, {0, 1}, {3, 5}} {
		if _, err := collection.MarkNotDuplicates(ctx, st, hash(m[0]), hash(m[1])); err != nil {
			t.Fatal(err)
		}
	}
	pairs := filepath.Join(dir, "pairs.tsv")
	os.WriteFile(pairs, []byte("img0.jpg\timg1.jpg\nimg2.jpg\timg3.jpg\n"), 0o644)
	r, err := store.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := Load(ctx, r, st, Input{Pairs: pairs, Review: true}, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	name := func(i int) string { return filepath.Base(d.Paths[i]) }
	var got []string
	for _, n := range d.Negatives {
		got = append(got, name(n[0])+"-"+name(n[1]))
	}
	want := []string{"img0.jpg-img2.jpg", "img3.jpg-img5.jpg"}
	if fmt.Sprint(got) != fmt.Sprint(want) || d.Len() != 5 || len(d.Names) != 3 {
		t.Fatalf("negatives %v (want %v), %d images, labels %v", got, want, d.Len(), d.Names)
	}
	// Without --review, no negatives and no extra image.
	d, err = Load(ctx, r, st, Input{Pairs: pairs}, 0, 1)
	if err != nil || len(d.Negatives) != 0 || d.Len() != 4 {
		t.Fatalf("without review: %v %v", d, err)
	}
	// Review alone is refused: it gives no positives.
	if _, err := Load(ctx, r, st, Input{Review: true}, 0, 1); err == nil {
		t.Fatal("review alone accepted")
	}
}

// TestNegativesTrained: each marked pair adds a tuple per image, the
// other image its negative, however near it is (mining alone never takes
// a negative nearer than the positive).
func TestNegativesTrained(t *testing.T) {
	d := rotated(4, 4, 40, 8)
	// Image 0 (label 0) and a twin of it with label 1.
	d.Paths = append(d.Paths, "/twin")
	d.X = append(d.X, d.X[:d.Dim]...)
	d.Label = append(d.Label, 1)
	d.Group = append(d.Group, -1)
	twin := d.Len() - 1
	byLabel := map[int][]int{}
	var anchors []int
	for i, l := range d.Label {
		byLabel[l] = append(byLabel[l], i)
		anchors = append(anchors, i)
	}
	nb, err := mine(context.Background(), d.X, d.Dim, 8, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	count := func() (n int) {
		for _, tp := range tuples(rand.New(rand.NewPCG(1, 1)), d, d.X, d.Dim, nb, anchors, byLabel) {
			if (tp.a == 0 && tp.n == twin) || (tp.a == twin && tp.n == 0) {
				n++
			}
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("unmarked: %d tuples of the twins", n)
	}
	d.Negatives = [][2]int{{0, twin}}
	if n := count(); n != 2 {
		t.Fatalf("marked: %d tuples of the twins, want 2", n)
	}
}

// TestCopyPositives: with class labels, an anchor with copies gets one of
// them as its positive about a quarter of the time, another image of its
// label otherwise.
func TestCopyPositives(t *testing.T) {
	d := rotated(5, 2, 20, 4)
	for i := range 4 {
		d.Group[i] = 0 // images 0-3: copies of one photo (label 0)
	}
	byLabel := map[int][]int{}
	for i, l := range d.Label {
		byLabel[l] = append(byLabel[l], i)
	}
	nb, err := mine(context.Background(), d.X, d.Dim, 8, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	copies := 0
	const n = 2000
	for range n {
		p := positive(r, d, nb, byLabel, 0)
		if d.Label[p] != 0 || p == 0 {
			t.Fatalf("positive %d of label %d", p, d.Label[p])
		}
		if d.Group[p] == 0 {
			copies++
		}
	}
	if share := float64(copies) / n; share < 0.2 || share > 0.3 {
		t.Fatalf("a copy was the positive %.3f of the time, want about 0.25", share)
	}
	// Without class labels (pairs only) a copy is the label itself: always.
	d.Classes = false
	for i := range d.Label {
		d.Label[i] = i
	}
	for i := range 4 {
		d.Label[i] = 0
	}
	byLabel = map[int][]int{}
	for i, l := range d.Label {
		byLabel[l] = append(byLabel[l], i)
	}
	if p := positive(r, d, nb, byLabel, 0); d.Group[p] != 0 {
		t.Fatalf("pairs only: positive %d is no copy", p)
	}
}
