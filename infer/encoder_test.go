package infer

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/models"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// testRuntime loads onnxruntime the way the CLI does: ONNXRUNTIME_LIB, the
// cache, the system, else the pinned download (EMBEDSEARCH_ORT_BASEURL
// names a mirror).
func testRuntime(t testing.TB) *Runtime {
	t.Helper()
	rt, err := LoadRuntime(context.Background(), RuntimeOptions{
		Library: os.Getenv("ONNXRUNTIME_LIB"),
		BaseURL: os.Getenv("EMBEDSEARCH_ORT_BASEURL"),
	})
	if err != nil {
		t.Fatalf("onnxruntime is needed for this test: %v", err)
	}
	return rt
}

func openModel(t testing.TB, name string) *models.Model {
	t.Helper()
	m, err := models.Open(filepath.Join(testenv.RepoRoot(t), "testdata", "models", name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newTestEncoder(t testing.TB, model string, o EncoderOptions) *Encoder {
	t.Helper()
	e, err := NewEncoder(testRuntime(t), openModel(t, model), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// randomTensors returns n image tensors with values in the range a
// normalised image takes, each image different.
func randomTensors(n, tlen int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float32, n*tlen)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func TestRuntimeInfo(t *testing.T) {
	rt := testRuntime(t)
	if !versionAtLeast(rt.Version, MinVersion) {
		t.Errorf("version %s < %s", rt.Version, MinVersion)
	}
	if !slices.Contains(rt.Providers(), "CPUExecutionProvider") {
		t.Errorf("providers %v lack CPUExecutionProvider", rt.Providers())
	}
	n, cudaErr := rt.CUDA()
	if (n > 0) == (cudaErr != nil) {
		t.Errorf("CUDA() = %d, %v; want devices or a reason", n, cudaErr)
	}
	if !slices.Contains(rt.Providers(), cudaProvider) && !errors.Is(cudaErr, ErrCPUOnly) {
		t.Errorf("build without CUDA: CUDA() = %d, %v; want ErrCPUOnly", n, cudaErr)
	}
	plugin := filepath.Join(filepath.Dir(rt.Path), "libonnxruntime_providers_cuda.so")
	if _, err := os.Stat(plugin); err != nil && !errors.Is(cudaErr, ErrCPUOnly) {
		t.Errorf("no CUDA plugin beside the library: CUDA() = %d, %v; want ErrCPUOnly", n, cudaErr)
	}
	again, err := LoadRuntime(context.Background(), RuntimeOptions{})
	if err != nil || again != rt {
		t.Errorf("second LoadRuntime = %p, %v; want the same runtime %p", again, err, rt)
	}
	other := filepath.Join(t.TempDir(), "libonnxruntime.so")
	if _, err := LoadRuntime(context.Background(), RuntimeOptions{Library: other}); !errors.Is(err, ErrRuntimeLoaded) {
		t.Errorf("LoadRuntime of another library: err = %v, want ErrRuntimeLoaded", err)
	}
}

func TestEncoderOutputsUnitVectors(t *testing.T) {
	e := newTestEncoder(t, "tiny", EncoderOptions{Threads: 1})
	if e.Dim() != 16 || e.Device() != DeviceCPU || e.TensorLen() != 3*32*32 {
		t.Fatalf("dim %d device %s tensor %d", e.Dim(), e.Device(), e.TensorLen())
	}
	const n = 5
	vecs, err := e.RunTensors(randomTensors(n, e.TensorLen(), 1), n)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != n {
		t.Fatalf("%d vectors for %d images", len(vecs), n)
	}
	for i, v := range vecs {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		if math.Abs(math.Sqrt(s)-1) > 1e-6 {
			t.Errorf("vector %d has norm %v", i, math.Sqrt(s))
		}
		if i > 0 && maxAbsDiff(v, vecs[0]) < 1e-3 {
			t.Errorf("vectors 0 and %d are the same for different images", i)
		}
	}
}

// TestVectorIndependentOfBatch: an image's vector must not depend on which
// other images share its inference call, nor on the batch size.
func TestVectorIndependentOfBatch(t *testing.T) {
	for _, batch := range []int{1, 3, 8} {
		e := newTestEncoder(t, "tiny", EncoderOptions{Batch: batch})
		const n = 11
		all := randomTensors(n, e.TensorLen(), 7)
		together, err := e.RunTensors(all, n)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			alone, err := e.RunTensors(all[i*e.TensorLen():(i+1)*e.TensorLen()], 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(alone[0], together[i]); d > 1e-6 {
				t.Errorf("batch %d: image %d alone vs in a batch: max abs diff %g", batch, i, d)
			}
		}
	}
}

// TestFixedBatchModel: the fixed-batch export (batch 3, same weights) gives
// the dynamic model's vectors for any number of images, padding included.
func TestFixedBatchModel(t *testing.T) {
	dyn := newTestEncoder(t, "tiny", EncoderOptions{})
	fixed := newTestEncoder(t, "tiny-fixed", EncoderOptions{Batch: 16})
	if fixed.Batch() != 3 {
		t.Fatalf("fixed-batch model runs batches of %d, want its own 3", fixed.Batch())
	}
	for _, n := range []int{1, 2, 3, 4, 7} {
		in := randomTensors(n, dyn.TensorLen(), uint64(n))
		want, err := dyn.RunTensors(in, n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fixed.RunTensors(in, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("n=%d: %d vectors", n, len(got))
		}
		for i := range got {
			if d := maxAbsDiff(got[i], want[i]); d > 1e-6 {
				t.Errorf("n=%d image %d: fixed vs dynamic max abs diff %g", n, i, d)
			}
		}
	}
}

// writeModel copies the tiny model into a temp dir with its manifest
// changed by edit, and opens it.
func writeModel(t *testing.T, edit func(m map[string]any)) *models.Model {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "testdata", "models", "tiny")
	dir := t.TempDir()
	onnx, err := os.ReadFile(filepath.Join(src, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.onnx"), onnx, 0o644)
	raw, err := os.ReadFile(filepath.Join(src, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]any
	json.Unmarshal(raw, &man)
	edit(man)
	raw, _ = json.Marshal(man)
	os.WriteFile(filepath.Join(dir, "manifest.json"), raw, 0o644)
	m, err := models.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestManifestMismatch(t *testing.T) {
	rt := testRuntime(t)
	input := func(m map[string]any) map[string]any { return m["image"].(map[string]any)["input"].(map[string]any) }
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		wants []string // both sides of the disagreement
	}{
		{"input name", func(m map[string]any) { input(m)["name"] = "images" }, []string{`"images"`, `"pixel_values"`}},
		{"output name", func(m map[string]any) { m["image"].(map[string]any)["output"].(map[string]any)["name"] = "pooled" },
			[]string{`"pooled"`, `"embedding"`}},
		{"dim", func(m map[string]any) { m["dim"] = 512 }, []string{"[N,512]", "[-1 16]"}},
		{"input size", func(m map[string]any) {
			input(m)["height"], input(m)["width"] = 224, 224
			m["preprocess"].(map[string]any)["crop"] = []int{224, 224}
			m["preprocess"].(map[string]any)["size"] = 224
		}, []string{"[N,3,224,224]", "[-1 3 32 32]"}},
		{"batch axis", func(m map[string]any) { input(m)["dynamic_batch"] = false }, []string{"dynamic_batch false", "dynamic"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewEncoder(rt, writeModel(t, c.edit), EncoderOptions{})
			if !errors.Is(err, ErrModelMismatch) {
				t.Fatalf("err = %v, want ErrModelMismatch", err)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	// The committed mismatched model disagrees on name, size and dim at once.
	_, err := NewEncoder(rt, openModel(t, "mismatch"), EncoderOptions{})
	if !errors.Is(err, ErrModelMismatch) {
		t.Fatalf("testdata/models/mismatch: err = %v, want ErrModelMismatch", err)
	}
	t.Log(err)
}

func TestDevices(t *testing.T) {
	rt := testRuntime(t)
	m := openModel(t, "tiny")
	n, why := rt.CUDA()
	cudaOK := why == nil
	t.Logf("CUDA: %d device(s), %v", n, why)

	e, err := NewEncoder(rt, m, EncoderOptions{Device: DeviceAuto})
	if err != nil {
		t.Fatal(err)
	}
	want := DeviceCPU
	if cudaOK {
		want = DeviceCUDA
	}
	if e.Device() != want {
		t.Errorf("auto chose %s, want %s (CUDA: %d, %v)", e.Device(), want, n, why)
	}
	e.Close()

	e, err = NewEncoder(rt, m, EncoderOptions{Device: DeviceCUDA})
	if cudaOK {
		if err != nil || e.Device() != DeviceCUDA {
			t.Fatalf("cuda: %v", err)
		}
		e.Close()
	} else {
		if !errors.Is(err, ErrDevice) || !errors.Is(err, why) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("cuda without CUDA: err = %q, want one line with ErrDevice and the reason %q", err, why)
		}
	}
	if _, err := NewEncoder(rt, m, EncoderOptions{Device: "tpu"}); !errors.Is(err, ErrDevice) {
		t.Errorf("device tpu: err = %v, want ErrDevice", err)
	}
}

func TestClosedEncoder(t *testing.T) {
	e := newTestEncoder(t, "tiny", EncoderOptions{})
	e.Close()
	if _, err := e.RunTensors(make([]float32, e.TensorLen()), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("run after Close: err = %v, want ErrClosed", err)
	}
}

// TestTinyMatchesNumpyReference checks the whole runtime path against the
// tiny encoder's forward pass computed by testdata/models/gen.py in numpy,
// without onnxruntime.
func TestTinyMatchesNumpyReference(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "models", "tiny", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Batch   int         `json:"batch"`
		Vectors [][]float64 `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	e := newTestEncoder(t, "tiny", EncoderOptions{})
	const c, h, w = 3, 32, 32
	in := make([]float32, golden.Batch*c*h*w)
	for b := 0; b < golden.Batch; b++ {
		for i := 0; i < c*h*w; i++ {
			in[b*c*h*w+i] = float32(2 * math.Sin(0.01*float64(b+1)*float64(i)+float64(b)))
		}
	}
	got, err := e.RunTensors(in, golden.Batch)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for b, want := range golden.Vectors {
		for j, x := range want {
			worst = max(worst, math.Abs(x-float64(got[b][j])))
		}
	}
	t.Logf("max abs diff to the numpy reference: %.3g", worst)
	if worst > 1e-5 || len(golden.Vectors) != golden.Batch {
		t.Errorf("max abs diff to the numpy reference %g (want <= 1e-5)", worst)
	}
}

// TestNormalizeRefusesDirectionless: a model output without a direction
// is reported (ErrNoVector upstream), never stored as a zero or NaN row
// that every later search would have to step around.
func TestNormalizeRefusesDirectionless(t *testing.T) {
	for _, v := range [][]float32{{0, 0, 0}, {1, float32(math.NaN()), 0}, {float32(math.Inf(1)), 0, 0}} {
		if normalize(v) {
			t.Errorf("normalize(%v) = true", v)
		}
	}
	v := []float32{3, 4, 0}
	if !normalize(v) || v[0] != 0.6 || v[1] != 0.8 {
		t.Errorf("normalize(3,4,0) = %v", v)
	}
}
