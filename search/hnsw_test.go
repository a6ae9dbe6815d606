package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"testing"
)

// clusteredMatrix draws rows around a few hundred centres: closer to real
// embeddings than uniform noise, and harder for graph indexes.
func clusteredMatrix(rng *rand.Rand, c Matrix, n int, spread float64) Matrix {
	dim := c.Dim
	m := Matrix{Data: make([]float32, n*dim), Dim: dim}
	for i := range n {
		row, src := m.Row(i), c.Row(rng.IntN(c.Len()))
		for j := range row {
			row[j] = src[j] + float32(spread*rng.NormFloat64())
		}
		Normalize(row)
	}
	return m
}

// buildHNSW is BuildHNSW under the test's context, which is never
// cancelled while the test runs.
func buildHNSW(tb testing.TB, m Matrix, o HNSWOptions) *HNSW {
	tb.Helper()
	ix, err := BuildHNSW(tb.Context(), m, o)
	if err != nil {
		tb.Fatal(err)
	}
	return ix
}

// recallAt10 compares ix against Exact on nq queries.
func recallAt10(ix *HNSW, m, qs Matrix, ef int) float64 {
	hit, total := 0, 0
	for j := range qs.Len() {
		want := Exact(m, qs.Row(j), 10, Options{})
		got := ix.Search(m, qs.Row(j), 10, ef, Options{})
		in := map[int]bool{}
		for _, nb := range got {
			in[nb.ID] = true
		}
		for _, nb := range want {
			if in[nb.ID] {
				hit++
			}
		}
		total += len(want)
	}
	return float64(hit) / float64(total)
}

func TestHNSWRecall(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 4000
	}
	centres := randMatrix(rand.New(rand.NewPCG(20, 20)), 200, 64, 0)
	for _, tc := range []struct {
		name string
		m    Matrix
	}{
		{"random", randMatrix(rand.New(rand.NewPCG(21, 22)), n, 32, 0)},
		{"clustered", clusteredMatrix(rand.New(rand.NewPCG(23, 24)), centres, n, 0.1)},
	} {
		ix := buildHNSW(t, tc.m, HNSWOptions{M: 16, EfConstruction: 100})
		qs := randMatrix(rand.New(rand.NewPCG(25, 26)), 200, tc.m.Dim, 0)
		if tc.name == "clustered" {
			qs = clusteredMatrix(rand.New(rand.NewPCG(27, 28)), centres, 200, 0.1)
		}
		r := recallAt10(ix, tc.m, qs, 100)
		t.Logf("%s n=%d: recall@10 = %.4f (ef=100)", tc.name, n, r)
		if r < 0.95 {
			t.Errorf("%s: recall@10 = %.4f, want ≥ 0.95", tc.name, r)
		}
	}
}

func TestHNSWRoundTripAndUpdates(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	m := randMatrix(rng, 3000, 24, 0)
	ix := NewHNSW(24, HNSWOptions{M: 8, EfConstruction: 64})
	first := make([]int, 2000)
	for i := range first {
		first[i] = i
	}
	if err := ix.Add(t.Context(), m, first); err != nil {
		t.Fatal(err)
	}
	// Incremental: add the rest, remove some.
	rest := make([]int, 1000)
	for i := range rest {
		rest[i] = 2000 + i
	}
	if err := ix.Add(t.Context(), m, rest); err != nil {
		t.Fatal(err)
	}
	removed := []int{5, 2500, 17}
	ix.Remove(removed...)
	if ix.Len() != 3000-3 || ix.Removed() != 3 {
		t.Fatalf("Len %d Removed %d, want 2997 and 3", ix.Len(), ix.Removed())
	}
	for _, id := range removed {
		for _, nb := range ix.Search(m, m.Row(id), 10, 50, Options{}) {
			if nb.ID == id {
				t.Fatalf("removed row %d returned", id)
			}
		}
	}
	if got := ix.Search(m, m.Row(2700), 1, 50, Options{}); len(got) != 1 || got[0].ID != 2700 {
		t.Fatalf("row added later not found as its own nearest: %v", got)
	}

	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadHNSW(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	back.WriteTo(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("write → read → write changed the bytes")
	}
	qs := randMatrix(rng, 50, 24, 0)
	for j := range qs.Len() {
		a := ix.Search(m, qs.Row(j), 10, 40, Options{})
		b := back.Search(m, qs.Row(j), 10, 40, Options{})
		if !slices.Equal(a, b) {
			t.Fatalf("query %d: loaded index answers %v, original %v", j, b, a)
		}
	}

	// Damage is refused with the right error.
	data := buf.Bytes()
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"magic", func(b []byte) []byte { b[0] ^= 1; return b }, ErrFormat},
		{"version", func(b []byte) []byte { b[8] = 9; return b }, ErrVersion},
		{"flipped bit", func(b []byte) []byte { b[len(b)/2] ^= 4; return b }, ErrChecksum},
		{"truncated", func(b []byte) []byte { return b[:len(b)-10] }, ErrChecksum},
		{"empty", func(b []byte) []byte { return nil }, ErrFormat},
	} {
		_, err := ReadHNSW(bytes.NewReader(tc.edit(slices.Clone(data))))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func FuzzReadHNSW(f *testing.F) {
	m := randMatrix(rand.New(rand.NewPCG(1, 2)), 40, 8, 0)
	ix := buildHNSW(f, m, HNSWOptions{M: 4, EfConstruction: 16})
	var buf bytes.Buffer
	ix.WriteTo(&buf)
	f.Add(buf.Bytes())
	var empty bytes.Buffer
	NewHNSW(8, HNSWOptions{}).WriteTo(&empty)
	f.Add(empty.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		// Recompute the checksums so the fuzzer reaches the structure
		// checks, and open the image both ways.
		fixChecksums(data)
		if ix, err := MapHNSW(slices.Clone(data)); err == nil && ix.Dim() == 8 {
			mm := Matrix{Data: make([]float32, ix.n*8), Dim: 8}
			q := make([]float32, 8)
			q[0] = 1
			ix.Search(mm, q, 3, 8, Options{})
		}
		ix, err := ReadHNSW(bytes.NewReader(data))
		if err != nil {
			return
		}
		if ix.Dim() != 8 {
			return
		}
		// Whatever loads must be searchable without panicking.
		mm := Matrix{Data: make([]float32, ix.n*8), Dim: 8}
		for i := range ix.n {
			mm.Row(i)[i%8] = 1
		}
		q := make([]float32, 8)
		q[0] = 1
		ix.Search(mm, q, 3, 8, Options{})
	})
}

func TestHNSWPairsRecall(t *testing.T) {
	m := nearDupMatrix(rand.New(rand.NewPCG(33, 34)), 6000, 48, 0.02)
	ix := buildHNSW(t, m, HNSWOptions{M: 16, EfConstruction: 100})
	want := allPairs(t, m, 0.25, nil)
	got, err := ix.Pairs(t.Context(), m, 64, 0.25, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := map[[2]int]float32{}
	for _, p := range want {
		in[[2]int{p.A, p.B}] = p.Dist
	}
	hit := 0
	for _, p := range got {
		d, ok := in[[2]int{p.A, p.B}]
		if !ok || d != p.Dist {
			t.Fatalf("graph pair %v is not an exact pair (exact distance %v, found %v)", p, d, ok)
		}
		hit++
	}
	r := float64(hit) / float64(len(want))
	t.Logf("k-NN graph pairs: recall %.4f of %d exact pairs", r, len(want))
	if len(want) < 100 || r < 0.99 {
		t.Fatalf("recall %.4f of %d exact pairs, want ≥ 0.99", r, len(want))
	}
}

func TestHNSWAllowAndSmall(t *testing.T) {
	m := randMatrix(rand.New(rand.NewPCG(35, 36)), 500, 16, 5)
	ix := buildHNSW(t, m, HNSWOptions{M: 8, EfConstruction: 50})
	even := func(id int) bool { return id%2 == 0 }
	hit := 0
	for j := range 20 {
		got := ix.Search(m, m.Row(j), 10, 200, Options{Allow: even})
		want := Exact(m, m.Row(j), 10, Options{Allow: even})
		if len(got) != 10 {
			t.Fatalf("query %d: %d results with Allow, want 10", j, len(got))
		}
		for _, nb := range got {
			if nb.ID%2 != 0 {
				t.Fatalf("query %d: disallowed row %d returned", j, nb.ID)
			}
		}
		in := map[Neighbor]bool{}
		for _, nb := range want {
			in[nb] = true
		}
		for _, nb := range got {
			if in[nb] {
				hit++
			}
		}
	}
	if r := float64(hit) / 200; r < 0.95 {
		t.Fatalf("filtered recall@10 = %.3f, want ≥ 0.95", r)
	}
	// k larger than the index returns everything, sorted like Exact.
	small := Matrix{Data: m.Data[:5*16], Dim: 16}
	six := buildHNSW(t, small, HNSWOptions{})
	if got, want := six.Search(small, small.Row(0), 50, 0, Options{}), Exact(small, small.Row(0), 50, Options{}); !slices.Equal(got, want) {
		t.Fatalf("k > n: got %v, want %v", got, want)
	}
	if got := NewHNSW(16, HNSWOptions{}).Search(small, small.Row(0), 3, 0, Options{}); got != nil {
		t.Fatalf("empty index: got %v", got)
	}
}

// TestMapHNSW: an index used in place from its file image answers exactly
// as the index it was written from, whether the image is aligned (used in
// place) or not (copied), and refuses changes.
func TestMapHNSW(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m := clusteredMatrix(rng, randMatrix(rng, 30, 32, 0), 3000, 0.3)
	ix := buildHNSW(t, m, HNSWOptions{M: 8, EfConstruction: 64})
	ix.Remove(3, 300)
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	aligned := buf.Bytes()
	shifted := make([]byte, len(aligned)+1)
	copy(shifted[1:], aligned)
	for name, data := range map[string][]byte{"aligned": aligned, "unaligned": shifted[1:]} {
		mapped, err := MapHNSW(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if mapped.Slots() != 3000 || mapped.Len() != 2998 || mapped.Removed() != 2 {
			t.Fatalf("%s: slots %d len %d removed %d", name, mapped.Slots(), mapped.Len(), mapped.Removed())
		}
		qs := randMatrix(rng, 40, 32, 0)
		for j := range qs.Len() {
			a := ix.Search(m, qs.Row(j), 10, 50, Options{})
			b := mapped.Search(m, qs.Row(j), 10, 50, Options{})
			if !slices.Equal(a, b) {
				t.Fatalf("%s: query %d: mapped index answers %v, original %v", name, j, b, a)
			}
		}
		var again bytes.Buffer
		mapped.WriteTo(&again)
		if !bytes.Equal(again.Bytes(), aligned) {
			t.Fatalf("%s: mapped index writes other bytes", name)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Fatalf("%s: Remove on a mapped index did not panic", name)
				}
			}()
			mapped.Remove(1)
		}()
	}
	// Layer 0 is not validated at open: a damaged file that still passes
	// the checksum (count above m0, a link outside the graph) is searched
	// without going out of bounds.
	bad := slices.Clone(aligned)
	off := hnswHeaderSize + 2*3000
	off += pad4(off)
	binary.LittleEndian.PutUint32(bad[off:], 1000)              // node 0: count 1000 > m0
	binary.LittleEndian.PutUint32(bad[off+4*(8*2+1)+4:], 1<<30) // node 1: first link far outside
	binary.LittleEndian.PutUint32(bad[len(bad)-4:], crc32.Checksum(bad[:len(bad)-4], castagnoli))
	damaged, err := MapHNSW(bad)
	if err != nil {
		t.Fatalf("damaged layer 0 refused at open: %v", err)
	}
	if err := VerifyHNSW(bad); !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) {
		t.Fatalf("VerifyHNSW of a damaged layer 0: %v", err)
	}
	// Any damage outside layer 0 is caught at open by the sections' own
	// checksum; inside it, by the whole-file checksum of VerifyHNSW.
	for _, at := range []int{20, hnswHeaderSize + 5, len(aligned) - 20} {
		b := slices.Clone(aligned)
		b[at] ^= 0x10
		if _, err := MapHNSW(b); !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrFormat) {
			t.Fatalf("byte %d flipped: MapHNSW says %v", at, err)
		}
	}
	b := slices.Clone(aligned)
	b[off+100] ^= 0x10
	if err := VerifyHNSW(b); !errors.Is(err, ErrChecksum) {
		t.Fatalf("layer 0 byte flipped: VerifyHNSW says %v", err)
	}
	for j := range 20 {
		if got := damaged.Search(m, m.Row(j), 10, 50, Options{}); len(got) != 10 {
			t.Fatalf("damaged graph: %d results", len(got))
		}
	}

	// An index read into memory can grow after loading, and appending to
	// its arrays must not overwrite the sections that follow them.
	back, err := ReadHNSW(bytes.NewReader(aligned))
	if err != nil {
		t.Fatal(err)
	}
	more := clusteredMatrix(rng, randMatrix(rng, 30, 32, 0), 3500, 0.3)
	copy(more.Data, m.Data)
	ids := make([]int, 500)
	for i := range ids {
		ids[i] = 3000 + i
	}
	if err := back.Add(t.Context(), more, ids); err != nil {
		t.Fatal(err)
	}
	var b1 bytes.Buffer
	back.WriteTo(&b1)
	if _, err := ReadHNSW(bytes.NewReader(b1.Bytes())); err != nil {
		t.Fatalf("grown index does not read back: %v", err)
	}
	if r := recallAt10(back, more, randMatrix(rng, 50, 32, 0), 100); r < 0.9 {
		t.Fatalf("grown index recall@10 %.3f", r)
	}
}

// fixChecksums rewrites the section and file checksums of an HNSW image
// whose header is plausible, so a fuzzer's edits get past them.
func fixChecksums(data []byte) {
	le := binary.LittleEndian
	if len(data) < hnswHeaderSize+4 {
		return
	}
	n, m0, upperLen := uint64(le.Uint32(data[36:])), uint64(le.Uint32(data[20:])), uint64(le.Uint32(data[48:]))
	if m0 <= 512 {
		offL0 := uint64(hnswHeaderSize) + 2*n
		offL0 += uint64(pad4(int(offL0 % 4)))
		offUO := offL0 + 4*n*(m0+1)
		if end := offUO + 4*(n+1) + 4*upperLen; end == uint64(len(data)-4) {
			le.PutUint32(data[hnswHeaderSize-4:], metaChecksum(data, data[hnswHeaderSize:offL0], data[offUO:end]))
		}
	}
	le.PutUint32(data[len(data)-4:], crc32.Checksum(data[:len(data)-4], castagnoli))
}

// TestHNSWReachesEveryNode: with ef above the row count a search is
// exhaustive, so it must find exactly what Exact finds. Before
// linkUnreached, 2 of these 400 small graphs (an exact duplicate row
// included, built by parallel workers) left a node no search reached.
func TestHNSWReachesEveryNode(t *testing.T) {
	for seed := range 400 {
		rng := rand.New(rand.NewPCG(uint64(seed), 2))
		m := randMatrix(rng, 41, 8, 0)
		copy(m.Row(40), m.Row(0))
		ix := buildHNSW(t, m, HNSWOptions{})
		for j := range m.Len() {
			want := Exact(m, m.Row(j), 10, Options{})
			got := ix.Search(m, m.Row(j), 10, 200, Options{})
			if !slices.EqualFunc(want, got, func(a, b Neighbor) bool { return a.Dist == b.Dist }) {
				t.Fatalf("seed %d row %d: exact %v, graph %v", seed, j, want, got)
			}
		}
	}
}
