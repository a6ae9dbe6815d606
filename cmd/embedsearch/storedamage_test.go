package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/store"
)

// flipCatalogFooters flips, in every bleve segment file of the store's
// catalog, a byte of the footer that bleve reads as an offset: before the
// catalog was checked against the MANIFEST this panicked with a slice out
// of range in query --filter, dedup --filter and index.
func flipCatalogFooters(t *testing.T, sdir string) {
	t.Helper()
	zaps, _ := filepath.Glob(filepath.Join(sdir, "catalog", "store", "*.zap"))
	if len(zaps) == 0 {
		t.Fatal("catalog has no segment file")
	}
	for _, z := range zaps {
		data, err := os.ReadFile(z)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)-35] ^= 0xff
		if err := os.WriteFile(z, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// singleMessage checks that stderr is exactly one embedsearch message (no
// stack trace, no library log line) and returns it.
func singleMessage(t *testing.T, what, errs string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "embedsearch: ") {
		t.Fatalf("%s: stderr is not one message:\n%s", what, errs)
	}
	return lines[0]
}

// TestCatalogDamageCLI: a flipped catalog byte gives query --filter and
// dedup --filter the same one-line error and exit 1 (it used to panic),
// status --verify reports it, and plain index rebuilds the catalog.
func TestCatalogDamageCLI(t *testing.T) {
	f := newQueryFixture(t)
	img0 := filepath.Join(f.dir, "img0.png")
	filtered := []string{"--json", "-k", "3", "--filter", "ext:png -name:copy.png", img0}
	code, want, errs := f.query(t, "", filtered...)
	if code != 0 {
		t.Fatalf("query --filter: %d %s", code, errs)
	}
	flipCatalogFooters(t, f.store)

	code, _, errs = f.query(t, "", filtered...)
	msg := singleMessage(t, "query --filter", errs)
	if code != exitError || !strings.Contains(msg, "catalog damaged") || !strings.Contains(msg, "checksum mismatch") ||
		!strings.Contains(msg, "run `embedsearch index --repair`") {
		t.Fatalf("query --filter on a damaged catalog: exit %d %s", code, errs)
	}
	code, _, errs = embedCLI(t, "", "dedup", "--store", f.store, "--threshold", "0.3", "--filter", "ext:png -name:copy.png")
	if code != exitError || singleMessage(t, "dedup --filter", errs) != msg {
		t.Fatalf("dedup --filter on a damaged catalog: exit %d %q, want exit %d %q", code, errs, exitError, msg)
	}
	code, out, errs := embedCLI(t, "", "status", "--store", f.store, "--verify")
	if code != exitError || strings.Contains(out, "all checksums match") || !strings.Contains(singleMessage(t, "status --verify", errs), "catalog damaged") ||
		!strings.Contains(errs, "index --repair") {
		t.Fatalf("status --verify on a damaged catalog: exit %d %s %s", code, out, errs)
	}
	// A stale catalog is the same kind of error: exit 1, not a usage error.
	code, _, errs = embedCLI(t, "", "index", "--store", f.store, "--model", tinyModel, f.dir)
	if code != 0 || !strings.Contains(errs, "repair: rebuilt the metadata catalog (catalog damaged") {
		t.Fatalf("plain index on a damaged catalog: %d %s", code, errs)
	}
	code, got, errs := f.query(t, "", filtered...)
	if code != 0 || got != want {
		t.Fatalf("query --filter after index: %d %s\n%s\nwant\n%s", code, errs, got, want)
	}
	if code, out, errs := embedCLI(t, "", "status", "--store", f.store, "--verify"); code != 0 || !strings.Contains(out, "all checksums match") {
		t.Fatalf("status --verify after index: %d %s %s", code, out, errs)
	}
}

// TestStaleCatalogExit: a catalog behind the store is exit 1 with the same
// message from query --filter and dedup --filter (query said exit 2, with a
// usage hint).
func TestStaleCatalogExit(t *testing.T) {
	f := newQueryFixture(t)
	os.RemoveAll(filepath.Join(f.store, "catalog"))
	code, _, errs := f.query(t, "", "--filter", "ext:png", filepath.Join(f.dir, "img0.png"))
	msg := singleMessage(t, "query --filter", errs)
	if code != exitError || !strings.Contains(msg, "index --repair") {
		t.Fatalf("query --filter without a catalog: %d %s", code, errs)
	}
	code, _, errs = embedCLI(t, "", "dedup", "--store", f.store, "--threshold", "0.3", "--filter", "ext:png")
	if code != exitError || singleMessage(t, "dedup --filter", errs) != msg {
		t.Fatalf("dedup --filter without a catalog: %d %q, want %q", code, errs, msg)
	}
}

// TestStoreDamageCLI damages each file of a store built by index (one
// segment, catalog, approximate index, lock) in each way, and checks that
// query (plain and filtered), dedup --filter and status --verify never
// panic and either answer as on the intact store or fail with exit 1 (or
// 6, rows left out) and a message naming the repair; that index, plain or
// with --repair, brings the store back; and that it then answers as before.
// A damaged segment may still answer (a flipped vector byte is item 4's
// business: search leaves such rows out, or the bytes are not read).
func TestStoreDamageCLI(t *testing.T) {
	old, oldCost := annThreshold, annLoadCost
	annThreshold, annLoadCost = 20, 0
	t.Cleanup(func() { annThreshold, annLoadCost = old, oldCost })
	dir := t.TempDir()
	imgs := writePNGs(t, dir, "a", 0, 24)
	data, _ := os.ReadFile(imgs[0])
	os.WriteFile(filepath.Join(dir, "dup.png"), data, 0o644)
	base := filepath.Join(t.TempDir(), "store")
	if code, out, errs := embedCLI(t, "", "index", "--store", base, "--model", tinyModel, dir); code != 0 || !strings.Contains(errs, "approximate index built") {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}

	type answers struct{ query, exact, filtered, dedup string }
	ask := func(t *testing.T, sdir string, strict bool) answers {
		t.Helper()
		var a answers
		run := func(what string, dst *string, args ...string) {
			t.Helper()
			code, out, errs := embedCLI(t, "", args...)
			switch {
			case code == 0:
				*dst = out
			case !strict && (code == exitError || code == exitDamaged) && strings.Contains(errs, "--repair"):
				*dst = "error"
			default:
				t.Errorf("%s: exit %d, stderr %q", what, code, errs)
				*dst = "error"
			}
		}
		q := []string{"query", "--store", sdir, "--json", "-k", "5", imgs[3]}
		run("query", &a.query, q...)
		run("query --exact", &a.exact, append(q, "--exact")...)
		run("query --filter", &a.filtered, append(q, "--filter", "-name:a001.png")...)
		run("dedup --filter", &a.dedup, "dedup", "--store", sdir, "--json", "--threshold", "0.3", "--filter", "ext:png")
		return a
	}
	want := ask(t, base, true)
	var wantDedup map[string]any
	json.Unmarshal([]byte(want.dedup), &wantDedup)

	rs, err := store.Open(base)
	if err != nil {
		t.Fatal(err)
	}
	rs.Close()
	var files []string
	filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(base, p)
			files = append(files, rel)
		}
		return nil
	})
	damage := map[string]func(t *testing.T, p string){
		"flip": func(t *testing.T, p string) {
			data, _ := os.ReadFile(p)
			if len(data) == 0 {
				data = []byte{0}
			}
			data[len(data)/2] ^= 0xff
			os.WriteFile(p, data, 0o644)
		},
		"truncate": func(t *testing.T, p string) {
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		},
		"zero": func(t *testing.T, p string) {
			st, _ := os.Stat(p)
			os.WriteFile(p, make([]byte, st.Size()), 0o644)
		},
		"delete": func(t *testing.T, p string) { os.Remove(p) },
	}
	for _, file := range files {
		for _, kind := range []string{"flip", "truncate", "zero", "delete"} {
			t.Run(strings.ReplaceAll(file, "/", "_")+"/"+kind, func(t *testing.T) {
				sdir := filepath.Join(t.TempDir(), "store")
				if err := os.CopyFS(sdir, os.DirFS(base)); err != nil {
					t.Fatal(err)
				}
				damage[kind](t, filepath.Join(sdir, file))
				segment := strings.HasPrefix(file, "seg-")
				got := ask(t, sdir, false)
				for what, pair := range map[string][2]string{"query": {got.query, want.query}, "query --exact": {got.exact, want.exact},
					"query --filter": {got.filtered, want.filtered}} {
					if pair[0] != "error" && pair[0] != pair[1] && !segment {
						t.Errorf("%s answers differently:\n%s\nwant\n%s", what, pair[0], pair[1])
					}
				}
				if got.dedup != "error" && !segment {
					var d map[string]any
					json.Unmarshal([]byte(got.dedup), &d)
					if !reflect.DeepEqual(d["groups"], wantDedup["groups"]) {
						t.Errorf("dedup --filter answers differently:\n%s\nwant\n%s", got.dedup, want.dedup)
					}
				}
				code, out, errs := embedCLI(t, "", "status", "--store", sdir, "--verify")
				verifyFails := segment || file == "MANIFEST" || strings.HasPrefix(file, "catalog")
				if code != 0 && !strings.Contains(errs, "--repair") || code == 0 && verifyFails {
					t.Errorf("status --verify: exit %d %s %s", code, out, errs)
				}

				// Plain index rebuilds what is derived (catalog, approximate
				// index); it refuses to drop entries without --repair.
				code, _, errs = embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir)
				if code != 0 && (code != exitError || !strings.Contains(errs, "--repair") || !segment && file != "MANIFEST") {
					t.Errorf("plain index: exit %d %s", code, errs)
				}
				if code != 0 {
					if code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, "--repair", dir); code != 0 {
						t.Fatalf("index --repair: exit %d %s %s", code, out, errs)
					}
				}
				if after := ask(t, sdir, true); after.query != want.query || after.exact != want.exact || after.filtered != want.filtered {
					t.Errorf("after index: answers differ:\n%+v\nwant\n%+v", after, want)
				}
				if code, out, errs := embedCLI(t, "", "status", "--store", sdir, "--verify"); code != 0 || !strings.Contains(out, "all checksums match") {
					t.Errorf("status --verify after index: exit %d %s %s", code, out, errs)
				}
			})
		}
	}
}
