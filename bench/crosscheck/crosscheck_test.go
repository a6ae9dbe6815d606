// Package crosscheck compares embedsearch's runtime path (Go, onnxruntime_go,
// the provisioned library) with a second implementation (onnxruntime-node)
// on the same input tensors. Set up once with `npm ci` in this folder.
package crosscheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/models"
)

// tolerance is the largest difference allowed between the two runtimes'
// L2-normalised outputs.
const tolerance = 1e-5

func nodeReady(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the cross-check needs node and `npm ci` in bench/crosscheck")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "onnxruntime-node", "package.json")); err != nil {
		t.Skip("bench/crosscheck/node_modules is missing: run `npm ci` in bench/crosscheck")
	}
	return node
}

// inputs returns n image tensors: pictures prepared by the model's own
// preprocessing, plus one tensor of random values.
func inputs(t *testing.T, e *infer.Encoder, n int) []float32 {
	t.Helper()
	out := make([]float32, n*e.TensorLen())
	r := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < n-1; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 50+7*i, 40+3*i))
		b := img.Bounds()
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				img.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(x * 5), uint8(y*3 + 40*i), 255})
			}
		}
		if err := e.Preparer().Image(img, out[i*e.TensorLen():(i+1)*e.TensorLen()]); err != nil {
			t.Fatal(err)
		}
	}
	for i := (n - 1) * e.TensorLen(); i < len(out); i++ {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

func writeFloats(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func TestCrossCheckWithOnnxruntimeNode(t *testing.T) {
	node := nodeReady(t)
	rt, err := infer.LoadRuntime(context.Background(), infer.RuntimeOptions{
		Library: os.Getenv("ONNXRUNTIME_LIB"),
		BaseURL: os.Getenv("EMBEDSEARCH_ORT_BASEURL"),
	})
	if err != nil {
		t.Fatalf("onnxruntime: %v", err)
	}
	specs := []string{"../../testdata/models/tiny", "../../testdata/models/tiny-fixed"}
	if _, err := models.Builtin(); err == nil {
		specs = append(specs, models.BuiltinName)
	} else {
		t.Logf("built-in model not checked: %v", err)
	}
	for _, spec := range specs {
		t.Run(filepath.Base(spec), func(t *testing.T) {
			m, err := models.Open(spec)
			if err != nil {
				t.Fatal(err)
			}
			e, err := infer.NewEncoder(rt, m, infer.EncoderOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			n := 5
			if !m.Manifest.Image.Input.DynamicBatch {
				n = e.Batch()
			}
			in := inputs(t, e, n)
			goVecs, err := e.RunTensors(in, n)
			if err != nil {
				t.Fatal(err)
			}

			dir := t.TempDir()
			graph, err := m.ReadFile(m.Manifest.Image.File)
			if err != nil {
				t.Fatal(err)
			}
			modelPath, inPath, outPath := filepath.Join(dir, "model.onnx"), filepath.Join(dir, "in.bin"), filepath.Join(dir, "out.bin")
			os.WriteFile(modelPath, graph, 0o644)
			writeFloats(t, inPath, in)
			ii := m.Manifest.Image.Input
			shape := fmt.Sprintf("%d,3,%d,%d", n, ii.Height, ii.Width)
			cmd := exec.Command(node, "crosscheck.mjs", modelPath, ii.Name, m.Manifest.Image.Output.Name, shape, inPath, outPath)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, stderr.String())
			}
			var res struct {
				Shape   []int  `json:"shape"`
				Version string `json:"onnxruntime_node"`
			}
			if err := json.Unmarshal(bytes.TrimSpace(stdout), &res); err != nil {
				t.Fatalf("node printed %q: %v", stdout, err)
			}
			dim := e.Dim()
			if len(res.Shape) != 2 || res.Shape[0] != n || res.Shape[1] != dim {
				t.Fatalf("node output shape %v, want [%d %d]", res.Shape, n, dim)
			}
			nodeOut := readFloats(t, outPath)
			var worst float64
			for i := 0; i < n; i++ {
				row := nodeOut[i*dim : (i+1)*dim]
				var s float64
				for _, x := range row {
					s += float64(x) * float64(x)
				}
				for j, x := range row {
					worst = max(worst, math.Abs(float64(x)/math.Sqrt(s)-float64(goVecs[i][j])))
				}
			}
			t.Logf("%s: %d images, dim %d: max abs diff Go (onnxruntime %s) vs onnxruntime-node %s: %.3g",
				m.Manifest.ID, n, dim, rt.Version, res.Version, worst)
			if worst > tolerance || math.IsNaN(worst) {
				t.Errorf("max abs diff %g > %g", worst, tolerance)
			}
			if strings.TrimSpace(res.Version) == "" {
				t.Error("node did not report its onnxruntime version")
			}
		})
	}
}
