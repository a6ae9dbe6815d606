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
