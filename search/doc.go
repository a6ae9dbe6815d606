// Package search finds nearest neighbours among the vectors of a store:
// exact k-NN, range search, all-pairs within a distance (for
// de-duplication), grouping of those pairs, and an approximate HNSW index.
//
// Vocabulary. A Matrix is a flat row-major []float32 (typically the store's
// memory-mapped vectors); row i has ID i. A Neighbor is an ID with its
// distance to a query. A Pair is two IDs within a distance of each other; a
// Group is a connected component of pairs with a keeper.
//
// Distance. Rows and queries are L2-normalised, and the distance is
// Euclidean: d(a,b) = ‖a−b‖ = sqrt(2 − 2⟨a,b⟩), clamped at 0, so that
// ranking by distance is ranking by cosine similarity (cos = 1 − d²/2).
// Every function computes ⟨a,b⟩ with the same kernel and converts it with
// the same code, so a given pair of vectors gets bit-identical distances
// from Exact, ExactBatch, Within and Pairs, and exact ties (duplicate
// vectors) are exact. Results are ordered by distance and then by
// Options.TieLess (ID ascending by default); they do not depend on the
// number of workers.
//
// Kernels. On amd64 with AVX2 and FMA, inner products run in assembly
// (kernel_amd64.s, one 8-lane accumulator per product); elsewhere, or with
// the purego build tag, in portable Go. Exact splits rows across Workers
// goroutines, each with a bounded top-k heap.
//
// Concurrency. All functions are safe for concurrent use on shared
// matrices as long as nobody writes the data meanwhile. Options.Allow and
// Options.TieLess are called from several goroutines at once.
//
// Errors. A query whose length differs from Matrix.Dim is a programming
// error and panics (callers check the store's model first).
package search
