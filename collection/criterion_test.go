package collection

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/copies"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/signature"
	"github.com/embedsearch/embedsearch/store"
)

// crowd is a store in which look-alikes crowd: 24 distinct photos whose
// vectors all lie within about 0.35 of each other (closer than the near
// distance), one photo (cat) with six true copies at about 0.1, and two
// hard negatives placed as close to the cat as its copies are: a different
// photo, and the cat with a local recolouring (the same product in another
// colour). Each image has the signature of its real pixels.
type crowd struct {
	r                         *store.Reader
	copies, lookAlikes, traps []string
}

const crowdDim = 64

func newCrowd(t *testing.T, withSignatures bool) *crowd {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 13))
	noisy := func(v []float32, sigma float64) []float32 {
		out := make([]float32, len(v))
		var s float64
		for i := range v {
			out[i] = v[i] + float32(sigma*rng.NormFloat64())
			s += float64(out[i]) * float64(out[i])
		}
		for i := range out {
			out[i] /= float32(math.Sqrt(s))
		}
		return out
	}
	centre := noisy(make([]float32, crowdDim), 1)

	photos, err := filepath.Glob(filepath.Join("..", "testdata", "photos", "*.jpg"))
	if err != nil || len(photos) < 26 {
		t.Fatalf("shipped photos: %d, %v", len(photos), err)
	}
	load := func(data []byte) *image.RGBA {
		img, _, err := preprocess.Decode(data, preprocess.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return img.(*image.RGBA)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dir := t.TempDir()
	w, err := store.OpenWriter(dir, store.Binding{ModelID: "crowd", Digest: "d", Preprocess: "p", Dim: crowdDim}, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := &crowd{}
	put := func(path string, img *image.RGBA, v []float32) {
		e := store.Entry{Path: path, Size: int64(len(img.Pix)), ModTime: time.Unix(1e9, 0), Width: img.Rect.Dx(),
			Height: img.Rect.Dy(), Format: "jpeg", SHA256: fmt.Sprintf("%064x", len(path))}
		if withSignatures {
			s := signature.FromImage(img)
			e.Signature = s.Append(nil)
		}
		if err := w.Put(e, v); err != nil {
			t.Fatal(err)
		}
	}
	catPath := ""
	for _, p := range photos {
		if filepath.Base(p) == "cat.jpg" {
			catPath = p
		}
	}
	cat := load(read(catPath))
	catVec := noisy(centre, 0.031)
	put("/lib/cat.jpg", cat, catVec)
	for _, name := range []string{"jpeg-q50", "png", "border", "mirror", "crop80", "bright"} {
		e, ok := copies.Lookup(name)
		if !ok {
			t.Fatalf("no edit %s", name)
		}
		data, _, err := copies.Make(cat, e)
		if err != nil {
			t.Fatal(err)
		}
		p := "/lib/copies/cat-" + name + ".jpg"
		put(p, load(data), noisy(catVec, 0.0125))
		c.copies = append(c.copies, p)
	}
	others := slices.DeleteFunc(slices.Clone(photos), func(p string) bool { return p == catPath })
	// A different photo as close to the cat as a copy is.
	trap := "/lib/trap-" + filepath.Base(others[0])
	put(trap, load(read(others[0])), noisy(catVec, 0.0125))
	c.traps = append(c.traps, trap)
	for _, p := range others[1:25] {
		q := "/lib/alike/" + filepath.Base(p)
		put(q, load(read(p)), noisy(centre, 0.031))
		c.lookAlikes = append(c.lookAlikes, q)
	}
	recoloured := image.NewRGBA(cat.Rect)
	copy(recoloured.Pix, cat.Pix)
	b := cat.Rect
	for y := b.Min.Y + b.Dy()/4; y < b.Max.Y-b.Dy()/4; y++ {
		for x := b.Min.X + b.Dx()/4; x < b.Max.X-b.Dx()/4; x++ {
			o := recoloured.PixOffset(x, y)
			recoloured.Pix[o], recoloured.Pix[o+2] = recoloured.Pix[o+2], 255-recoloured.Pix[o]
		}
	}
	put("/lib/trap-recoloured-cat.jpg", recoloured, noisy(catVec, 0.0125))
	c.traps = append(c.traps, "/lib/trap-recoloured-cat.jpg")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if c.r, err = store.Open(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.r.Close() })
	return c
}

func crowdManifest() *models.Manifest {
	return &models.Manifest{ID: "crowd", Thresholds: models.Thresholds{Exact: 0.03, Near: 0.6, Similar: 0.6}}
}

func groupPaths(d *Duplicates) [][]string {
	var out [][]string
	for _, g := range d.Groups {
		var ps []string
		for _, m := range g.Members {
			ps = append(ps, m.Path)
		}
		slices.Sort(ps)
		out = append(out, ps)
	}
	return out
}

// TestNearCriterionInACrowd: where look-alikes crowd closer than the near
// distance, a distance alone groups them; the near test groups exactly the
// cat and its copies, leaves out the look-alikes and both traps (a
// different photo and a local recolouring as close as a copy), and says
// for each member which check took it in.
func TestNearCriterionInACrowd(t *testing.T) {
	c := newCrowd(t, true)
	ctx := context.Background()
	byDistance, err := FindDuplicates(ctx, c.r, DuplicateOptions{Criterion: DistanceCriterion(0.6), Search: SearchOptions{Exact: true}})
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for _, g := range groupPaths(byDistance) {
		if slices.ContainsFunc(g, func(p string) bool { return slices.Contains(c.lookAlikes, p) }) {
			wrong++
		}
	}
	if wrong == 0 {
		t.Fatalf("the crowd is not crowded: a distance alone made no group of look-alikes: %v", groupPaths(byDistance))
	}

	crit, err := NewCriterion(crowdManifest(), PresetNear)
	if err != nil {
		t.Fatal(err)
	}
	d, err := FindDuplicates(ctx, c.r, DuplicateOptions{Criterion: crit, Search: SearchOptions{Exact: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"/lib/cat.jpg"}, c.copies...)
	slices.Sort(want)
	if got := groupPaths(d); len(got) != 1 || !slices.Equal(got[0], want) {
		t.Fatalf("near groups %v, want one group %v", got, want)
	}
	if d.Signed != d.Images || d.Checked == 0 {
		t.Errorf("signed %d of %d, checked %d", d.Signed, d.Images, d.Checked)
	}
	g := d.Groups[0]
	for mi, m := range g.Members {
		v := d.Verdicts[0][mi]
		switch {
		case mi == g.Keep && v.Check != "":
			t.Errorf("keeper %s has a verdict %+v", m.Path, v)
		case mi != g.Keep && (!v.Dup || v.Check != CheckPixels || v.Pixels == nil || !(v.Score > 0 && v.Score < 1)):
			t.Errorf("member %s: verdict %+v", m.Path, v)
		}
	}
	if k := g.Members[g.Keep].Path; k != "/lib/cat.jpg" && k != "/lib/copies/cat-png.jpg" {
		t.Errorf("keeper %s (why %v), want the cat or its lossless copy", k, d.KeepWhy[0])
	}
}

// TestNearCriterionWithoutSignatures: images without signatures are judged
// by their vectors alone, at the stricter score: the look-alikes still stay
// out, and nothing is checked by pixels.
func TestNearCriterionWithoutSignatures(t *testing.T) {
	c := newCrowd(t, false)
	crit, err := NewCriterion(crowdManifest(), PresetNear)
	if err != nil {
		t.Fatal(err)
	}
	d, err := FindDuplicates(context.Background(), c.r, DuplicateOptions{Criterion: crit, Search: SearchOptions{Exact: true}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Signed != 0 || d.Checked != 0 {
		t.Errorf("signed %d checked %d", d.Signed, d.Checked)
	}
	for gi, g := range groupPaths(d) {
		for _, p := range g {
			if slices.Contains(c.lookAlikes, p) {
				t.Errorf("look-alike %s grouped: %v", p, g)
			}
		}
		for mi := range g {
			if v := d.Verdicts[gi][mi]; mi != d.Groups[gi].Keep && v.Check != CheckVectors {
				t.Errorf("verdict %+v without signatures", v)
			}
		}
	}
}

// TestPairingPath: pairing every row goes through the graph only past
// pairsCrossover (rows × dimension; the exact all-pairs scan is cheaper
// below), whatever a per-query cost model would say; a negative LoadCost
// (tests, benchmarks) uses the graph whenever it is there.
func TestPairingPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	ctx := context.Background()
	c, err := Open(ctx, dir, Options{ANNThreshold: 100})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, c, 500, 3)
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Len()*r.Dim() >= pairsCrossover {
		t.Fatalf("store of %d × %d is past the crossover", r.Len(), r.Dim())
	}
	for _, tc := range []struct {
		cost float64
		want string
	}{{0, "exact"}, {1e-9, "exact"}, {-1, "hnsw"}} {
		d, err := FindDuplicates(ctx, r, DuplicateOptions{Criterion: DistanceCriterion(0.1),
			Search: SearchOptions{ANNThreshold: 100, LoadCost: tc.cost, Searches: r.Len()}})
		if err != nil {
			t.Fatal(err)
		}
		if d.Method != tc.want {
			t.Errorf("load cost %g: pairs %s, want %s", tc.cost, d.Method, tc.want)
		}
	}
}

// TestDefaultDedupIsTheBuiltinCalibration: the near test of a model
// without a dedup block is the built-in model's held-out choice, written
// twice (here and in its manifest): they must not drift apart.
func TestDefaultDedupIsTheBuiltinCalibration(t *testing.T) {
	b, err := models.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	got, want := DefaultDedup, *b.Manifest.Dedup
	got.Calibration, want.Calibration = "", ""
	if got != want {
		t.Errorf("DefaultDedup %+v, built-in manifest %+v", got, want)
	}
}
