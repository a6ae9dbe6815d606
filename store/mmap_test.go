package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// mapFile and readWhole (mapFile on systems without mmap) give the file's
// first size bytes, and refuse a file shorter than size.
func TestMapFileAndReadWhole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	want := bytes.Repeat([]byte("segment!"), 1000)
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mapFile(f, int64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m, want) {
		t.Error("mapFile: other bytes")
	}
	if err := unmapFile(m); err != nil {
		t.Error(err)
	}
	r, err := readWhole(f, 100)
	if err != nil || !bytes.Equal(r, want[:100]) {
		t.Errorf("readWhole(100): %q, %v", r, err)
	}
	if _, err := readWhole(f, int64(len(want))+1); err == nil {
		t.Error("readWhole past the end: no error")
	}
}
