package infer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/models"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

type textGolden struct {
	Text      string    `json:"text"`
	Tokens77  []int64   `json:"tokens77"`
	Embedding []float64 `json:"embedding"`
}

func newTestTextEncoder(t *testing.T, m *models.Model, o EncoderOptions) *TextEncoder {
	t.Helper()
	te, err := NewTextEncoder(testRuntime(t), m, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { te.Close() })
	return te
}

// TestTextEncoderGolden runs the Go tokenizer and clip-tiny's text tower
// through onnxruntime and compares with the numpy reference written by
// testdata/models/clip-tiny/gen.py (tolerance 1e-5 per component, float32
// inference against float64 reference).
func TestTextEncoderGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "models", "clip-tiny", "golden_text.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden []textGolden
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) < 3 {
		t.Fatalf("only %d golden texts", len(golden))
	}
	te := newTestTextEncoder(t, openModel(t, "clip-tiny"), EncoderOptions{Batch: 3})
	if te.Dim() != 16 || te.Device() != DeviceCPU {
		t.Errorf("dim %d device %s", te.Dim(), te.Device())
	}
	texts := make([]string, len(golden))
	for i, g := range golden {
		texts[i] = g.Text
		if got := te.Tokens(g.Text); !reflect.DeepEqual(got, g.Tokens77) {
			t.Errorf("%.30q: tokens %v, want %v", g.Text, got, g.Tokens77)
		}
	}
	// Batch of 3 with 4 texts: two calls, the second partly filled.
	vecs, err := te.Embed(texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(golden) {
		t.Fatalf("%d vectors for %d texts", len(vecs), len(golden))
	}
	for i, g := range golden {
		var diff, norm float64
		for j, x := range vecs[i] {
			diff = math.Max(diff, math.Abs(float64(x)-g.Embedding[j]))
			norm += float64(x) * float64(x)
		}
		if diff > 1e-5 || math.Abs(norm-1) > 1e-5 {
			t.Errorf("%.30q: max diff %.2g from the reference, squared norm %.7f", g.Text, diff, norm)
		}
		one, err := te.Embed([]string{g.Text})
		if err != nil {
			t.Fatal(err)
		}
		// Batched and single calls may use different float32 kernels.
		if d := maxAbsDiff(one[0], vecs[i]); d > 1e-6 {
			t.Errorf("%.30q: vector depends on the batch (max diff %.2g)", g.Text, d)
		}
	}
	if none, err := te.Embed(nil); err != nil || len(none) != 0 {
		t.Errorf("Embed(nil) = %v, %v", none, err)
	}
}

func TestTextEncoderNoTextTower(t *testing.T) {
	_, err := NewTextEncoder(testRuntime(t), openModel(t, "tiny"), EncoderOptions{})
	if !errors.Is(err, models.ErrNoTextTower) || !strings.Contains(err.Error(), "clip-vit-b32") || !strings.Contains(err.Error(), "tiny-test-v1") {
		t.Fatalf("err = %v, want ErrNoTextTower naming the model and the models with text towers", err)
	}
}

// writeClipTiny copies clip-tiny into a temporary directory with an edited
// manifest.
func writeClipTiny(t *testing.T, edit func(m map[string]any), extra ...map[string][]byte) *models.Model {
	t.Helper()
	src := filepath.Join(testenv.RepoRoot(t), "testdata", "models", "clip-tiny")
	dir := t.TempDir()
	for _, f := range []string{"vision_model.onnx", "text_model.onnx"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	for _, files := range extra {
		for name, data := range files {
			os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
	}
	b, _ := os.ReadFile(filepath.Join(src, "manifest.json"))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644)
	model, err := models.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return model
}

func TestTextEncoderManifestMismatch(t *testing.T) {
	text := func(m map[string]any) map[string]any { return m["text"].(map[string]any) }
	for _, tc := range []struct {
		name, want string
		edit       func(m map[string]any)
		err        error
	}{
		{"input name", `input "ids"`, func(m map[string]any) { text(m)["input"].(map[string]any)["name"] = "ids" }, ErrModelMismatch},
		{"output name", `output "pooled"`, func(m map[string]any) { text(m)["output"].(map[string]any)["name"] = "pooled" }, ErrModelMismatch},
		{"dtype", "manifest says int32", func(m map[string]any) { text(m)["input"].(map[string]any)["dtype"] = "int32" }, ErrModelMismatch},
		{"fixed batch", "dynamic_batch false", func(m map[string]any) { text(m)["dynamic_batch"] = false }, ErrModelMismatch},
		{"attention mask", `input "attention_mask"`, func(m map[string]any) { text(m)["attention_mask"] = "attention_mask" }, ErrModelMismatch},
		{"context", "[N,64]", func(m map[string]any) {
			text(m)["input"].(map[string]any)["context"] = 64
			m["tokenizer"].(map[string]any)["context"] = 64
		}, ErrModelMismatch},
		{"tokenizer kind", "sentencepiece", func(m map[string]any) { m["tokenizer"].(map[string]any)["kind"] = "sentencepiece" }, models.ErrBadManifest},
		{"tokenizer context", "tokenizer context 76", func(m map[string]any) { m["tokenizer"].(map[string]any)["context"] = 76 }, models.ErrBadManifest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTextEncoder(testRuntime(t), writeClipTiny(t, tc.edit), EncoderOptions{})
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.err, tc.want)
			}
		})
	}
}

// A manifest may bring its own merges file instead of the built-in one.
func TestTextEncoderVocabFile(t *testing.T) {
	vocab, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "infer", "tokenizer", "clip", "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(vocab)
	m := writeClipTiny(t, func(m map[string]any) {
		m["tokenizer"].(map[string]any)["vocab"] = "merges.txt.gz"
		m["files"] = append(m["files"].([]any), map[string]any{
			"name": "merges.txt.gz", "size": len(vocab), "sha256": hex.EncodeToString(sum[:])})
	}, map[string][]byte{"merges.txt.gz": vocab})
	own := newTestTextEncoder(t, m, EncoderOptions{})
	builtin := newTestTextEncoder(t, openModel(t, "clip-tiny"), EncoderOptions{})
	a, err := own.Embed([]string{"a photo of a dog"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := builtin.Embed([]string{"a photo of a dog"})
	if d := maxAbsDiff(a[0], b[0]); d > 1e-6 {
		t.Errorf("same vocabulary from a file gives a different vector (max diff %.2g)", d)
	}
	junk := []byte("#version\na b\n")
	junkSum := sha256.Sum256(junk)
	bad := writeClipTiny(t, func(m map[string]any) {
		m["tokenizer"].(map[string]any)["vocab"] = "merges.txt"
		m["files"] = append(m["files"].([]any), map[string]any{
			"name": "merges.txt", "size": len(junk), "sha256": hex.EncodeToString(junkSum[:])})
	}, map[string][]byte{"merges.txt": junk})
	if _, err := NewTextEncoder(testRuntime(t), bad, EncoderOptions{}); err == nil || !strings.Contains(err.Error(), "merges.txt") {
		t.Errorf("broken vocabulary file: %v", err)
	}
}

func TestTextEncoderClosed(t *testing.T) {
	te, err := NewTextEncoder(testRuntime(t), openModel(t, "clip-tiny"), EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := te.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := te.Embed([]string{"x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestAttentionMask(t *testing.T) {
	ids := []int64{49406, 320, 49407, 0, 0, 49406, 49407, 49407, 49407, 49407}
	want := []int64{1, 1, 1, 0, 0, 1, 1, 0, 0, 0}
	if got := attentionMask(ids, 5); !reflect.DeepEqual(got, want) {
		t.Errorf("mask %v, want %v", got, want)
	}
}

// BenchmarkTextEmbed measures texts/s through the tokenizer and the text
// tower of clip-tiny (tokenizer cost dominates: the tower is tiny).
func BenchmarkTextEmbed(b *testing.B) {
	te, err := NewTextEncoder(testRuntime(b), openModel(b, "clip-tiny"), EncoderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer te.Close()
	texts := make([]string, 64)
	for i := range texts {
		texts[i] = strings.Repeat("a photo of a dog on the beach ", 1+i%4)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := te.Embed(texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(texts)*b.N)/b.Elapsed().Seconds(), "texts/s")
}
