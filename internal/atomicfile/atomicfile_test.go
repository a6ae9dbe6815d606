package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	write := func(s string, claim int64) error {
		return Write(dir, "f", func(w io.Writer) (int64, error) {
			n, err := io.WriteString(w, s)
			if claim >= 0 {
				return claim, err
			}
			return int64(n), err
		})
	}
	if err := write("first", -1); err != nil {
		t.Fatal(err)
	}
	// A short write (the encoder meant more) must not replace the file.
	if err := write("second", 100); err == nil || !strings.Contains(err.Error(), "expected 100") {
		t.Fatalf("short write: %v", err)
	}
	// An encoder error must not replace it either.
	boom := errors.New("boom")
	if err := Write(dir, "f", func(w io.Writer) (int64, error) { io.WriteString(w, "x"); return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("encoder error: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); string(b) != "first" {
		t.Fatalf("content after failed writes: %q", b)
	}
	if err := write("third", -1); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); string(b) != "third" {
		t.Fatalf("content: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestWriteMissingDir(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "no", "such"), "f", func(w io.Writer) (int64, error) { return 0, nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing dir: %v", err)
	}
}
