package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/internal/testenv"
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
