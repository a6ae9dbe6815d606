package inputfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestReadAllInto: a large enough buffer is reused (same storage), a small
// one is not touched; the bytes are the file's either way.
func TestReadAllInto(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	want := bytes.Repeat([]byte("0123456789"), 1000)
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 5, 20000)
	got, _, err := ReadAllInto(context.Background(), p, Options{}, big)
	if err != nil || !bytes.Equal(got, want) || &got[0] != &big[:1][0] {
		t.Errorf("large buffer: err %v, equal %v, reused %v", err, bytes.Equal(got, want), err == nil && &got[0] == &big[:1][0])
	}
	small := make([]byte, 0, 100)
	got, _, err = ReadAllInto(context.Background(), p, Options{}, small)
	if err != nil || !bytes.Equal(got, want) || cap(small) != 100 || len(small) != 0 {
		t.Errorf("small buffer: err %v, equal %v", err, bytes.Equal(got, want))
	}
}
