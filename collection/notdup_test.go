package collection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/store"
)

// threeCopies is a store of three images with nearly the same vector
// (a, b, c) and one far away (d), each with its content hash.
func threeCopies(t *testing.T) (dir string, sha map[string]string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "store")
	w, err := store.OpenWriter(dir, store.Binding{ModelID: "test", Digest: "00", Preprocess: "00", Dim: 4}, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sha = map[string]string{}
	vecs := map[string][]float32{"a": {1, 0, 0, 0}, "b": {0.9995, 0.0316, 0, 0}, "c": {0.9995, 0, 0.0316, 0}, "d": {0, 0, 0, 1}}
	for i, name := range []string{"a", "b", "c", "d"} {
		sha[name] = fmt.Sprintf("%064x", i+1)
		e := store.Entry{Path: "/photos/" + name + ".jpg", Size: int64(100 + i), ModTime: time.Unix(1, 0), Width: 10, Height: 10,
			Format: "jpeg", SHA256: sha[name]}
		if err := w.Put(e, vecs[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return dir, sha
}

func groupsOf(t *testing.T, dir string) [][]string {
	t.Helper()
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	policy, _ := dedup.ParsePolicy(nil)
	d, err := FindDuplicates(context.Background(), r, DuplicateOptions{Criterion: DistanceCriterion(0.2), Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, g := range d.Groups {
		var names []string
		for _, m := range g.Members {
			names = append(names, filepath.Base(m.Path))
		}
		out = append(out, names)
	}
	return out
}

// TestNotDuplicatesAreNeverGrouped: a pair marked "not duplicates" is
// never accepted by FindDuplicates (complete linkage then leaves the other
// copy with one of them); unmarking brings the group back.
func TestNotDuplicatesAreNeverGrouped(t *testing.T) {
	ctx := context.Background()
	dir, sha := threeCopies(t)
	if got := groupsOf(t, dir); !reflect.DeepEqual(got, [][]string{{"a.jpg", "b.jpg", "c.jpg"}}) {
		t.Fatalf("before marking: groups %v", got)
	}
	n, err := MarkNotDuplicates(ctx, dir, sha["b"], sha["c"])
	if err != nil || n != 1 {
		t.Fatalf("Mark = %d, %v", n, err)
	}
	got := groupsOf(t, dir)
	if len(got) != 1 || len(got[0]) != 2 || got[0][0] != "a.jpg" {
		t.Fatalf("with b,c marked: groups %v; want a with one of b, c", got)
	}
	// Marking the whole group: no pair of it is ever grouped again.
	if n, err = MarkNotDuplicates(ctx, dir, sha["a"], sha["b"], sha["c"]); err != nil || n != 2 {
		t.Fatalf("Mark(all) = %d, %v; want 2 new pairs", n, err)
	}
	if got := groupsOf(t, dir); len(got) != 0 {
		t.Fatalf("with the group marked: groups %v", got)
	}
	pairs, err := NotDuplicatePairs(dir)
	want := [][2]string{{sha["a"], sha["b"]}, {sha["a"], sha["c"]}, {sha["b"], sha["c"]}}
	if err != nil || !reflect.DeepEqual(pairs, want) {
		t.Fatalf("NotDuplicatePairs = %v, %v; want %v", pairs, err, want)
	}
	if n, err := UnmarkNotDuplicates(ctx, dir, sha["c"], sha["a"], sha["b"]); err != nil || n != 3 {
		t.Fatalf("Unmark = %d, %v", n, err)
	}
	if got := groupsOf(t, dir); len(got) != 1 || len(got[0]) != 3 {
		t.Fatalf("after unmarking: groups %v", got)
	}
}

// TestNotDuplicatesFile: no file is no marks; a hash missing is refused;
// a newer version or a foreign file is an error, never empty marks.
func TestNotDuplicatesFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if p, err := NotDuplicatePairs(dir); err != nil || len(p) != 0 || p == nil {
		t.Fatalf("no file: %v, %v", p, err)
	}
	if _, err := MarkNotDuplicates(ctx, dir, "ab", ""); !errors.Is(err, ErrNoContentHash) {
		t.Fatalf("empty hash: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, NotDuplicatesFile)); err == nil {
		t.Fatal("a refused mark wrote the file")
	}
	os.WriteFile(filepath.Join(dir, NotDuplicatesFile), []byte(`{"format":"embedsearch-notdup","version":2,"pairs":[]}`), 0o644)
	if _, err := NotDuplicatePairs(dir); !errors.Is(err, ErrNotDupVersion) {
		t.Fatalf("version 2: %v", err)
	}
	if _, err := MarkNotDuplicates(ctx, dir, "aa", "bb"); !errors.Is(err, ErrNotDupVersion) {
		t.Fatalf("marking over version 2: %v", err)
	}
	os.WriteFile(filepath.Join(dir, NotDuplicatesFile), []byte(`[1,2]`), 0o644)
	if _, err := NotDuplicatePairs(dir); err == nil {
		t.Fatal("a foreign file read as marks")
	}
}
