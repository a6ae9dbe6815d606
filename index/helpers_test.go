package index

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// tinyModel is the repository's tiny test encoder (random weights, real
// onnxruntime).
func tinyModel(t testing.TB) *models.Model {
	t.Helper()
	m, err := models.Open(filepath.Join(testenv.RepoRoot(t), "testdata", "models", "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testEncoder(t testing.TB) (*infer.Encoder, *models.Model) {
	t.Helper()
	rt, err := infer.LoadRuntime(context.Background(), infer.RuntimeOptions{
		Library: os.Getenv("ONNXRUNTIME_LIB"),
		BaseURL: os.Getenv("EMBEDSEARCH_ORT_BASEURL"),
	})
	if err != nil {
		t.Fatalf("onnxruntime is needed for this test: %v", err)
	}
	m := tinyModel(t)
	enc, err := infer.NewEncoder(rt, m, infer.EncoderOptions{Batch: 8, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc, m
}

// imageFiles lists the image files under src, sorted.
func imageFiles(src string) []string {
	var all []string
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && preprocess.IsImageName(p) {
			all = append(all, p)
		}
		return nil
	})
	sort.Strings(all)
	return all
}

// copyImages copies the first n images (sorted) of a data folder into dst.
func copyImages(t testing.TB, src, dst string, n int) []string {
	t.Helper()
	all := imageFiles(src)
	if len(all) < n {
		t.Fatalf("%s has %d images, need %d", src, len(all), n)
	}
	var out []string
	for _, p := range all[:n] {
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		copyFile(t, p, to)
		out = append(out, to)
	}
	return out
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

// imagesUnder lists the image files under dir as the walker would.
func imagesUnder(t testing.TB, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != dir && (d.Name()[0] == '.' || isJunk(d.Name())) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && d.Name()[0] != '.' && preprocess.IsImageName(d.Name()) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// freshVectors embeds each file on its own (EmbedBytes: batch of one).
type freshVectors struct {
	enc   *infer.Encoder
	cache map[string][]float32 // by content
}

func (f *freshVectors) of(t testing.TB, path string) []float32 {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := f.cache[string(data)]; ok {
		return v
	}
	v, _, err := f.enc.EmbedBytes(data)
	if err != nil {
		t.Fatalf("embed %s: %v", path, err)
	}
	if f.cache == nil {
		f.cache = map[string][]float32{}
	}
	f.cache[string(data)] = v
	return v
}

// checkStore verifies the store holds exactly want (paths), no duplicates,
// each with size/mtime of its file and a vector equal (1e-5) to a fresh
// embedding of the file.
func checkStore(t testing.TB, dir string, want []string, fresh *freshVectors) {
	t.Helper()
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for id := 0; id < r.Len(); id++ {
		got = append(got, r.Path(id))
	}
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("store holds %d entries, want %d\n got %v\nwant %v", len(got), len(want), got, want)
	}
	mat := r.Vectors()
	for id, p := range got {
		e := r.Entry(id)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if e.Size != st.Size() || !e.ModTime.Equal(st.ModTime()) {
			t.Errorf("%s: stored size/mtime %d %v, file %d %v", p, e.Size, e.ModTime, st.Size(), st.ModTime())
		}
		want := fresh.of(t, p)
		v := mat[id*r.Dim() : (id+1)*r.Dim()]
		if d := maxAbsDiff(v, want); d > 1e-5 {
			t.Errorf("%s: stored vector differs from a fresh embedding by %g", p, d)
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}
