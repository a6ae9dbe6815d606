package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/store"
)

// writePNGs writes n distinct small images name0.png … into dir.
func writePNGs(t *testing.T, dir, name string, from, n int) []string {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	var paths []string
	for i := from; i < from+n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for y := range 32 {
			for x := range 32 {
				img.Set(x, y, color.RGBA{uint8(x*(i%7+1)*8 + i*13), uint8(y*(i%5+1)*8 + i*29), uint8((x+y)*(i%3+1)*4 + i*47), 255})
			}
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		p := filepath.Join(dir, fmt.Sprintf("%s%03d.png", name, i))
		os.WriteFile(p, buf.Bytes(), 0o644)
		paths = append(paths, p)
	}
	return paths
}

// TestQueryANN runs index and query over a store above a lowered ANN
// threshold: the index builds and updates the approximate index, query
// gives the exact answers through it (the store is small enough for the
// graph search to be exhaustive), and a stale or damaged file is ignored
// with a note, then rebuilt by the next index.
func TestQueryANN(t *testing.T) {
	old, oldCost := annThreshold, annLoadCost
	annThreshold, annLoadCost = 20, 0 // a tiny store: use the index anyway
	t.Cleanup(func() { annThreshold, annLoadCost = old, oldCost })
	dir := t.TempDir()
	imgs := writePNGs(t, dir, "a", 0, 30)
	imgs = append(imgs, writePNGs(t, filepath.Join(dir, "sub"), "b", 30, 10)...)
	data, _ := os.ReadFile(imgs[0])
	os.WriteFile(filepath.Join(dir, "dup.png"), data, 0o644) // a duplicate for dedup
	sdir := filepath.Join(t.TempDir(), "store")
	annPath := filepath.Join(sdir, store.ANNFile)

	indexStore := func(wantNote string) {
		t.Helper()
		code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir)
		if code != 0 || !strings.Contains(errs, wantNote) {
			t.Fatalf("index: %d %q %q, want a note %q", code, out, errs, wantNote)
		}
	}
	query := func(wantNote string, args ...string) queryAnswer {
		t.Helper()
		code, out, errs := embedCLI(t, "", append([]string{"query", "--store", sdir, "--json"}, args...)...)
		if code != 0 || (wantNote == "") != (errs == "") || !strings.Contains(errs, wantNote) {
			t.Fatalf("query %v: %d %q, want stderr note %q", args, code, errs, wantNote)
		}
		return parseAnswer(t, out)
	}
	// sameAsExact checks a few queries (plain and filtered) against --exact.
	sameAsExact := func(note string) {
		t.Helper()
		for _, q := range []string{imgs[0], imgs[17], imgs[len(imgs)-1]} {
			for _, extra := range [][]string{nil, {"--in", filepath.Join(dir, "sub")}, {"--exclude-self"}} {
				args := append([]string{"-k", "10", q}, extra...)
				got := query(note, args...)
				want := query("", append(args, "--exact")...)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("query %v: ANN %+v, exact %+v", args, got.Results, want.Results)
				}
				if len(extra) == 0 && (len(got.Results) != 10 || got.Results[0].Path != q || got.Results[0].Distance != 0) {
					t.Fatalf("query %s: top result %+v, want itself", q, got.Results[0])
				}
			}
		}
	}
	loadANN := func() error {
		t.Helper()
		r, err := store.Open(sdir)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		_, err = index.LoadANN(r)
		return err
	}

	indexStore("approximate index built: 41 vectors")
	if err := loadANN(); err != nil {
		t.Fatalf("after index: %v", err)
	}
	sameAsExact("")

	// dedup finds its pairs through the index, and says so.
	dedupJSON := func(args ...string) map[string]any {
		t.Helper()
		code, out, errs := embedCLI(t, "", append([]string{"dedup", "--store", sdir, "--json", "--threshold", "0.3"}, args...)...)
		if code != 0 {
			t.Fatalf("dedup %v: %d %s", args, code, errs)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	viaANN, exact := dedupJSON(), dedupJSON("--exact")
	if m := viaANN["method"]; m != "hnsw" {
		t.Fatalf("dedup method %v, want hnsw", m)
	}
	if m := exact["method"]; m != "exact" {
		t.Fatalf("dedup --exact method %v, want exact", m)
	}
	if len(exact["groups"].([]any)) == 0 || !reflect.DeepEqual(viaANN["groups"], exact["groups"]) {
		t.Fatalf("dedup groups: hnsw %v, exact %v", viaANN["groups"], exact["groups"])
	}

	// Add and remove files: the graph is updated, not rebuilt.
	stale, err := os.ReadFile(annPath)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(imgs[5])
	imgs = append(imgs[:5], imgs[6:]...)
	imgs = append(imgs, writePNGs(t, dir, "a", 40, 2)...)
	indexStore("approximate index updated: 2 added, 1 dropped, 42 vectors")
	if err := loadANN(); err != nil {
		t.Fatalf("after update: %v", err)
	}
	sameAsExact("")

	// forget keeps it in step too.
	if code, out, errs := embedCLI(t, "", "forget", "--store", sdir, imgs[3]); code != 0 {
		t.Fatalf("forget: %d %s %s", code, out, errs)
	}
	if err := loadANN(); err != nil {
		t.Fatalf("after forget: %v", err)
	}
	sameAsExact("")
	indexStore("approximate index updated: 1 added, 0 dropped, 42 vectors")

	// status says which search query will do, and why.
	searchMode := func() searchMode {
		t.Helper()
		code, out, errs := embedCLI(t, "", "status", "--store", sdir, "--json")
		var rep statusReport
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("status: exit %d, %s %s", code, out, errs)
		}
		return rep.Search
	}
	fresh, _ := os.ReadFile(annPath)
	if sm := searchMode(); sm.Mode != "approximate" || sm.ANNBytes != int64(len(fresh)) || sm.Threshold != 20 {
		t.Fatalf("status with a current index: %+v", sm)
	}

	// A file for older content is ignored (exact search, one note).
	os.WriteFile(annPath, stale, 0o644)
	sameAsExact("approximate index is out of date")
	if sm := searchMode(); sm.Mode != "exact-fallback" || !strings.Contains(sm.Detail, "out of date") {
		t.Fatalf("status with a stale index: %+v", sm)
	}
	os.WriteFile(annPath, fresh, 0o644)
	sameAsExact("")

	// A damaged file is ignored with a clear note; --exact does not even
	// look at it; the next index rebuilds it.
	// A damaged layer 0 (the middle of the file) is not read by queries
	// (they bound what they read there); status --verify finds it.
	mid := append([]byte(nil), fresh...)
	mid[len(mid)/2] ^= 0x55
	os.WriteFile(annPath, mid, 0o644)
	if code, _, errs := embedCLI(t, "", "status", "--store", sdir, "--verify"); code != 0 || errs != "" {
		t.Fatalf("status --verify: exit %d %s", code, errs)
	}
	code, out, _ := embedCLI(t, "", "status", "--store", sdir, "--verify", "--json")
	if code != 0 || !strings.Contains(out, `"mode": "exact-fallback"`) || !strings.Contains(out, "checksum") {
		t.Fatalf("status --verify with a damaged layer 0: exit %d %s", code, out)
	}
	bad := append([]byte(nil), fresh...)
	bad[len(bad)-100] ^= 0x55
	os.WriteFile(annPath, bad, 0o644)
	sameAsExact("checksum mismatch")
	if sm := searchMode(); sm.Mode != "exact-fallback" || !strings.Contains(sm.Detail, "checksum") {
		t.Fatalf("status with a damaged graph: %+v", sm)
	}
	annLoadCost = 1e9 // loading would cost more than scanning: not even opened
	sameAsExact("")
	annLoadCost = 0
	indexStore("the approximate index was unreadable")
	if err := loadANN(); err != nil {
		t.Fatalf("after rebuild: %v", err)
	}
	sameAsExact("")

	// Below the threshold the file goes away and nothing is said.
	annThreshold = 1000
	indexStore("")
	if _, err := os.Stat(annPath); !os.IsNotExist(err) {
		t.Fatalf("ANN file below the threshold: %v", err)
	}
}
