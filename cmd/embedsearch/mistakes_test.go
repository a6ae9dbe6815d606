package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIndexMissingArgument: a DIR or FILE that does not exist is a usage
// error that changes nothing (no store, no --errors file), unless it is a
// root the store already has (an unmounted drive: its entries are kept).
func TestIndexMissingArgument(t *testing.T) {
	dir := t.TempDir()
	photos := filepath.Join(dir, "photos")
	writePNGs(t, photos, "img", 0, 3)
	writePNGs(t, filepath.Join(photos, "2019"), "old", 3, 2)
	sdir := filepath.Join(dir, "store")
	errList := filepath.Join(dir, "errors.tsv")
	for _, args := range [][]string{{"/no/such/dir"}, {photos, filepath.Join(dir, "nosuch")}, {"nosuch.jpg"}} {
		code, out, errs := embedCLI(t, "", append([]string{"index", "--store", sdir, "--model", tinyModel, "--errors", errList}, args...)...)
		missing := args[len(args)-1]
		if code != exitUsage || out != "" || !strings.Contains(errs, "embedsearch: "+missing+": no such file or folder; nothing was indexed") {
			t.Errorf("index %v: exit %d\n%s%s", args, code, out, errs)
		}
		for _, p := range []string{sdir, errList} {
			if _, err := os.Stat(p); err == nil {
				t.Fatalf("index %v created %s", args, p)
			}
		}
	}

	if code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, photos); code != exitOK {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	// The root goes missing (an unmounted drive): index goes on, keeps its
	// entries and says so; so does a folder under it.
	os.Rename(photos, photos+".away")
	for _, arg := range []string{photos, filepath.Join(photos, "2019")} {
		code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, arg)
		if code == exitUsage || !strings.Contains(errs, "kept") || !strings.Contains(out, "removed 0") {
			t.Errorf("index of a missing root %s: exit %d\n%s%s", arg, code, out, errs)
		}
		if rep := statusJSON(t, sdir); rep.Images != 5 || !slices.Equal(rep.Roots, []string{photos}) {
			t.Errorf("after a missing root: %+v", rep)
		}
	}
}

// TestIndexFileArgumentNotRoot: a FILE argument is indexed (or reported
// when it is not an image) and never becomes a root.
func TestIndexFileArgumentNotRoot(t *testing.T) {
	dir := t.TempDir()
	photos := filepath.Join(dir, "photos")
	writePNGs(t, photos, "img", 0, 3)
	loose := writePNGs(t, filepath.Join(dir, "loose"), "one", 3, 1)[0]
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("not an image\n"), 0o644)
	sdir := filepath.Join(dir, "store")
	if code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, photos); code != exitOK {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, notes)
	if code != exitPartial || !strings.Contains(errs, notes+": unsupported image format") || !strings.Contains(out, "failed 1") {
		t.Fatalf("index of a text file: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs = embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, loose); code != exitOK || !strings.Contains(out, "new 1") {
		t.Fatalf("index of an image file: exit %d\n%s%s", code, out, errs)
	}
	if rep := statusJSON(t, sdir); rep.Images != 4 || !slices.Equal(rep.Roots, []string{photos}) {
		t.Fatalf("FILE arguments became roots or were not indexed: %+v", rep)
	}
}

// TestDedupPartialWinsOverRefused: files of DIRs that could not be indexed
// (3) and a refused action (5) in one run: both are named on stderr and
// the exit status is 3, as README's table says.
func TestDedupPartialWinsOverRefused(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "imgs")
	src := writePNGs(t, dir, "a", 0, 1)[0]
	data, _ := os.ReadFile(src)
	os.MkdirAll(filepath.Join(dir, "copies"), 0o755)
	os.WriteFile(filepath.Join(dir, "copies", "a-copy.png"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	moved := filepath.Join(tmp, "moved")
	// The duplicate's destination exists: its move is refused.
	os.MkdirAll(filepath.Join(moved, "copies"), 0o755)
	os.WriteFile(filepath.Join(moved, "copies", "a-copy.png"), []byte("in the way"), 0o644)
	args := []string{"dedup", dir, "--store", filepath.Join(tmp, "store"), "--model", tinyModel, "--threshold", "0.001", "--move-to", moved}
	code, _, errs := embedCLI(t, "", args...)
	if code != exitPartial || !strings.Contains(errs, "broken.png") || !strings.Contains(errs, "refused "+filepath.Join(dir, "copies", "a-copy.png")) {
		t.Fatalf("exit %d (want %d), stderr %q", code, exitPartial, errs)
	}
	os.Remove(filepath.Join(dir, "broken.png"))
	if code, _, errs = embedCLI(t, "", args...); code != exitRefused {
		t.Fatalf("refused only: exit %d (want %d), stderr %q", code, exitRefused, errs)
	}
}

// TestFilterMistakes: a filter with an unknown field, parentheses or a
// type mismatch is a usage error naming the problem, from query and dedup
// alike; it used to match nothing, silently.
func TestFilterMistakes(t *testing.T) {
	q := newQueryFixture(t)
	img0 := filepath.Join(q.dir, "img0.png")
	d := newDedupFixture(t, dedupStandard)
	for _, tc := range []struct{ filter, want string }{
		{"widht:>1000", `unknown field "widht"; the fields are path, dir, name, ext,`},
		{"(ext:png", "parentheses, OR and AND are not part of the filter syntax"},
		{"width:wide", "width is a number"},
	} {
		code, out, errs := q.query(t, "", "--filter", tc.filter, img0)
		if code != exitUsage || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("query --filter %q: exit %d %q %q", tc.filter, code, out, errs)
		}
		code, out, errs = d.run(t, "--filter", tc.filter)
		if code != exitUsage || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("dedup --filter %q: exit %d %q %q", tc.filter, code, out, errs)
		}
	}
}
