package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

func statusJSON(t *testing.T, sdir string) statusReport {
	t.Helper()
	code, out, errs := embedCLI(t, "", "status", "--store", sdir, "--json")
	if code != 0 {
		t.Fatalf("status: %d %s", code, errs)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	for _, k := range []string{"model", "dim", "images", "roots", "bytes", "last_indexed", "failed"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("status --json lacks %q: %s", k, out)
		}
	}
	var rep statusReport
	json.Unmarshal([]byte(out), &rep)
	return rep
}

func TestIndexStatusForget(t *testing.T) {
	dir, _ := imageDir(t, 6)
	sdir := filepath.Join(t.TempDir(), "store")
	code, out, errs := embedCLI(t, "", "index", dir, "--store", sdir, "--model", tinyModel)
	// picture.dat is not an image name: walks choose by extension.
	if code != 0 || !strings.Contains(out, "scanned 5, new 5,") {
		t.Fatalf("index: %d\n%s\n%s", code, out, errs)
	}
	rep := statusJSON(t, sdir)
	if rep.Model != "tiny-test-v1" || rep.Dim != 16 || rep.Images != 5 || len(rep.Roots) != 1 || rep.Roots[0] != dir ||
		rep.Bytes <= 0 || rep.LastIndexed == nil || time.Since(*rep.LastIndexed) > time.Hour || rep.Failed != 0 {
		t.Fatalf("status: %+v", rep)
	}
	code, out, _ = embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir)
	if code != 0 || !strings.Contains(out, "new 0, changed 0, moved 0, removed 0") {
		t.Fatalf("unchanged re-index: %d %s", code, out)
	}
	// A file named explicitly is tried whatever its extension; via stdin too.
	code, out, errs = embedCLI(t, filepath.Join(dir, "picture.dat")+"\n", "index", "--store", sdir, "--model", tinyModel, "-")
	if code != 0 || !strings.Contains(out, "new 1") {
		t.Fatalf("index from stdin: %d %s %s", code, out, errs)
	}

	// A broken image: exit 3, listed on stderr and in --errors.
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("\x89PNG\r\n\x1a\n broken"), 0o644)
	errFile := filepath.Join(t.TempDir(), "errors.tsv")
	code, out, errs = embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, "--errors", errFile, dir)
	if code != exitPartial || !strings.Contains(errs, "broken.png") || !strings.Contains(out, "failed 1") {
		t.Fatalf("broken file: %d\n%s\n%s", code, out, errs)
	}
	data, _ := os.ReadFile(errFile)
	var failedLines []string // skipped files (picture.dat, notes.txt) are listed too, told apart by reason
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.Contains(l, "\tskipped: ") {
			failedLines = append(failedLines, l)
		}
	}
	if len(failedLines) != 1 || !strings.HasPrefix(failedLines[0], filepath.Join(dir, "broken.png")+"\t") {
		t.Fatalf("--errors file: %q", data)
	}
	if rep := statusJSON(t, sdir); rep.Failed != 1 || rep.Images != 6 {
		t.Fatalf("status after failure: %+v", rep)
	}

	// Forget removes entries under a path; images stay.
	code, out, errs = embedCLI(t, "", "forget", "--store", sdir, filepath.Join(dir, "sub"))
	if code != 0 || !strings.Contains(out, "forgot 1 entries") {
		t.Fatalf("forget: %d %s %s", code, out, errs)
	}
	if rep := statusJSON(t, sdir); rep.Images != 5 {
		t.Fatalf("after forget: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "b.png")); err != nil {
		t.Fatal("forget touched an image")
	}
}

func TestIndexErrors(t *testing.T) {
	dir, _ := imageDir(t, 3)
	sdir := filepath.Join(t.TempDir(), "store")
	if code, _, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir); code != 0 {
		t.Fatal(errs)
	}
	// Another model: refused with a hint.
	code, _, errs := embedCLI(t, "", "index", "--store", sdir, "--model", "../../testdata/models/tiny-fixed", dir)
	if code != exitError || !strings.Contains(errs, "different model") || !strings.Contains(errs, "--store") {
		t.Fatalf("other model: %d %s", code, errs)
	}
	// A second writer fails after a short wait, naming the holder.
	m, err := models.Open(tinyModel)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.OpenWriter(sdir, index.Binding(m), store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs = embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir)
	w.Close()
	if code != exitError || !strings.Contains(errs, "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second writer: %d %s", code, errs)
	}
	// No store yet.
	code, _, errs = embedCLI(t, "", "status", "--store", filepath.Join(t.TempDir(), "none"))
	if code != exitError || !strings.Contains(errs, "embedsearch index") {
		t.Fatalf("status without store: %d %s", code, errs)
	}
	// A damaged MANIFEST: refused with a hint, then --repair rebuilds it.
	os.WriteFile(filepath.Join(sdir, "MANIFEST"), []byte("ESMANIFS\x01\x00\x00\x00 damaged"), 0o644)
	code, _, errs = embedCLI(t, "", "status", "--store", sdir)
	if code != exitError || !strings.Contains(errs, "damaged") {
		t.Fatalf("status on damaged store: %d %s", code, errs)
	}
	code, _, errs = embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir)
	if code != exitError || !strings.Contains(errs, "--repair") {
		t.Fatalf("index on damaged store: %d %s", code, errs)
	}
	code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, "--repair", dir)
	if code != 0 || !strings.Contains(errs, "repair: rebuilt MANIFEST") || !strings.Contains(out, "new 0") {
		t.Fatalf("index --repair: %d %s %s", code, out, errs)
	}
	if rep := statusJSON(t, sdir); rep.Images != 2 {
		t.Fatalf("after repair: %+v", rep)
	}
	// Usage errors.
	if code, _, _ := embedCLI(t, "", "index", "--store", sdir); code != exitUsage {
		t.Fatalf("index without args: %d", code)
	}
	if code, _, _ := embedCLI(t, "", "forget", "--store", sdir); code != exitUsage {
		t.Fatalf("forget without args: %d", code)
	}
	if code, _, _ := embedCLI(t, "", "index", "--store", sdir, "--exclude", "[", dir); code != exitUsage {
		t.Fatalf("bad --exclude: %d", code)
	}
}
