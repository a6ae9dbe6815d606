package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/store"
)

// flipStoredByte XORs one byte of the stored vector of path, in place in
// the segment file, as a disk error would: byte b (0 lowest, 3 sign and
// exponent) of component j. The store must be compacted (one segment,
// rows in id order, which index and the dedup fixture leave).
func flipStoredByte(t *testing.T, storeDir, path string, j, b int, mask byte) {
	t.Helper()
	r, err := store.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := r.Lookup(path)
	dim, segs := r.Dim(), r.Segments()
	r.Close()
	files, _ := filepath.Glob(filepath.Join(storeDir, "seg-*.es"))
	if !ok || segs != 1 || len(files) != 1 {
		t.Fatalf("flip %s: id found %v, %d segments, files %v", path, ok, segs, files)
	}
	f, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	off := int64(4096 + (id*dim+j)*4 + b) // the vector block starts at 4096 (store/doc.go)
	var one [1]byte
	if _, err := f.ReadAt(one[:], off); err != nil {
		t.Fatal(err)
	}
	one[0] ^= mask
	if _, err := f.WriteAt(one[:], off); err != nil {
		t.Fatal(err)
	}
}

// alignedComponent is the component where v and q agree most: with its
// top exponent bit flipped (2¹²⁸ times larger), v's inner product with q
// is enormous and ranking by inner product puts v first.
func alignedComponent(v, q []float32) int {
	j := 0
	for i := range v {
		if v[i]*q[i] > v[j]*q[j] {
			j = i
		}
	}
	return j
}

func without(res []queryResult, paths ...string) []queryResult {
	var out []queryResult
	for _, r := range res {
		if !slices.Contains(paths, r.Path) {
			r.Rank = len(out) + 1
			out = append(out, r)
		}
	}
	return out
}

func wantDamaged(t *testing.T, what string, code int, errs string, paths ...string) {
	t.Helper()
	if code != exitDamaged || !strings.Contains(errs, "embedsearch index --repair") {
		t.Fatalf("%s: exit %d, stderr %q; want %d and the repair hint", what, code, errs, exitDamaged)
	}
	for _, p := range paths {
		if !strings.Contains(errs, "damaged vector in the store, left out: "+p+"\n") {
			t.Fatalf("%s: stderr %q does not name %s", what, errs, p)
		}
	}
}

// TestQueryLeavesOutDamagedRows: one flipped byte in a stored vector. The
// row is left out, the results are the true ranking of the others (a
// damaged row no longer pushes a real one out), stderr names it with the
// repair, and the exit code is 6; on the exact and the approximate path.
func TestQueryLeavesOutDamagedRows(t *testing.T) {
	for _, viaANN := range []bool{false, true} {
		name := map[bool]string{false: "exact", true: "ann"}[viaANN]
		t.Run(name, func(t *testing.T) {
			if viaANN {
				old, oldCost := annThreshold, annLoadCost
				annThreshold, annLoadCost = 5, 0 // index builds a graph over the 6 images, query uses it
				t.Cleanup(func() { annThreshold, annLoadCost = old, oldCost })
			}
			f := newQueryFixture(t)
			if viaANN {
				if _, err := os.Stat(filepath.Join(f.store, store.ANNFile)); err != nil {
					t.Fatalf("no approximate index: %v", err)
				}
			}
			img0 := filepath.Join(f.dir, "img0.png")
			q := f.vecs[img0]
			all := f.naive(q)
			// The farthest image, made "nearest" by a flipped exponent bit.
			far := all[len(all)-1].Path
			flipStoredByte(t, f.store, far, alignedComponent(f.vecs[far], q), 3, 0x40)
			code, out, errs := f.query(t, "", "--json", "-k", "3", img0)
			wantDamaged(t, "flipped exponent", code, errs, far)
			samePaths(t, "flipped exponent", parseAnswer(t, out).Results, without(all, far)[:3])
			if !strings.Contains(errs, "1 damaged row(s)") {
				t.Fatalf("stderr %q", errs)
			}

			// A second row turned NaN (ranked last): asked for every row,
			// both are left out and the rest is ordered by distance.
			next := all[len(all)-2].Path
			flipStoredByte(t, f.store, next, 0, 3, 0x7f)
			flipStoredByte(t, f.store, next, 0, 2, 0xc0)
			code, out, errs = f.query(t, "", "--json", "-k", "10", img0)
			wantDamaged(t, "NaN", code, errs, far, next)
			samePaths(t, "NaN", parseAnswer(t, out).Results, without(all, far, next))
			if !strings.Contains(errs, "2 damaged row(s)") {
				t.Fatalf("stderr %q", errs)
			}

			// Every output format gets the same rows (the table too).
			code, out, _ = f.query(t, "", "-k", "10", img0)
			if code != exitDamaged || strings.Contains(out, filepath.Base(far)) || strings.Contains(out, "Inf") || strings.Contains(out, "NaN") {
				t.Fatalf("table: exit %d\n%s", code, out)
			}

			// Querying by a damaged file embeds it afresh (its stored
			// vector would rank garbage) and leaves its row out.
			code, out, errs = f.query(t, "", "--json", "-k", "3", "--model", tinyModel, far)
			wantDamaged(t, "query by the damaged file", code, errs, far)
			samePaths(t, "query by the damaged file", parseAnswer(t, out).Results, without(f.naive(f.vecs[far]), far, next)[:3])
		})
	}
}

// TestDedupLeavesOutDamagedRows: a flipped exponent bit in a group member
// made it "0.0000" from its keeper (and from half the store); dedup leaves
// it out, keeps the true groups, names it and exits 6. A flipped low
// mantissa byte keeps the row's norm: only the checksum sees it, and dedup
// says so (exit 6) with the groups unchanged.
func TestDedupLeavesOutDamagedRows(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	_, before, _ := f.run(t, "--json", "--threshold", "0.3")
	sound := parseDedup(t, before)

	f.run(t) // nothing cached between runs: flip and run again
	flipStoredByte(t, f.storeDir, f.paths["b/one-copy.jpg"], 0, 0, 0x01)
	code, out, errs := f.run(t, "--json", "--threshold", "0.3")
	if code != exitDamaged || !strings.Contains(errs, "checksum") || !strings.Contains(errs, "--repair") || out != before {
		t.Fatalf("low byte: exit %d, stderr %q\n%s\nwant\n%s", code, errs, out, before)
	}

	victim := f.paths["c/one-small.jpg"]
	r, err := store.Open(f.storeDir)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := r.Lookup(victim)
	v := slices.Clone(r.Vector(id))
	r.Close()
	j := slices.IndexFunc(v, func(x float32) bool { return x > 0 })
	flipStoredByte(t, f.storeDir, victim, j, 3, 0x40)
	for _, exact := range []string{"--exact", ""} {
		args := []string{"--json", "--threshold", "0.3"}
		if exact != "" {
			args = append(args, exact)
		}
		code, out, errs = f.run(t, args...)
		wantDamaged(t, "dedup", code, errs, victim)
		o := parseDedup(t, out)
		if len(o.Groups) != len(sound.Groups) || len(o.Groups[0].Members) != len(sound.Groups[0].Members)-1 {
			t.Fatalf("groups with the damaged row: %s", out)
		}
		for _, g := range o.Groups {
			for _, m := range g.Members {
				if m.Path == victim || (!m.Keep && *m.Distance == 0) {
					t.Fatalf("member %s at %v: %s", m.Path, *m.Distance, out)
				}
			}
		}
		if o.Stats["images"] != 7 {
			t.Fatalf("images %v, want 7 (the damaged one left out)", o.Stats["images"])
		}
	}
}

// TestDedupANNLeavesOutDamagedRows: a vector stored damaged with a valid
// checksum (a model that returned NaN or a huge value) is in the graph too;
// the checksums cannot see it, grouping does, and dedup pairs again
// without it (it may have pushed real neighbours out of an image's
// nearest).
func TestDedupANNLeavesOutDamagedRows(t *testing.T) {
	old, oldCost := annThreshold, annLoadCost
	annThreshold, annLoadCost = 5, 0
	t.Cleanup(func() { annThreshold, annLoadCost = old, oldCost })
	f := newDedupFixture(t, dedupStandard)
	_, before, _ := f.run(t, "--json", "--threshold", "0.3", "--exact")

	r, err := store.Open(f.storeDir)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := r.Lookup(f.paths["a/one.jpg"])
	bad := slices.Clone(r.Vector(id))
	r.Close()
	for i := range bad {
		bad[i] *= 1e20
	}
	victim := filepath.Join(f.root, "a", "one-huge.jpg")
	os.WriteFile(victim, []byte("image bytes of a/one-huge.jpg"), 0o644)
	fi, _ := os.Stat(victim)

	col, err := collection.Open(context.Background(), f.storeDir, collection.Options{ANNThreshold: annThreshold})
	if err != nil {
		t.Fatal(err)
	}
	if err := col.Writer().Put(store.Entry{Path: victim, Size: fi.Size(), ModTime: fi.ModTime(), Width: 10, Height: 10, Format: "jpeg"}, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := col.Forget(context.Background()); err != nil { // commits the Put; Close rebuilds the graph
		t.Fatal(err)
	}
	if err := col.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	code, out, errs := f.run(t, "--json", "--threshold", "0.3")
	wantDamaged(t, "dedup via the graph", code, errs, victim)
	if strings.Contains(errs, "checksum") {
		t.Fatalf("the checksums match, stderr says: %q", errs)
	}
	o := parseDedup(t, out)
	if o.Method != "hnsw" {
		t.Fatalf("method %q", o.Method)
	}
	// The same groups and counts as before the damaged row was added.
	o.Method = "exact"
	if want := parseDedup(t, before); !reflect.DeepEqual(o, want) {
		t.Fatalf("dedup with a damaged row:\n%s\nwant\n%s", out, before)
	}
}
