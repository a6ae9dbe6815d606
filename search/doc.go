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
// # Damaged rows
//
// Ranking trusts that rows have unit length: a row that does not (a NaN,
// an infinity, a flipped exponent bit on disk) gets a distance from its
// inner product that means nothing, "0" or far too large, and may push
// real neighbours out. Damaged tells such a row (squared norm further
// than NormTolerance from 1). Checking every row costs about one exact
// scan (DamagedRows), so the result paths check only what they return:
// Refine and Groups leave damaged rows out and return their IDs, and the
// caller searches again without them (Options.Allow).
//
// # How it runs
//
// On amd64 with AVX2 and FMA, inner products run in assembly
// (kernel_amd64.s: one 8-lane accumulator per product, four rows per pass
// for one query, 4 rows × 3 queries per pass for batches); elsewhere, or
// with the purego build tag, in portable Go. Exact splits the rows across
// Options.Workers goroutines, each with a bounded top-k heap; ExactBatch
// and Pairs work in cache-sized tiles so the matrix streams from memory
// once per block of queries. With AVX-512 VNNI, Pairs first screens pairs with int8
// inner products under a proven error bound and measures every candidate
// in float32, so its result is the same as the float32 path's.
//
// # Workers and cancellation
//
// A function that splits its work across goroutines takes the count from
// the options it already has: Options.Workers (Exact, ExactBatch, Within,
// Pairs, HNSW.Pairs) or HNSWOptions.Workers (HNSW.Add and BuildHNSW; the
// index keeps it, its file does not, so a graph from ReadHNSW or MapHNSW
// uses the default). DamagedRows and Stream, which take no options, take
// a workers argument. Zero means runtime.GOMAXPROCS(0); there is no
// package-level setting. Exact results do not depend on the count; an
// HNSW graph built with one worker is the same on every run.
//
// The operations that run for seconds to minutes take a context.Context:
// Pairs (n²/2 inner products: 26 s at 200,000 × 512), HNSW.Pairs (one
// graph search per row), HNSW.Add and BuildHNSW (one graph search per
// insertion). Once ctx is cancelled they finish the work under way (a
// tile of ~3M multiply-adds, a graph search, an insertion: well under a
// millisecond to a few milliseconds) and return ctx.Err(); Pairs and
// HNSW.Pairs return no partial result, and HNSW.Add leaves the index
// with some of the rows (see Add). The check is a non-blocking receive on
// ctx.Done() between those units, a few nanoseconds each. A k-NN query
// (Exact, ExactBatch, Within, HNSW.Search: milliseconds) and DamagedRows
// (one scan) take no context.
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
// the caller's store), in a little-endian layout whose arrays keep their
// in-memory form (the byte layout is documented beside the code, in
// hnsw_encode.go). ReadHNSW reads a whole file into memory (changeable)
// and checks every byte against the file checksum and the structure.
// MapHNSW uses a mapped file in place (read-only): it checks only the small
// sections (levels, flags, upper layers), which carry their own checksum,
// and never reads layer 0, most of the file; searches clamp its counts and
// skip IDs outside the graph where they read them. VerifyHNSW checks a
// mapped file whole. A damaged file yields ErrFormat, ErrVersion or
// ErrChecksum (or, in layer 0 under MapHNSW, worse results), never a panic.
// The caller writes the file atomically (the store's job); a crash leaves
// the previous file.
package search
