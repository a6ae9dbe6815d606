// Package search finds nearest neighbours among the vectors of a store:
// exact k-NN, range search, all-pairs within a distance (for
// de-duplication), grouping of those pairs, and an approximate HNSW index.
// It works on plain float32 matrices and knows nothing of stores or files.
//
// # Vocabulary
//
// A Matrix is a flat row-major []float32 (typically the store's
// memory-mapped vectors); row i has ID i. A Neighbor is an ID with its
// distance to a query. A Pair is two IDs within a distance of each other;
// a Group is a set of rows every two of which form a pair (complete
// linkage), with a keeper chosen by the
// caller's policy. An HNSW is a graph over a Matrix's rows for approximate
// search.
//
// # Distance
//
// Rows and queries are L2-normalised, and the distance is Euclidean:
//
//	d(a,b) = ‖a−b‖ = sqrt(2 − 2⟨a,b⟩), clamped at 0
//
// so ranking by distance is ranking by cosine similarity (cos = 1 − d²/2).
// Every function computes ⟨a,b⟩ with the same kernel and converts it with
// the same code, so a pair of vectors gets bit-identical distances from
// Exact, ExactBatch, Within, Pairs, Groups and HNSW.Search, and duplicate
// vectors tie exactly. Results are ordered by distance and then by
// Options.TieLess (ID ascending by default); exact results do not depend
// on the number of workers.
//
// # How it runs
//
// On amd64 with AVX2 and FMA, inner products run in assembly
// (kernel_amd64.s: one 8-lane accumulator per product, four rows per pass
// for one query, 4 rows × 3 queries per pass for batches); elsewhere, or
// with the purego build tag, in portable Go. Exact splits the rows across
// Workers goroutines, each with a bounded top-k heap; ExactBatch and Pairs
// work in cache-sized tiles so the matrix streams from memory once per
// block of queries. With AVX-512 VNNI, Pairs first screens pairs with int8
// inner products under a proven error bound and measures every candidate
// in float32, so its result is the same as the float32 path's.
//
// # Concurrency
//
// All functions and HNSW.Search are safe for concurrent use on shared
// matrices as long as nobody writes the data meanwhile. Options.Allow,
// Options.TieLess and the keeper order given to Groups are called from
// several goroutines at once. HNSW.Add, HNSW.Remove and HNSW.WriteTo need
// the index to themselves. A query whose length differs from Matrix.Dim is
// a programming error and panics.
//
// # The HNSW file
//
// WriteTo stores the graph only (node IDs are row IDs; the vectors stay in
// the caller's store). Version 2, little-endian, every array at a 4-byte
// aligned offset in its in-memory layout, so MapHNSW searches a mapped
// file in place (one checksum and structure pass, no decoding):
//
//	magic     8 bytes  "ESHNSW\r\n"
//	version   u32      2
//	dim, M, M0, efConstruction   u32 each
//	seed      u64
//	n         u32      row slots
//	entry     i32      entry node, −1 when empty
//	maxLevel  u32
//	upperLen  u32      u32 words of upper-layer links
//	levels    n × i8 (−1: absent); removed n × u8 (0/1); zero padding to 4
//	layer 0   per slot: count u32, then M0 × neighbour ID u32 (count used,
//	          the rest zero): a fixed stride
//	upperOff  (n+1) × u32: slot i's upper links are upper[upperOff[i]:upperOff[i+1]]
//	upper     per slot, per layer 1..level: count u32, M × neighbour ID u32
//	crc32c    u32      Castagnoli CRC of every byte before it
//
// ReadHNSW (into memory, changeable) and MapHNSW (in place, read-only)
// check magic, version and checksum before trusting anything, then the
// small sections (levels, flags, upper layers); layer 0, most of the file,
// is bounded where it is read (counts clamped to M0, IDs outside the graph
// skipped), so opening costs one checksum pass and a damaged file yields
// ErrFormat, ErrVersion or ErrChecksum, or odd results, never a panic.
// The caller writes the file atomically (the store's job); a crash leaves
// the previous file.
package search
