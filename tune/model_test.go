package tune

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/internal/testenv"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

func testRuntime(t testing.TB) *infer.Runtime {
	t.Helper()
	rt, err := infer.LoadRuntime(context.Background(), infer.RuntimeOptions{
		Library: os.Getenv("ONNXRUNTIME_LIB"),
		BaseURL: os.Getenv("EMBEDSEARCH_ORT_BASEURL"),
	})
	if err != nil {
		t.Fatalf("onnxruntime is needed for this test: %v", err)
	}
	return rt
}

// tinyTuned writes a tuned model on the repository's tiny test model with
// a head of the kind (perturbed away from the identity) and returns the
// base, the tuned model, its folder and the head.
func tinyTuned(t *testing.T, kind string, out int) (*models.Model, *models.Model, string, *Head) {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "testdata", "models", "tiny")
	base, err := models.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHead(kind, base.Manifest.Dim, out, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 3))
	for i := range h.P {
		h.P[i] += 0.2 * r.NormFloat64()
	}
	dir := filepath.Join(t.TempDir(), "tuned")
	res := &Result{Head: h, Scale: 1, Near: 0.3}
	if _, err := WriteModel(dir, base, src, res, Record{Head: kind, Loss: LossTriplet, Labels: "test"}, "embedsearch test"); err != nil {
		t.Fatal(err)
	}
	m, err := models.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return base, m, dir, h
}

// encoders opens an encoder for each model, closed when the test ends.
func encoders(t *testing.T, rt *infer.Runtime, ms ...*models.Model) (*infer.Encoder, *infer.Encoder) {
	t.Helper()
	var es []*infer.Encoder
	for _, m := range ms {
		e, err := infer.NewEncoder(rt, m, infer.EncoderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		es = append(es, e)
	}
	return es[0], es[1]
}

func photos(t *testing.T, n int) []string {
	t.Helper()
	ps, err := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "testdata", "photos", "*.jpg"))
	if err != nil || len(ps) < n {
		t.Fatalf("testdata/photos: %d photos, %v", len(ps), err)
	}
	return ps[:n]
}

// TestExportedHeadMatches: the tuned model, run by infer (base tower, then
// the exported ONNX head through onnxruntime), gives the Go head's vectors
// of the base model's vectors within 1e-5.
func TestExportedHeadMatches(t *testing.T) {
	rt := testRuntime(t)
	for _, c := range []struct {
		kind string
		out  int
	}{{HeadLinear, 16}, {HeadLinear, 8}, {HeadMLP, 12}} {
		t.Run(c.kind, func(t *testing.T) {
			base, tuned, _, h := tinyTuned(t, c.kind, c.out)
			eb, et := encoders(t, rt, base, tuned)
			if et.Dim() != c.out {
				t.Fatalf("tuned encoder dim %d, want %d", et.Dim(), c.out)
			}
			worst := 0.0
			for _, p := range photos(t, 6) {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				vb, _, err := eb.EmbedBytes(data)
				if err != nil {
					t.Fatal(err)
				}
				vt, _, err := et.EmbedBytes(data)
				if err != nil {
					t.Fatal(err)
				}
				want := h.Apply(vb, nil)
				for i := range want {
					worst = max(worst, math.Abs(float64(want[i]-vt[i])))
				}
			}
			t.Logf("largest difference %.2g", worst)
			if worst > 1e-5 {
				t.Fatalf("ONNX head differs from the Go head by %.3g", worst)
			}
		})
	}
}

// TestTunedManifestChecks: a tuned model whose base changed, or whose
// manifest names no base digest, is refused at load.
func TestTunedManifestChecks(t *testing.T) {
	_, tuned, dir, _ := tinyTuned(t, HeadLinear, 16)
	if tuned.Base() == nil || tuned.Digest() == tuned.Base().Digest() {
		t.Fatal("a tuned model has its base and a digest of its own")
	}
	raw, err := os.ReadFile(filepath.Join(dir, models.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]any
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	head := man["head"].(map[string]any)
	base := head["base"].(map[string]any)
	base["sha256"] = strings.Repeat("0", 64)
	b, _ := json.Marshal(man)
	os.WriteFile(filepath.Join(dir, models.ManifestName), b, 0o644)
	if _, err := models.Open(dir); !errors.Is(err, models.ErrBaseModel) {
		t.Errorf("base digest changed: got %v, want ErrBaseModel", err)
	}
	base["sha256"] = "abc"
	b, _ = json.Marshal(man)
	os.WriteFile(filepath.Join(dir, models.ManifestName), b, 0o644)
	if _, err := models.Open(dir); !errors.Is(err, models.ErrBadManifest) {
		t.Errorf("no base digest: got %v, want ErrBadManifest", err)
	}
}

// TestReprojectEqualsReembedding: a store written by Reproject from the
// base model's store holds what embedding the images with the tuned model
// gives (within 1e-5), with the same entries and signatures, bound to the
// tuned model.
func TestReprojectEqualsReembedding(t *testing.T) {
	rt := testRuntime(t)
	base, tuned, dir, h := tinyTuned(t, HeadMLP, 12)
	eb, et := encoders(t, rt, base, tuned)
	srcDir := filepath.Join(t.TempDir(), "src")
	w, err := store.OpenWriter(srcDir, index.Binding(base), store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps := photos(t, 8)
	want := map[string][]float32{}
	for i, p := range ps {
		data, _ := os.ReadFile(p)
		v, _, err := eb.EmbedBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		e := store.Entry{Path: p, Size: int64(len(data)), Format: "jpeg", Width: i + 1, Signature: []byte{byte(i), 1, 2}}
		if err := w.Put(e, v); err != nil {
			t.Fatal(err)
		}
		if want[p], _, err = et.EmbedBytes(data); err != nil {
			t.Fatal(err)
		}
	}
	w.AddRoots(filepath.Dir(ps[0]))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	src, err := store.Open(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(t.TempDir(), "dst")
	n, err := Reproject(context.Background(), src, dst, tuned, dir, h)
	if err != nil || n != len(ps) {
		t.Fatalf("reproject: %d, %v", n, err)
	}
	r, err := store.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Model() != index.Binding(tuned) || r.ModelSource() != dir || len(r.Roots()) != 1 {
		t.Fatalf("binding %v source %q roots %v", r.Model(), r.ModelSource(), r.Roots())
	}
	for id := range r.Len() {
		e := r.Entry(id)
		v := r.Vector(id)
		for i := range v {
			if d := math.Abs(float64(v[i] - want[e.Path][i])); d > 1e-5 {
				t.Fatalf("%s: value %d differs by %.3g from re-embedding", e.Path, i, d)
			}
		}
		if string(r.Signature(id)) != string([]byte{byte(e.Width - 1), 1, 2}) || e.Format != "jpeg" {
			t.Fatalf("%s: entry or signature not copied: %+v", e.Path, e)
		}
	}
	// Not onto a store of another model, nor into one with entries.
	if _, err := Reproject(context.Background(), src, dst, tuned, dir, h); !errors.Is(err, ErrOutExists) {
		t.Errorf("second reproject into a full store: %v", err)
	}
	if _, err := Reproject(context.Background(), r, filepath.Join(t.TempDir(), "x"), tuned, dir, h); !errors.Is(err, store.ErrModelMismatch) {
		t.Errorf("reproject from a store of the tuned model: %v", err)
	}
}

// TestHeadGraphChecked: a head graph that is not the one the manifest
// describes (another output name here) is refused when the encoder opens,
// as a mismatched image tower is.
func TestHeadGraphChecked(t *testing.T) {
	rt := testRuntime(t)
	_, _, dir, _ := tinyTuned(t, HeadLinear, 16)
	p := filepath.Join(dir, models.ManifestName)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte(strings.Replace(string(raw), `"output": "embedding"`, `"output": "vectors"`, 1)), 0o644)
	m, err := models.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = infer.NewEncoder(rt, m, infer.EncoderOptions{})
	if !errors.Is(err, infer.ErrModelMismatch) || !strings.Contains(err.Error(), `output "vectors"`) {
		t.Fatalf("got %v, want ErrModelMismatch naming the output", err)
	}
}
