package preprocess

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedData returns ../shared/data relative to the repository root, or
// skips the test when it is absent.
func sharedData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the package; cannot locate ../shared/data")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data")
	if fi, err := os.Stat(data); err != nil || !fi.IsDir() {
		t.Skipf("test images not found at %s (the shared data folder beside the repository); skipping", data)
	}
	return data
}
