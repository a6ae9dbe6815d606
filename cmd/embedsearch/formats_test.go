package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/infer/preprocess"
)

// photoFolder copies a HEIC, an AVIF and two RAWs (the decoder's fixtures,
// with the extensions cameras give them) beside a PNG.
func photoFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	fixtures := filepath.Join("..", "..", "infer", "preprocess", "testdata")
	for from, to := range map[string]string{
		"heif/photo.heic": "IMG_0001.HEIC", "heif/photo.avif": "b.avif",
		"raw/orient8.cr2": "IMG_0002.CR2", "raw/plain.nef": "DSC_0003.NEF",
	} {
		data, err := os.ReadFile(filepath.Join(fixtures, from))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, to), data, 0o644)
	}
	writePNGs(t, dir, "a", 0, 1)
	return dir
}

// TestPhonePhotosIndexed: a folder with a HEIC, an AVIF, a CR2, a NEF and
// a PNG indexes all five (before, the first four vanished without a word).
func TestPhonePhotosIndexed(t *testing.T) {
	if _, err := preprocess.HEIFDecoder(); err != nil {
		t.Skipf("libheif is needed (Debian: apt-get install libheif1): %v", err)
	}
	dir := photoFolder(t)
	code, out, errs := runCLI(t, "index", "--store", filepath.Join(t.TempDir(), "store"), "--model", tinyModel, dir)
	if code != exitOK || !strings.Contains(out, "scanned 5, new 5,") || strings.Contains(out, "skipped") {
		t.Fatalf("index: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "runtime"); code != exitOK || !strings.Contains(out, "heic/avif:  libheif 1.") {
		t.Errorf("runtime does not name libheif: exit %d\n%s", code, out)
	}
}

// TestHEICWithoutLibheif: without libheif, each HEIC and AVIF fails on its
// own (exit 3) with what to install; the RAWs and the PNG are embedded.
// Runs in a child process whose EMBEDSEARCH_LIBHEIF names no library.
func TestHEICWithoutLibheif(t *testing.T) {
	if os.Getenv("EMBEDSEARCH_TEST_HEIF_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHEICWithoutLibheif$", "-test.count=1")
		cmd.Env = append(os.Environ(), "EMBEDSEARCH_TEST_HEIF_CHILD=1", preprocess.LibheifEnv+"="+filepath.Join(t.TempDir(), "libheif.so.1"))
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	dir := photoFolder(t)
	code, out, errs := runCLI(t, "embed", "--model", tinyModel, dir)
	if code != exitPartial || strings.Count(out, "\n") != 3 {
		t.Errorf("embed: exit %d, %d rows; want %d and 3 rows", code, strings.Count(out, "\n"), exitPartial)
	}
	if code, out, _ := runCLI(t, "runtime"); code != exitOK || !strings.Contains(out, "heic/avif:  none: libheif not found") ||
		!strings.Contains(out, "apt-get install libheif1") {
		t.Errorf("runtime does not say libheif is missing: exit %d\n%s", code, out)
	}
	for _, name := range []string{"IMG_0001.HEIC", "b.avif"} {
		if !strings.Contains(errs, name+": unsupported image format") || !strings.Contains(errs, "apt-get install libheif1") {
			t.Errorf("stderr does not say why %s failed and what to install:\n%s", name, errs)
		}
	}
}
