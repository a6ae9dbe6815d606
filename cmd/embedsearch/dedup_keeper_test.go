package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/copies"
	"github.com/embedsearch/embedsearch/infer/preprocess"
)

// TestDedupKeepsTheBestCopy: one shipped photo and copies of it made with
// the project's own edits (a framed copy, a greyscale one, a q20 re-encode,
// a PNG re-encode, an EXIF-rotated one, a caption) as real files, indexed
// with the built-in model: dedup groups them all, and the keeper is an
// undegraded copy (the original, its PNG or its EXIF-rotated twin), kept for
// the reasons the table and --json give, whatever the file names say.
func TestDedupKeepsTheBestCopy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "photos", "coffee.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := preprocess.Decode(data, preprocess.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "photos")
	os.MkdirAll(root, 0o755)
	// Names that would win a path tie are given to the degraded copies.
	names := map[string]string{"border": "a-best.jpg", "grey": "b-original.jpg", "jpeg-q20": "c.jpg", "png": "z-png.png",
		"exif8": "y-exif8.jpg", "text": "d.jpg"}
	undegraded := map[string]bool{"x-coffee.jpg": true, "z-png.png": true, "y-exif8.jpg": true}
	if err := os.WriteFile(filepath.Join(root, "x-coffee.jpg"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for edit, name := range names {
		e, ok := copies.Lookup(edit)
		if !ok {
			t.Fatalf("no edit %s", edit)
		}
		b, _, err := copies.Make(img, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st := filepath.Join(dir, "store")
	code, out, errs := embedCLI(t, "", "dedup", "--store", st, "--json", root)
	if code != exitOK {
		t.Fatalf("dedup: exit %d %s", code, errs)
	}
	var rep struct {
		Groups []struct {
			Keep       string   `json:"keep"`
			KeepReason []string `json:"keep_reason"`
			Members    []struct {
				Path  string `json:"path"`
				Check string `json:"check"`
			} `json:"members"`
		} `json:"groups"`
		Stats map[string]float64 `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 1 || len(rep.Groups[0].Members) != len(names)+1 || rep.Stats["signed"] != float64(len(names)+1) {
		t.Fatalf("groups %+v, stats %v", rep.Groups, rep.Stats)
	}
	g := rep.Groups[0]
	if !undegraded[filepath.Base(g.Keep)] || len(g.KeepReason) == 0 {
		t.Errorf("keeper %s (kept for %v); want the original, its PNG or its EXIF-rotated twin", g.Keep, g.KeepReason)
	}
	for _, m := range g.Members {
		if m.Path != g.Keep && !slices.Contains([]string{"exact", "pixels"}, m.Check) {
			t.Errorf("%s taken in by %q", m.Path, m.Check)
		}
	}
	_, text, _ := embedCLI(t, "", "dedup", "--store", st)
	if !strings.Contains(text, "keep   "+g.Keep) || !strings.Contains(text, "kept for: ") {
		t.Errorf("table:\n%s", text)
	}
}
