package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	dir := t.TempDir()
	if err := WriteJSON(dir, "a.json", map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "a.json"))
	if err != nil || string(b) != "{\n  \"x\": 1\n}\n" {
		t.Fatalf("%q, %v", b, err)
	}
	if err := WriteJSON(dir, "b.json", func() {}); err == nil {
		t.Fatal("a value JSON cannot hold was written")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files; want only a.json", len(ents))
	}
}
