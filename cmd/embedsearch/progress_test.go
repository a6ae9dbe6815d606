package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/embedsearch/embedsearch/models"
)

func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	// /dev/null is a character device, and was taken for a terminal.
	if isTerminal(null) || isTerminal(&bytes.Buffer{}) {
		t.Fatal("/dev/null or a buffer taken for a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("a file taken for a terminal")
	}
}

// segments splits terminal output at carriage returns and newlines.
func segments(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
}

// TestProgressFitsWidth: every redraw of a bar, whatever the job, fits the
// terminal's width and starts with a carriage return (redrawn in place).
func TestProgressFitsWidth(t *testing.T) {
	for _, cols := range []int{40, 60, 80, 200} {
		var b bytes.Buffer
		p := &progress{w: &b, on: true, width: func() int { return cols }}
		p.show("embedding", "images", 0, 1000)
		for i := int64(1); i <= 1000; i += 333 {
			p.show("embedding", "images", i, 1000)
		}
		p.show("scanning", "files", 123456, -1)
		p.show("dinov2-small/model.onnx", unitBytes, 50<<20, 88<<20)
		p.printLine(&b, "a line between")
		p.show("search graph", "images", 10, 20)
		p.done()
		out := b.String()
		if !strings.Contains(out, "\r") || !strings.Contains(out, "embedding") || !strings.Contains(out, "MiB") {
			t.Fatalf("cols %d: %q", cols, out)
		}
		for _, seg := range segments(out) {
			if n := utf8.RuneCountInString(seg); n > cols {
				t.Errorf("cols %d: a %d-column line: %q", cols, n, seg)
			}
		}
		if !strings.Contains(out, "\na line between\n") && !strings.Contains(out, "\ra line between\n") {
			t.Errorf("cols %d: the line is mixed with the bar: %q", cols, out)
		}
	}
	var b bytes.Buffer
	p := newProgress(&b, false) // a buffer is not a terminal
	p.show("embedding", "images", 5, 10)
	p.printLine(&b, "line")
	p.done()
	if b.String() != "line\n" {
		t.Fatalf("progress on a non-terminal: %q", b.String())
	}
}

// TestProgressOnTerminal runs index under a pseudo-terminal (script(1)) 60
// columns wide: its bar is redrawn in place and fits; with stderr a file,
// nothing but the lines is written.
func TestProgressOnTerminal(t *testing.T) {
	dir := t.TempDir()
	writePNGs(t, dir, "img", 0, 40)
	sdir := filepath.Join(t.TempDir(), "store")
	installedMain(t)
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed (util-linux): no pseudo-terminal")
	}
	log := filepath.Join(t.TempDir(), "tty.log")
	cmd := exec.Command("script", "-qec", "stty cols 60 rows 20; embedsearch index --batch 1 --store "+sdir+" --model "+
		filepath.Join(mustAbs(t, tinyModel))+" "+dir, log)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(log)
	out := string(data)
	if i := strings.Index(out, "\n"); i >= 0 && strings.HasPrefix(out, "Script started") {
		out = out[i+1:]
	}
	if !strings.Contains(out, "\rembedding") || !strings.Contains(out, "scanned 40, new 40") {
		t.Fatalf("no bar on a terminal:\n%q", out)
	}
	for _, seg := range segments(out) {
		if strings.HasPrefix(seg, "embedding") && utf8.RuneCountInString(seg) > 60 {
			t.Errorf("a %d-column bar on a 60-column terminal: %q", utf8.RuneCountInString(seg), seg)
		}
	}

	// The same with stderr a file: no bar, no carriage return.
	os.RemoveAll(sdir)
	errf, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	c := exec.Command(os.Args[0], "index", "--batch", "1", "--store", sdir, "--model", tinyModel, dir)
	c.Env = append(os.Environ(), envRunMain+"=1")
	c.Stderr = errf
	if out, err := c.Output(); err != nil || !strings.Contains(string(out), "scanned 40, new 40") {
		t.Fatalf("index: %v %s", err, out)
	}
	if data, _ := os.ReadFile(errf.Name()); len(data) > 0 {
		t.Fatalf("index wrote to a non-terminal stderr: %q", data)
	}
}

// TestEmbedNPYToDevNull: --format npy is refused on a terminal only;
// /dev/null is a character device but no terminal.
func TestEmbedNPYToDevNull(t *testing.T) {
	dir := t.TempDir()
	writePNGs(t, dir, "img", 0, 3)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	c := exec.Command(os.Args[0], "embed", "--format", "npy", "--model", tinyModel, dir)
	c.Env = append(os.Environ(), envRunMain+"=1")
	c.Stdout = null
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("embed --format npy > /dev/null: %v\n%s", err, stderr.String())
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestProgressEveryJob: index (embedding, then the search graph), dedup
// (comparing), embed (a counter) and models pull (bytes) each draw their
// bar; none is drawn with --quiet.
func TestProgressEveryJob(t *testing.T) {
	old, oldCost := annThreshold, annLoadCost
	annThreshold, annLoadCost, progressAnywhere = 20, 0, true
	t.Cleanup(func() { annThreshold, annLoadCost, progressAnywhere = old, oldCost, false })
	dir := t.TempDir()
	writePNGs(t, dir, "img", 0, 30)
	sdir := filepath.Join(t.TempDir(), "store")
	drew := func(what, errs string, bars ...string) {
		t.Helper()
		for _, b := range bars {
			if !strings.Contains(errs, "\r") || !strings.Contains(errs, b) {
				t.Errorf("%s: no %q bar in %q", what, b, errs)
			}
		}
	}
	code, _, errs := embedCLI(t, "", "index", "--quiet", "--store", sdir, "--model", tinyModel, dir)
	if code != exitOK || strings.Contains(errs, "\r") {
		t.Fatalf("index --quiet: exit %d, %q", code, errs)
	}
	writePNGs(t, dir, "more", 30, 5)
	code, _, errs = embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir)
	if code != exitOK {
		t.Fatalf("index: exit %d %s", code, errs)
	}
	drew("index", errs, "embedding", "saving", "search graph")
	code, _, errs = embedCLI(t, "", "dedup", "--store", sdir, "--threshold", "0.3")
	if code != exitOK {
		t.Fatalf("dedup: exit %d %s", code, errs)
	}
	drew("dedup", errs, "comparing")
	code, _, errs = embedCLI(t, "", "embed", "--model", tinyModel, dir)
	if code != exitOK {
		t.Fatalf("embed: exit %d %s", code, errs)
	}
	drew("embed", errs, "embedding")

	t.Setenv(models.EnvCacheDir, t.TempDir())
	srv, _ := zooMirror(t)
	t.Setenv(models.EnvBaseURL, srv.URL)
	code, _, errs = embedCLI(t, "", "models", "pull", "dinov2-small")
	drew("models pull", errs, "dinov2-small/model.onnx")
	_ = code
}
