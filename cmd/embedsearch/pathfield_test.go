package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readPathField is how a reader of --errors FILE gets a path back.
func readPathField(t *testing.T, f string) string {
	t.Helper()
	if !strings.HasPrefix(f, `"`) {
		return f
	}
	p, err := strconv.Unquote(f)
	if err != nil {
		t.Fatalf("field %q: %v", f, err)
	}
	return p
}

func TestPathField(t *testing.T) {
	for _, c := range []struct {
		path, want string
	}{
		{"/photos/a b/ü.jpg", "/photos/a b/ü.jpg"},
		{`C:\photos\a.jpg`, `C:\photos\a.jpg`},
		{"/x/\uFFFD.jpg", "/x/\uFFFD.jpg"}, // a real U+FFFD is printable UTF-8
		{"/x/tab\there.jpg", `"/x/tab\there.jpg"`},
		{"/x/new\nline.jpg", `"/x/new\nline.jpg"`},
		{"/x/cr\r.jpg", `"/x/cr\r.jpg"`},
		{"/x/esc\x1b[31m.jpg", `"/x/esc\x1b[31m.jpg"`},
		{"/x/latin1-\xe9.jpg", `"/x/latin1-\xe9.jpg"`},
		{`"quoted".jpg`, `"\"quoted\".jpg"`},
		{`/x/"inner".jpg`, `/x/"inner".jpg`},
		{"/x/nbsp\u00a0.jpg", `"/x/nbsp\u00a0.jpg"`},
	} {
		got := pathField(c.path)
		if got != c.want {
			t.Errorf("pathField(%q) = %s, want %s", c.path, got, c.want)
		}
		if strings.ContainsAny(got, "\t\n\r") {
			t.Errorf("pathField(%q) = %q breaks the line", c.path, got)
		}
		if back := readPathField(t, got); back != c.path {
			t.Errorf("pathField(%q) reads back as %q", c.path, back)
		}
	}
}

// TestIndexErrorsFileNames: index --errors FILE keeps one line per failed
// file whatever its name, and every path reads back exactly.
func TestIndexErrorsFileNames(t *testing.T) {
	dir := t.TempDir()
	broken := []byte("\x89PNG\r\n\x1a\n broken")
	names := []string{"plain.png", "new\nline.png", "tab\there.png", "\"quote.png", "back\\slash.png", "latin1-\xe9.png"}
	var want []string
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, broken, 0o644); err != nil {
			t.Skipf("this file system refuses the name %q: %v", n, err)
		}
		want = append(want, p)
	}
	errFile := filepath.Join(t.TempDir(), "errors.tsv")
	code, out, errs := embedCLI(t, "", "index", "--store", filepath.Join(t.TempDir(), "store"), "--model", tinyModel, "--errors", errFile, dir)
	if code != exitPartial {
		t.Fatalf("index: %d\n%s\n%s", code, out, errs)
	}
	data, err := os.ReadFile(errFile)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f, reason, ok := strings.Cut(line, "\t")
		if !ok || reason == "" || strings.Contains(reason, "\t") {
			t.Fatalf("line %q is not path TAB reason; file:\n%s", line, data)
		}
		got = append(got, readPathField(t, f))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("--errors lists %q, want %q; file:\n%s", got, want, data)
	}
}

// TestIndexErrorsFileFull: an --errors list that cannot be written in full
// is an error (exit 1), not a silently short list.
func TestIndexErrorsFileFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("\x89PNG\r\n\x1a\n broken"), 0o644)
	code, _, errs := embedCLI(t, "", "index", "--store", filepath.Join(t.TempDir(), "store"), "--model", tinyModel, "--errors", "/dev/full", dir)
	if code != exitError || !strings.Contains(errs, "--errors list /dev/full is incomplete") || !strings.Contains(errs, "no space") {
		t.Fatalf("index --errors /dev/full: %d %s", code, errs)
	}
}
