package weaviatestore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/search"
	"github.com/embedsearch/embedsearch/store"
)

// TestSearchFilter: a filtered search selects exactly the images the same
// filter selects in a local store's catalogue (the same entries in both),
// with the local store's distances; clauses without an exact where filter
// are refused with ErrNoWhere.
func TestSearchFilter(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	s := open(t, c.URL("Filtered"))
	if err := s.Bind(testBinding); err != nil {
		t.Fatal(err)
	}
	w, err := store.OpenWriter(t.TempDir(), testBinding, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// "A" would be a stopword under word tokenization; "a" must not match
	// it, nor "AB" a folder prefix of A.
	dirs := []string{"/photos/A", "/photos/a", "/photos/AB", "/photos/b c"}
	vecs := map[string][]float32{}
	for i := range 48 {
		e := entry(i)
		e.Path = fmt.Sprintf("%s/%03d.jpg", dirs[i%4], i)
		e.Width, e.Size = 10+i, int64(1000*i)
		v := unit(rng, 8)
		vecs[e.Path] = v
		if err := s.Put(e, v); err != nil {
			t.Fatal(err)
		}
		if err := w.Put(e, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	local, err := store.Open(w.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()

	q := unit(rng, 8)
	check := func(name string, f *Filter, allow func(int) bool) {
		t.Helper()
		var want []Hit
		for id := range local.Len() {
			if allow(id) {
				p := local.Path(id)
				want = append(want, Hit{Path: p, Dist: float32(search.Distance(q, vecs[p]))})
			}
		}
		slices.SortFunc(want, func(a, b Hit) int {
			if a.Dist != b.Dist {
				return map[bool]int{true: -1, false: 1}[a.Dist < b.Dist]
			}
			return map[bool]int{true: -1, false: 1}[a.Path < b.Path]
		})
		hits, err := s.Search(ctx, q, 100, f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(hits) != len(want) {
			t.Errorf("%s: %d hits; the local catalogue selects %d", name, len(hits), len(want))
			return
		}
		for i := range want {
			if hits[i].Path != want[i].Path || hits[i].Dist != want[i].Dist || !slices.Equal(hits[i].Vec, vecs[want[i].Path]) {
				t.Errorf("%s: hit %d = %s %v; local %s %v", name, i, hits[i].Path, hits[i].Dist, want[i].Path, want[i].Dist)
			}
		}
	}
	// Each filter with the number of images the local catalogue selects
	// (so that no case passes by selecting nothing on both sides).
	for _, tc := range []struct {
		src string
		n   int
	}{
		{`path:\/photos\/A\/*`, 12}, {`path:/photos/A/004.jpg`, 1}, {`path:\/photos\/?\/0?4.jpg`, 3},
		{`path:\/photos\/b\ c\/003.jpg`, 1}, {`-path:\/photos\/a*`, 36}, {`width:>40 -width:45`, 16}, {`width:42`, 1},
		{`width:>=20 width:<30.5`, 11}, {`size:<=7000`, 8}, {`width:>40.5`, 17}, {`hash:` + entry(5).SHA256, 1},
		{`-hash:` + entry(5).SHA256, 47}, {`width:>10000`, 0}, {`path:/photos/A`, 0},
		{`path:"/photos/A/004.jpg"`, 1}, {`path:"/photos/b c/003.jpg"`, 1}, {`-path:"/photos/b c/003.jpg" width:<20`, 9},
		{`path:"/photos/b c/*"`, 0}, {`hash:"` + entry(5).SHA256 + `"`, 1},
	} {
		pq, err := store.ParseFilter(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		var f Filter
		if err := f.Match(pq); err != nil {
			t.Errorf("%s: %v; want a where filter", tc.src, err)
			continue
		}
		allow, err := local.Filter(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for id := range local.Len() {
			if allow(id) {
				n++
			}
		}
		if n != tc.n {
			t.Errorf("%s: the local catalogue selects %d; the test expects %d", tc.src, n, tc.n)
		}
		check(tc.src, &f, allow)
	}
	var f Filter
	if err := f.Under([]string{"/photos/A", "/photos/b c/"}); err != nil {
		t.Fatal(err)
	}
	f.Except("/photos/A/000.jpg")
	check("under A and 'b c', not 000", &f, func(id int) bool {
		p := local.Path(id)
		return p != "/photos/A/000.jpg" && (p[:10] == "/photos/A/" || p[:12] == "/photos/b c/")
	})
	check("no filter", nil, func(int) bool { return true })

	for _, src := range []string{`name:000.jpg`, `make:A`, `camera:a`, `ext:jpg`, `format:jpeg`, `dir:"/photos/A"`,
		`taken:>"2020-01-01"`, `gps:true`, `lat:>1`, `path:x~1`, `name:"000.jpg"`, `model:"camera 1"`,
		`path:\/photos\/A.*\/`} {
		pq, err := store.ParseFilter(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		var f Filter
		if err := f.Match(pq); !errors.Is(err, ErrNoWhere) || len(f.ops) != 0 {
			t.Errorf("%s: %v, %d operands; want ErrNoWhere and nothing added", src, err, len(f.ops))
		}
	}
	if err := f.Under([]string{"/photos/*"}); !errors.Is(err, ErrNoWhere) {
		t.Errorf("a folder with a wildcard: %v", err)
	}
}
