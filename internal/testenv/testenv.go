// Package testenv finds what tests need outside their own package: the
// repository root (for testdata/ models) and the team's shared test images in
// ../shared/data beside it; it also makes the 12-megapixel benchmark photos
// (photos.go). Only tests and benchmarks (bench/decode/mkphotos) import it.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot walks up from the test's working directory to the folder holding
// go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// SharedData is ../shared/data beside the repository, joined with sub; the
// test is skipped, saying so, when it is absent.
func SharedData(t testing.TB, sub ...string) string {
	t.Helper()
	d := filepath.Join(append([]string{RepoRoot(t), "..", "shared", "data"}, sub...)...)
	if _, err := os.Stat(d); err != nil {
		t.Skipf("test images not found at %s (../shared/data beside the repository): skipping", d)
	}
	return d
}
