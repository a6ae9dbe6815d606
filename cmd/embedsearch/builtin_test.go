package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/internal/testenv"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// The nine files of each exif-orientation group show the same picture once
// their EXIF orientation is applied, so the built-in model must give them
// (nearly) the same vector. The files were JPEG-encoded one by one, so their
// pixels differ slightly: PIL's own tensors for them have cosines down to
// 0.993. A wrong orientation gives cosines around 0.5.
func TestBuiltinEXIFOrientationGroups(t *testing.T) {
	dir := filepath.Join(testenv.SharedData(t), "exif-orientation")
	code, out, errs := embedCLI(t, "", "embed", dir)
	if code != 0 {
		t.Fatalf("embed: %d %s", code, errs)
	}
	vecs := map[string][]float32{}
	for _, r := range parseJSONL(t, out) {
		vecs[filepath.Base(r.Path)] = r.Vector
	}
	f, err := os.Open(filepath.Join(dir, "groups.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	groups := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		names := strings.Fields(sc.Text())
		if len(names) == 0 {
			continue
		}
		groups++
		for _, a := range names {
			for _, b := range names {
				va, vb := vecs[a], vecs[b]
				if va == nil || vb == nil {
					t.Fatalf("no vector for %s or %s", a, b)
				}
				var cos float64
				for i := range va {
					cos += float64(va[i]) * float64(vb[i])
				}
				if cos < 0.99 {
					t.Errorf("%s vs %s: cosine %.4f, want ≥ 0.99", a, b, cos)
				}
			}
		}
	}
	if groups != 2 {
		t.Fatalf("read %d groups from groups.tsv, want 2", groups)
	}
}

// TestBuiltinGolden: each built-in model (the default, and the others
// the binary carries that have a golden file), run by onnxruntime on
// Go-decoded and Go-preprocessed images, gives the vectors PyTorch and PIL
// gave for its training checkpoint (models/train/golden.py). Lossless
// inputs agree to float rounding; JPEGs differ by the decoders' rounding.
// golden.py decodes and resizes at full size, so the model runs here from
// a copy whose manifest leaves out jpeg_draft and reducing_gap (checked
// against PIL on their own by infer/preprocess's TestMatchesPIL).
func TestBuiltinGolden(t *testing.T) {
	data := testenv.SharedData(t)
	for _, c := range []struct{ id, file string }{{"", "golden.jsonl"}, {"builtin-v4", "golden-builtin-v4.jsonl"}} {
		t.Run(c.file, func(t *testing.T) { checkGolden(t, data, builtinWithoutDraft(t, c.id), c.file) })
	}
}

func checkGolden(t *testing.T, data, model, file string) {
	f, err := os.Open(filepath.Join(testenv.RepoRoot(t), "models", "train", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type row struct {
		Path   string    `json:"path"`
		Vector []float32 `json:"vector"`
	}
	var want []row
	args := []string{"embed", "--format", "jsonl", "--model", model}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
		args = append(args, filepath.Join(data, r.Path))
	}
	if len(want) < 8 {
		t.Fatalf("%s has %d rows", file, len(want))
	}
	code, out, errs := embedCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("embed: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d vectors for %d images", len(lines), len(want))
	}
	for i, line := range lines {
		var got row
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatal(err)
		}
		tol := 1e-6
		if strings.HasSuffix(want[i].Path, ".jpg") {
			tol = 2e-3
		}
		worst := 0.0
		for j := range want[i].Vector {
			worst = max(worst, math.Abs(float64(got.Vector[j]-want[i].Vector[j])))
		}
		t.Logf("%s: max |diff| %.2e", want[i].Path, worst)
		if len(got.Vector) != len(want[i].Vector) || worst > tol {
			t.Errorf("%s: max |diff| %.2e over %d components, tolerance %.0e", want[i].Path, worst, len(got.Vector), tol)
		}
	}
}

// builtinWithoutDraft writes the built-in model id ("": the default) to a
// folder with its manifest's jpeg_draft and reducing_gap removed and
// returns the folder.
func builtinWithoutDraft(t *testing.T, id string) string {
	t.Helper()
	b, err := models.Builtin()
	if id != "" {
		b, err = models.OpenID(id)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	man := *b.Manifest
	man.Preprocess.JPEGDraft, man.Preprocess.ReducingGap = false, 0
	for _, f := range man.Files {
		data, err := b.ReadFile(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := json.Marshal(&man)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, models.ManifestName), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRetiredBuiltinStore: a store made with the built-in model of another
// embedsearch version is refused by index, query and dedup with one
// message that says what to do, and is left untouched.
func TestRetiredBuiltinStore(t *testing.T) {
	sdir := filepath.Join(t.TempDir(), "store")
	w, err := store.OpenWriter(sdir, store.Binding{ModelID: "builtin-v0", Digest: "00", Preprocess: "00", Dim: 128}, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, 128)
	v[0] = 1
	img := writePNGs(t, t.TempDir(), "a", 0, 1)[0]
	if err := w.Put(store.Entry{Path: img, Size: 1}, v); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	before, _ := os.ReadFile(filepath.Join(sdir, "MANIFEST"))
	for _, args := range [][]string{
		{"index", "--store", sdir, filepath.Dir(img)},
		{"query", "--store", sdir, img},
		{"dedup", "--store", sdir},
	} {
		code, _, errs := embedCLI(t, "", args...)
		if code != 1 || !strings.Contains(errs, "builtin-v0") || !strings.Contains(errs, "index the same folders into a new store") {
			t.Errorf("%s: exit %d, stderr %q", args[0], code, errs)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(sdir, "MANIFEST")); string(after) != string(before) {
		t.Fatal("the store was changed")
	}
}

// TestOtherBuiltinStore: a store indexed with another built-in model than
// the default (what a store made before the default changed holds, or one
// made with --model builtin-v4) still indexes more photos, answers queries
// and finds duplicates without --model: the store's recorded id opens that
// model, not the default one.
func TestOtherBuiltinStore(t *testing.T) {
	cur, err := models.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ids := models.OtherBuiltins()
	if len(ids) == 0 {
		t.Fatal("no other built-in model is carried (models/builtins/)")
	}
	for _, id := range ids {
		dir := t.TempDir()
		imgs := writePNGs(t, dir, "a", 0, 6)
		sdir := filepath.Join(t.TempDir(), "store")
		if code, _, errs := embedCLI(t, "", "index", "--store", sdir, "--model", id, dir); code != 0 {
			t.Fatalf("index --model %s: exit %d: %s", id, code, errs)
		}
		writePNGs(t, dir, "b", 6, 2)
		if code, _, errs := embedCLI(t, "", "index", "--store", sdir, dir); code != 0 {
			t.Fatalf("index without --model: exit %d: %s", code, errs)
		}
		r, err := store.Open(sdir)
		if err != nil {
			t.Fatal(err)
		}
		b, n := r.Model(), r.Len()
		r.Close()
		if b.ModelID != id || b.ModelID == cur.Manifest.ID || n != 8 {
			t.Fatalf("store holds %d vectors of %s, want 8 of %s (current %s)", n, b.ModelID, id, cur.Manifest.ID)
		}
		code, out, errs := embedCLI(t, "", "query", "--store", sdir, "--json", "-k", "3", imgs[2])
		if code != 0 {
			t.Fatalf("query: exit %d: %s", code, errs)
		}
		if a := parseAnswer(t, out); len(a.Results) != 3 || a.Results[0].Path != imgs[2] || a.Results[0].Distance > 1e-6 {
			t.Fatalf("query: %+v, want the image itself first", a.Results)
		}
		if code, _, errs := embedCLI(t, "", "dedup", "--store", sdir); code != 0 {
			t.Fatalf("dedup: exit %d: %s", code, errs)
		}
	}
}
