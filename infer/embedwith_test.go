package infer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/embedsearch/embedsearch/internal/inputfile"
)

// TestEmbedWithKnown: content Known knows comes back Known, with its
// SHA-256 and size and without a vector, and is not decoded (a corrupt
// file fails only when unknown); the other items keep their vectors, in
// order, batched around the known ones. Known is asked once per file read.
func TestEmbedWithKnown(t *testing.T) {
	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: 3, Workers: 2})
	dir := t.TempDir()
	paths := writeImages(t, dir, 7)
	corrupt := filepath.Join(dir, "corrupt.jpg")
	if err := os.WriteFile(corrupt, []byte("\xff\xd8\xff\xe0 not a JPEG"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths = append(paths[:3], append([]string{corrupt}, paths[3:]...)...)
	want := collect(t, e, paths) // nothing known
	if want[3].Err == nil {
		t.Fatal("the corrupt file decoded")
	}
	knownSHA := map[string]bool{want[1].SHA256: true, want[3].SHA256: true, want[6].SHA256: true}
	var mu sync.Mutex
	asked := 0
	var got []Item
	err := e.EmbedWith(context.Background(), feed(paths), EmbedOptions{Known: func(sha string) bool {
		mu.Lock()
		defer mu.Unlock()
		asked++
		return knownSHA[sha]
	}}, func(it Item) error {
		got = append(got, it)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if asked != len(paths) || len(got) != len(paths) {
		t.Fatalf("Known asked %d times, %d items, for %d files", asked, len(got), len(paths))
	}
	for i, it := range got {
		w := want[i]
		switch {
		case it.Path != w.Path || it.SHA256 != w.SHA256 || it.Size != w.Size:
			t.Errorf("item %d: %s %s %d, want %s %s %d", i, it.Path, it.SHA256, it.Size, w.Path, w.SHA256, w.Size)
		case knownSHA[it.SHA256]:
			if !it.Known || it.Vector != nil || it.Err != nil {
				t.Errorf("%s: known content: Known %v, vector %v, err %v", it.Path, it.Known, it.Vector != nil, it.Err)
			}
		case it.Known || it.Err != nil || maxAbsDiff(it.Vector, w.Vector) > 1e-6:
			t.Errorf("%s: Known %v, err %v, vector differs by %g", it.Path, it.Known, it.Err, maxAbsDiff(it.Vector, w.Vector))
		}
	}
}

// TestEmbedWithFileOptions: NoFollowLinks refuses a symbolic link, and a
// MaxFileSize below the Encoder's own limit refuses a larger file.
func TestEmbedWithFileOptions(t *testing.T) {
	e := newTestEncoder(t, "tiny", EncoderOptions{})
	dir := t.TempDir()
	paths := writeImages(t, dir, 1)
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink(paths[0], link); err != nil {
		t.Skip(err)
	}
	fi, err := os.Stat(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	run := func(o EmbedOptions, p string) error {
		var got error
		err := e.EmbedWith(context.Background(), feed([]string{p}), o, func(it Item) error {
			got = it.Err
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if err := run(EmbedOptions{}, link); err != nil {
		t.Errorf("link followed by default: %v", err)
	}
	if err := run(EmbedOptions{NoFollowLinks: true}, link); !errors.Is(err, inputfile.ErrNotRegular) {
		t.Errorf("NoFollowLinks: %v, want ErrNotRegular", err)
	}
	if err := run(EmbedOptions{MaxFileSize: fi.Size() - 1}, paths[0]); !errors.Is(err, inputfile.ErrTooLarge) {
		t.Errorf("MaxFileSize %d for %d bytes: %v, want ErrTooLarge", fi.Size()-1, fi.Size(), err)
	}
	if err := run(EmbedOptions{MaxFileSize: fi.Size()}, paths[0]); err != nil {
		t.Errorf("MaxFileSize %d for %d bytes: %v", fi.Size(), fi.Size(), err)
	}
}

// TestEmbedWithNoSHA256: the same vectors, no SHA-256; with Known the
// hash is made anyway (Known needs it).
func TestEmbedWithNoSHA256(t *testing.T) {
	e := newTestEncoder(t, "tiny", EncoderOptions{})
	paths := writeImages(t, t.TempDir(), 3)
	want := collect(t, e, paths)
	for _, known := range []func(string) bool{nil, func(string) bool { return false }} {
		i := 0
		err := e.EmbedWith(context.Background(), feed(paths), EmbedOptions{NoSHA256: true, Known: known}, func(it Item) error {
			if (it.SHA256 == "") != (known == nil) || it.SHA256 != "" && it.SHA256 != want[i].SHA256 {
				t.Errorf("%s: SHA-256 %q with Known set %v", it.Path, it.SHA256, known != nil)
			}
			if it.Err != nil || maxAbsDiff(it.Vector, want[i].Vector) > 1e-6 {
				t.Errorf("%s: %v, vector differs by %g", it.Path, it.Err, maxAbsDiff(it.Vector, want[i].Vector))
			}
			i++
			return nil
		})
		if err != nil || i != len(paths) {
			t.Fatalf("%v after %d items", err, i)
		}
	}
}

// TestEmbedWithSignatures: Signatures adds each image's signature and
// leaves the vectors as they were; SignatureOnly gives the same
// signatures, no vectors and no errors for images, and still the error of
// a corrupt file.
func TestEmbedWithSignatures(t *testing.T) {
	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: 2, Workers: 2})
	dir := t.TempDir()
	paths := writeImages(t, dir, 5)
	corrupt := filepath.Join(dir, "corrupt.jpg")
	if err := os.WriteFile(corrupt, []byte("\xff\xd8\xff\xe0 not a JPEG"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, corrupt)
	plain := collect(t, e, paths)
	run := func(o EmbedOptions) []Item {
		var got []Item
		if err := e.EmbedWith(context.Background(), feed(paths), o, func(it Item) error {
			got = append(got, it)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	signed := run(EmbedOptions{Signatures: true})
	only := run(EmbedOptions{Signatures: true, SignatureOnly: true})
	for i, p := range plain {
		s, o := signed[i], only[i]
		if p.Err != nil {
			if s.Err == nil || o.Err == nil {
				t.Errorf("%s: corrupt file without an error: %v, %v", p.Path, s.Err, o.Err)
			}
			continue
		}
		if p.Info.Signature != nil || len(s.Info.Signature) == 0 || maxAbsDiff(s.Vector, p.Vector) > 0 {
			t.Errorf("%s: signature %d/%d bytes, vector differs by %g", p.Path, len(p.Info.Signature), len(s.Info.Signature), maxAbsDiff(s.Vector, p.Vector))
		}
		if o.Err != nil || o.Vector != nil || string(o.Info.Signature) != string(s.Info.Signature) || o.SHA256 != p.SHA256 {
			t.Errorf("%s: signature only: err %v, vector %v, same signature %v", p.Path, o.Err, o.Vector != nil, string(o.Info.Signature) == string(s.Info.Signature))
		}
	}
}
