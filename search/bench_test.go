package search

import (
	"bytes"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"unsafe"
)

// benchRows is the matrix size the benchmarks use: 20,000 rows by default,
// EMBEDSEARCH_BENCH_ROWS to change it (the target is 200000).
func benchRows() int {
	if s := os.Getenv("EMBEDSEARCH_BENCH_ROWS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 20000
}

var (
	benchOnce sync.Once
	benchM    Matrix
)

func benchMatrix(b *testing.B) Matrix {
	benchOnce.Do(func() {
		benchM = randMatrix(rand.New(rand.NewPCG(42, 42)), benchRows(), 512, 0)
	})
	return benchM
}

// BenchmarkStream is the yardstick: reading the matrix once.
func BenchmarkStream(b *testing.B) {
	m := benchMatrix(b)
	b.SetBytes(int64(len(m.Data) * 4))
	b.ReportAllocs()
	for b.Loop() {
		Stream(m.Data, 0)
	}
}

func BenchmarkExact(b *testing.B) {
	m := benchMatrix(b)
	q := m.Row(7)
	b.SetBytes(int64(len(m.Data) * 4))
	b.ReportAllocs()
	for b.Loop() {
		Exact(m, q, 10, Options{})
	}
}

// BenchmarkDamagedRows is the pass that finds every damaged row (float64
// squared norms), against BenchmarkExact: what query pays once when a
// damaged row reaches its results, and dedup before every grouping.
func BenchmarkDamagedRows(b *testing.B) {
	m := benchMatrix(b)
	b.SetBytes(int64(len(m.Data) * 4))
	b.ReportAllocs()
	for b.Loop() {
		if DamagedRows(m, 0) != nil {
			b.Fatal("damaged rows in the benchmark matrix")
		}
	}
}

// BenchmarkChecksum is the store's check of a segment's vector block
// (CRC-32C, store/segment.go's verify) over the same bytes as
// BenchmarkExact scans, in one goroutine as the store runs it.
func BenchmarkChecksum(b *testing.B) {
	m := benchMatrix(b)
	data := unsafe.Slice((*byte)(unsafe.Pointer(&m.Data[0])), 4*len(m.Data))
	table := crc32.MakeTable(crc32.Castagnoli)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		crc32.Checksum(data, table)
	}
}

func BenchmarkExactBatch100(b *testing.B) {
	m := benchMatrix(b)
	qs := Matrix{Data: m.Data[:100*512], Dim: 512}
	b.SetBytes(int64(len(m.Data) * 4))
	b.ReportAllocs()
	for b.Loop() {
		ExactBatch(m, qs, 10, Options{})
	}
}

// BenchmarkHNSWBuild builds an index over benchRows()/4 random 128-d rows.
func BenchmarkHNSWBuild(b *testing.B) {
	m := randMatrix(rand.New(rand.NewPCG(3, 3)), benchRows()/4, 128, 0)
	b.ReportAllocs()
	for b.Loop() {
		buildHNSW(b, m, HNSWOptions{M: 16, EfConstruction: 100})
	}
}

// BenchmarkHNSWSearch is one query at ef=64 on benchRows() random 128-d rows.
func BenchmarkHNSWSearch(b *testing.B) {
	m := randMatrix(rand.New(rand.NewPCG(3, 3)), benchRows(), 128, 0)
	ix := buildHNSW(b, m, HNSWOptions{M: 16, EfConstruction: 100})
	qs := randMatrix(rand.New(rand.NewPCG(4, 4)), 100, 128, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ix.Search(m, qs.Row(i%100), 10, 64, Options{})
		i++
	}
}

// BenchmarkOpenHNSW opens a serialised index over benchRows() 128-d rows:
// read (decoded into memory) and map (used in place, as query does), with
// one exact scan of the same rows as the peer.
func BenchmarkOpenHNSW(b *testing.B) {
	m := randMatrix(rand.New(rand.NewPCG(3, 3)), benchRows(), 128, 0)
	ix := buildHNSW(b, m, HNSWOptions{M: 16, EfConstruction: 40})
	var buf bytes.Buffer
	ix.WriteTo(&buf)
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadHNSW(bytes.NewReader(buf.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := MapHNSW(buf.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("exact-scan", func(b *testing.B) {
		b.SetBytes(int64(4 * len(m.Data)))
		for b.Loop() {
			Exact(m, m.Row(1), 10, Options{})
		}
	})
}
