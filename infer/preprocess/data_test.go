package preprocess

import (
	"os"
	"path/filepath"
	"testing"
)

// findSharedData returns ../shared/data relative to the repository root,
// or "" when it is absent.
func findSharedData() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data")
	if fi, err := os.Stat(data); err != nil || !fi.IsDir() {
		return ""
	}
	return data
}

// sharedData returns ../shared/data or skips the test when it is absent.
func sharedData(t testing.TB) string {
	t.Helper()
	data := findSharedData()
	if data == "" {
		t.Skip("test images not found at ../shared/data (beside the repository root); skipping")
	}
	return data
}
