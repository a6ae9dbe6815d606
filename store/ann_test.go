package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unsafe"
)

func readPayload(t *testing.T, read func(func(io.Reader) error) (ANNInfo, error)) (string, ANNInfo, error) {
	t.Helper()
	var got []byte
	info, err := read(func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return string(got), info, err
}

// committedStore is a fresh store holding paths, committed; the writer is
// closed when the test ends.
func committedStore(t *testing.T, paths ...string) (string, *Writer) {
	t.Helper()
	dir := t.TempDir()
	w := openW(t, dir)
	t.Cleanup(func() { w.Close() })
	put(t, w, paths...)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return dir, w
}

func TestANNFile(t *testing.T) {
	dir, w := committedStore(t, "/a/1.jpg", "/a/2.jpg")
	if _, _, err := readPayload(t, w.ReadANN); !errors.Is(err, ErrNoANN) {
		t.Fatalf("no file: %v, want ErrNoANN", err)
	}
	payload := "graph bytes"
	write := func(out io.Writer) (int64, error) {
		n, err := io.WriteString(out, payload)
		return int64(n), err
	}
	put(t, w, "/a/3.jpg")
	if err := w.WriteANN(0, write); err == nil {
		t.Fatal("WriteANN with pending changes succeeded")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteANN(3, write); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, info, err := readPayload(t, r.ReadANN)
	r.Close()
	if err != nil || got != payload || info.Count != 3 || info.Edits != 3 || info.ContentGen != w.ContentGen() {
		t.Fatalf("round trip: %q %+v %v", got, info, err)
	}

	// A metadata-only commit and a compaction keep it valid.
	w.AddRoots("/a")
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	if got, _, err := readPayload(t, w.ReadANN); err != nil || got != payload {
		t.Fatalf("after compaction: %q %v", got, err)
	}

	// A content change makes it stale; read is not called.
	w.Delete("/a/1.jpg")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	called := false
	if _, err := w.ReadANN(func(io.Reader) error { called = true; return nil }); !errors.Is(err, ErrANNStale) || called {
		t.Fatalf("after a delete: %v (read called: %v), want ErrANNStale", err, called)
	}

	// A damaged header is ErrCorrupt, a newer version ErrVersion.
	if err := w.WriteANN(0, write); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, ANNFile)
	data, _ := os.ReadFile(p)
	bad := append([]byte(nil), data...)
	bad[20] ^= 1
	os.WriteFile(p, bad, 0o644)
	if _, _, err := readPayload(t, w.ReadANN); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged header: %v, want ErrCorrupt", err)
	}
	bad = append([]byte(nil), data...)
	bad[8] = 9
	os.WriteFile(p, bad, 0o644)
	if _, _, err := readPayload(t, w.ReadANN); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 9: %v, want ErrVersion", err)
	}
	os.WriteFile(p, data[:10], 0o644)
	if _, _, err := readPayload(t, w.ReadANN); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v, want ErrCorrupt", err)
	}

	// A writer error leaves the previous file.
	os.WriteFile(p, data, 0o644)
	if err := w.WriteANN(0, func(io.Writer) (int64, error) { return 0, io.ErrShortWrite }); err == nil {
		t.Fatal("failing write succeeded")
	}
	if got, _, err := readPayload(t, w.ReadANN); err != nil || got != payload {
		t.Fatalf("after a failed write: %q %v", got, err)
	}
	if err := w.RemoveANN(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readPayload(t, w.ReadANN); !errors.Is(err, ErrNoANN) {
		t.Fatalf("after RemoveANN: %v", err)
	}
	if err := w.RemoveANN(); err != nil {
		t.Fatalf("second RemoveANN: %v", err)
	}
}

// TestMapANN: the mapped payload is the written one, cache-line aligned,
// survives the file being replaced (the mapping keeps the old inode), and
// the header checks match ReadANN's.
func TestMapANN(t *testing.T) {
	dir, w := committedStore(t, "/a/1.jpg", "/a/2.jpg")
	writeANN := func(payload string) {
		t.Helper()
		if err := w.WriteANN(0, func(out io.Writer) (int64, error) {
			n, err := io.WriteString(out, payload)
			return int64(n), err
		}); err != nil {
			t.Fatal(err)
		}
	}
	mapped := func() (string, error) {
		t.Helper()
		r, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		data, info, err := r.MapANN()
		if err != nil {
			return "", err
		}
		if info.Count != 2 || uintptr(unsafe.Pointer(unsafe.SliceData(data)))%64 != 0 {
			t.Fatalf("info %+v, payload at %p", info, unsafe.SliceData(data))
		}
		return string(data), nil
	}
	if _, err := mapped(); !errors.Is(err, ErrNoANN) {
		t.Fatalf("no file: %v, want ErrNoANN", err)
	}
	writeANN("first graph")
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := r.MapANN()
	if err != nil || string(data) != "first graph" {
		t.Fatalf("mapped %q, %v", data, err)
	}
	if again, _, err := r.MapANN(); err != nil || unsafe.SliceData(again) != unsafe.SliceData(data) {
		t.Fatalf("a second MapANN mapped the file again (%v)", err)
	}
	writeANN("second graph")
	if string(data) != "first graph" {
		t.Fatalf("replacing the file changed a live mapping to %q", data)
	}
	r.Close()
	if got, err := mapped(); err != nil || got != "second graph" {
		t.Fatalf("after replacing: %q %v", got, err)
	}

	p := filepath.Join(dir, ANNFile)
	good, _ := os.ReadFile(p)
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"damaged header", func() []byte { b := slices.Clone(good); b[20] ^= 1; return b }(), ErrCorrupt},
		{"version 9", func() []byte { b := slices.Clone(good); b[8] = 9; return b }(), ErrVersion},
		{"truncated", good[:10], ErrCorrupt},
		{"empty", nil, ErrCorrupt},
	} {
		os.WriteFile(p, tc.data, 0o644)
		if _, err := mapped(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	os.WriteFile(p, good, 0o644)
	put(t, w, "/a/3.jpg")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := mapped(); !errors.Is(err, ErrANNStale) {
		t.Fatalf("after an add: %v, want ErrANNStale", err)
	}
}
