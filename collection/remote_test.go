package collection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// folderBackend is a Backend kept in a local store folder, bound on Bind:
// enough to test what Collection does with a remote store.
type folderBackend struct {
	*store.Writer
	dir string
	b   store.Binding
}

func (f *folderBackend) Binding() store.Binding { return f.b }
func (f *folderBackend) Name() string           { return "folder:" + f.dir }
func (f *folderBackend) Version() string        { return fmt.Sprint(f.Writer.Generation()) }

func (f *folderBackend) Bind(b store.Binding) error {
	if f.b != (store.Binding{}) {
		if f.b != b {
			return fmt.Errorf("%w: %s", store.ErrModelMismatch, f.b.Mismatch(b))
		}
		return nil
	}
	w, err := store.OpenWriter(f.dir, b, store.WriterOptions{})
	if err != nil {
		return err
	}
	f.Writer, f.b = w, b
	return nil
}

func (f *folderBackend) Close() error {
	if f.Writer == nil {
		return nil
	}
	err := f.Writer.Close()
	f.Writer = nil
	return err
}

// reopen is the backend as a later process finds it.
func (f *folderBackend) reopen(t *testing.T) *folderBackend {
	t.Helper()
	g := &folderBackend{dir: f.dir}
	if f.b != (store.Binding{}) {
		if err := g.Bind(f.b); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// TestOpenBackend: a remote store is bound to its model like a local one
// (the model asked for, recorded on the new store; another one refused
// with ErrModelMismatch naming the store), Forget and Close change it
// through index.Store, and Act refuses it without a folder for its
// journal or with groups read at another version.
func TestOpenBackend(t *testing.T) {
	tiny, err := filepath.Abs(filepath.Join("..", "testdata", "models", "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	be := &folderBackend{dir: filepath.Join(t.TempDir(), "remote")}
	c, err := OpenBackend(ctx, be, Options{Model: tiny})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Model()
	if err != nil {
		t.Fatal(err)
	}
	if want := index.Binding(m); be.Binding() != want || c.Binding() != want {
		t.Fatalf("binding %v; want %v", be.Binding(), want)
	}
	for i := range 3 {
		v := make([]float32, m.Manifest.Dim)
		v[i] = 1
		e := store.Entry{Path: fmt.Sprintf("/photos/%d.jpg", i), Size: 1, ModTime: time.Unix(1, 0), Format: "jpeg"}
		if err := c.st.Put(e, v); err != nil {
			t.Fatal(err)
		}
	}
	c.st.AddRoots("/photos")
	if n, err := c.Forget(ctx, "/photos/1.jpg"); err != nil || n != 1 {
		t.Fatalf("Forget = %d, %v; want 1", n, err)
	}
	if got := c.Roots(); len(got) != 1 || got[0] != "/photos" {
		t.Errorf("Roots = %v", got)
	}
	if _, err := c.Act(ctx, nil, nil, ""); !errors.Is(err, ErrRemote) {
		t.Errorf("Act on a remote store without a journal folder = %v; want ErrRemote", err)
	}
	// Groups read from a mirror at another version: refused, nothing done.
	c.o.Snapshot, c.o.JournalDir = "stale", t.TempDir()
	if _, err := c.Act(ctx, nil, nil, ""); !errors.Is(err, ErrStoreChanged) {
		t.Errorf("Act with groups from another version = %v; want ErrStoreChanged", err)
	}
	if ents, _ := os.ReadDir(c.o.JournalDir); len(ents) != 0 {
		t.Errorf("a refused Act wrote %d journal files", len(ents))
	}
	c.o.Snapshot, c.o.JournalDir = "", ""
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatalf("a second Close = %v", err)
	}

	be = be.reopen(t)
	_, err = OpenBackend(ctx, be, Options{Model: models.BuiltinName})
	if !errors.Is(err, store.ErrModelMismatch) || !strings.Contains(err.Error(), be.Name()) {
		t.Fatalf("OpenBackend with another model = %v; want ErrModelMismatch naming %s", err, be.Name())
	}
	c, err = OpenBackend(ctx, be, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	c.st.Walk(func(p string) bool { paths = append(paths, p); return true })
	if len(paths) != 2 {
		t.Errorf("after Forget and Close the store holds %v; want 0.jpg and 2.jpg", paths)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
