package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchEntries makes n entries with photo-library-like metadata.
func benchEntries(n int) []Entry {
	rng := rand.New(rand.NewPCG(1, 2))
	es := make([]Entry, n)
	cams := [][2]string{{"Canon", "Canon EOS 5D Mark IV"}, {"NIKON CORPORATION", "NIKON D750"}, {"Apple", "iPhone 12 Pro"}, {"", ""}}
	for i := range es {
		cam := cams[rng.IntN(len(cams))]
		es[i] = Entry{
			Path:    fmt.Sprintf("/home/user/Pictures/%d/%02d/IMG_%06d.jpg", 2010+i%14, 1+i%12, i),
			Size:    int64(2_000_000 + rng.IntN(4_000_000)),
			ModTime: time.Unix(1_500_000_000+int64(i)*60, 0).UTC(),
			SHA256:  testSHA(strconv.Itoa(i)),
			Width:   4032, Height: 3024, Format: "jpeg",
			Make: cam[0], Model: cam[1],
		}
		if cam[0] != "" {
			es[i].Taken = es[i].ModTime.Add(-time.Hour)
		}
		if i%3 == 0 {
			es[i].GPS = &GPS{Lat: 40 + rng.Float64(), Lon: -3 + rng.Float64()}
		}
	}
	return es
}

func dirSize(t testing.TB, dir string) int64 {
	n, err := DiskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkStore100k writes a 100,000-entry store (dim 512, commits of
// 10,000), compacts it, and reports: bytes on disk per entry beyond the raw
// vector (segment and catalog apart), the catalog's share of commit time,
// open time, and the cost of a filter. Run with -benchtime=1x.
func BenchmarkStore100k(b *testing.B) {
	const n, dim, chunk = 100_000, 512, 10_000
	es := benchEntries(n)
	bind := Binding{ModelID: "bench", Digest: "d", Preprocess: "p", Dim: dim}
	vec := make([]float32, dim)
	for i := range vec {
		vec[i] = float32(i) / dim
	}
	for b.Loop() {
		dir := b.TempDir()
		w, err := OpenWriter(dir, bind, WriterOptions{})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i, e := range es {
			if err := w.Put(e, vec); err != nil {
				b.Fatal(err)
			}
			if (i+1)%chunk == 0 {
				if err := w.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		}
		commitTime := time.Since(start)
		t0 := time.Now()
		if err := w.Compact(); err != nil {
			b.Fatal(err)
		}
		compactTime := time.Since(t0)
		// The catalog alone: rebuild it from the compacted segment.
		t0 = time.Now()
		if err := rebuildCatalog(dir, w.v, w.man.ContentGen); err != nil {
			b.Fatal(err)
		}
		catalogTime := time.Since(t0)
		w.Close()

		segBytes := dirSize(b, dir) - dirSize(b, filepath.Join(dir, catalogName))
		catBytes := dirSize(b, filepath.Join(dir, catalogName))
		raw := int64(n) * dim * 4

		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heapBefore := ms.HeapAlloc
		t0 = time.Now()
		r, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		openTime := time.Since(t0)
		runtime.ReadMemStats(&ms)
		openHeap := int64(ms.HeapAlloc) - int64(heapBefore)
		t0 = time.Now()
		allow, err := r.Filter("camera:canon width:>1000")
		if err != nil {
			b.Fatal(err)
		}
		filterTime := time.Since(t0)
		hits := 0
		for id := 0; id < r.Len(); id++ {
			if allow(id) {
				hits++
			}
		}
		t0 = time.Now()
		if err := r.Verify(); err != nil {
			b.Fatal(err)
		}
		verifyTime := time.Since(t0)
		r.Close()

		b.ReportMetric(float64(segBytes-raw)/n, "seg-B/entry-beyond-vector")
		b.ReportMetric(float64(catBytes)/n, "catalog-B/entry")
		b.ReportMetric(float64(n)/commitTime.Seconds(), "puts+commits/s")
		b.ReportMetric(float64(n)/catalogTime.Seconds(), "catalog-docs/s")
		b.ReportMetric(compactTime.Seconds(), "compact-s")
		b.ReportMetric(float64(openTime.Microseconds()), "open-µs")
		b.ReportMetric(float64(openHeap)/1024, "open-heap-KiB")
		b.ReportMetric(filterTime.Seconds()*1000, "filter-ms")
		b.ReportMetric(verifyTime.Seconds()*1000, "verify-ms")
		b.Logf("n=%d dim=%d raw vectors %.1f MB; segment %.1f MB, catalog %.1f MB; commits %v (catalog rebuild alone %v), compact %v, open %v (heap +%d KiB), filter %v (%d hits), verify %v",
			n, dim, float64(raw)/1e6, float64(segBytes)/1e6, float64(catBytes)/1e6, commitTime, catalogTime, compactTime, openTime, openHeap/1024, filterTime, hits, verifyTime)
		os.RemoveAll(dir)
	}
}

// BenchmarkCatalogCheck measures what checking the catalog against the
// MANIFEST costs a filter query, beside the query itself, on a catalog of
// CATALOG_BENCH_N entries (default 20,000; bleve indexes ~700 a second, so
// building it takes a while): sizes only (every query), checksums (every
// query below catalogSumLimit, every OpenWriter, Verify), the filter with
// its check, and re-recording the catalog after a commit of 1,000 entries.
// Run with -benchtime=1x; MB/s is the checksum throughput.
func BenchmarkCatalogCheck(b *testing.B) {
	n := 20_000
	if s := os.Getenv("CATALOG_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	es := benchEntries(n + 1000)
	dir := b.TempDir()
	w, err := OpenWriter(dir, testBinding, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	vec := testVector("x", testBinding.Dim)
	for _, e := range es[:n] {
		if err := w.Put(e, vec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	want := w.man.Catalog
	size := catalogBytes(want)
	b.SetBytes(size)
	time1 := func(f func() error) time.Duration {
		t0 := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	// evict drops the catalog's pages from the page cache (cold reads).
	evict := func() {
		for _, f := range want {
			if err := dropCache(filepath.Join(dir, catalogName, f.Name)); err != nil {
				b.Fatal(err)
			}
		}
	}
	filterQuery := func() error { _, err := r.Filter("camera:canon width:>1000"); return err }
	for b.Loop() {
		sizes := time1(func() error { return checkCatalog(dir, want, false, nil) })
		sums := time1(func() error { return checkCatalog(dir, want, true, nil) })
		filter := time1(filterQuery)
		evict()
		coldSums := time1(func() error { return checkCatalog(dir, want, true, nil) })
		evict()
		coldFilter := time1(filterQuery)
		b.ReportMetric(float64(sizes.Microseconds()), "sizes-µs")
		b.ReportMetric(sums.Seconds()*1000, "checksums-ms")
		b.ReportMetric(filter.Seconds()*1000, "filter-ms")
		b.Logf("n=%d catalog %.1f MB in %d files: sizes %v, checksums %v (cold %v), filter with its check %v (cold %v; checksums in it: %v)",
			n, float64(size)/1e6, len(want), sizes, sums, coldSums, filter, coldFilter, size <= catalogSumLimit)
	}
	// One more commit: the writer re-reads only the files bleve wrote.
	for _, e := range es[n:] {
		if err := w.Put(e, vec); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
	commit := time.Since(t0)
	t0 = time.Now()
	if err := w.recordCatalog(); err != nil {
		b.Fatal(err)
	}
	b.Logf("commit of 1,000 entries %v; recording the catalog again (nothing new) %v; full sum %v",
		commit, time.Since(t0), func() time.Duration {
			t0 := time.Now()
			sumCatalog(dir, nil)
			return time.Since(t0)
		}())
}
