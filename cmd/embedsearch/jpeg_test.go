package main

import (
	"encoding/json"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/infer/preprocess"
)

// TestRuntimeNamesJPEGDecoder: runtime says which library decodes JPEGs.
func TestRuntimeNamesJPEGDecoder(t *testing.T) {
	if d := preprocess.JPEGDecoder(); !d.Library {
		t.Skipf("libjpeg-turbo not installed (Debian: apt-get install libturbojpeg0): %s", d.Why)
	}
	code, out, errs := runCLI(t, "runtime")
	if code != exitOK || !strings.Contains(out, "jpeg:       libjpeg-turbo (/") {
		t.Errorf("runtime: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "runtime", "--json")
	var info struct {
		JPEG string `json:"jpeg_decoder"`
		Why  string `json:"jpeg_reason"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || code != exitOK || !strings.HasPrefix(info.JPEG, "libjpeg-turbo /") || info.Why != "" {
		t.Errorf("runtime --json: exit %d, %v, %+v", code, err, info)
	}
}

// TestJPEGWithoutLibjpeg: with EMBEDSEARCH_LIBJPEG=off, or naming a file
// that is not there, JPEGs are decoded by image/jpeg and runtime says why.
// Runs in child processes: the choice is made once per process.
func TestJPEGWithoutLibjpeg(t *testing.T) {
	if spec := os.Getenv("EMBEDSEARCH_TEST_JPEG_CHILD"); spec != "" {
		dir := t.TempDir()
		writeDetailedJPEG(t, filepath.Join(dir, "a.jpg"), 300, 200)
		code, out, errs := runCLI(t, "embed", "--model", tinyModel, dir)
		if code != exitOK || strings.Count(out, "\n") != 1 {
			t.Errorf("embed: exit %d\n%s%s", code, out, errs)
		}
		want := "jpeg:       Go image/jpeg (libjpeg-turbo disabled by EMBEDSEARCH_LIBJPEG=off)"
		if spec != "off" {
			want = "jpeg:       Go image/jpeg (EMBEDSEARCH_LIBJPEG: " + spec + ": "
		}
		if code, out, _ := runCLI(t, "runtime"); code != exitOK || !strings.Contains(out, want) {
			t.Errorf("runtime: exit %d, want %q in\n%s", code, want, out)
		}
		return
	}
	for _, spec := range []string{"off", filepath.Join(t.TempDir(), "libturbojpeg.so.0")} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestJPEGWithoutLibjpeg$", "-test.count=1")
		cmd.Env = append(os.Environ(), "EMBEDSEARCH_TEST_JPEG_CHILD="+spec, preprocess.LibJPEGEnv+"="+spec)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("child with %s=%s: %v\n%s", preprocess.LibJPEGEnv, spec, err, out)
		}
	}
}

// TestFastDecode: --fast-decode decodes a large JPEG at reduced scale for
// a model that does not ask for it (another vector), and changes nothing
// for the built-in model, which always does.
func TestFastDecode(t *testing.T) {
	if d := preprocess.JPEGDecoder(); !d.Library {
		t.Skipf("libjpeg-turbo not installed (Debian: apt-get install libturbojpeg0): %s", d.Why)
	}
	dir := t.TempDir()
	writeDetailedJPEG(t, filepath.Join(dir, "big.jpg"), 1200, 1000)
	vec := func(args ...string) []float32 {
		t.Helper()
		code, out, errs := runCLI(t, append([]string{"embed", "--format", "jsonl"}, append(args, dir)...)...)
		recs := parseJSONL(t, out)
		if code != exitOK || len(recs) != 1 {
			t.Fatalf("embed %v: exit %d\n%s", args, code, errs)
		}
		return recs[0].Vector
	}
	if full, fast := vec("--model", tinyModel), vec("--model", tinyModel, "--fast-decode"); equalVectors(full, fast) {
		t.Error("--fast-decode gave the tiny model the same vector as a full decode")
	}
	if full, fast := vec(), vec("--fast-decode"); !equalVectors(full, fast) {
		t.Error("--fast-decode changed the built-in model's vector")
	}
}

func equalVectors(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// writeDetailedJPEG writes a w×h JPEG of noise over a gradient: detail a
// reduced-scale decode does not keep.
func writeDetailedJPEG(t *testing.T, path string, w, h int) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range m.Pix {
		m.Pix[i] = uint8(i/4%w*255/w/2 + rng.IntN(128))
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
}
