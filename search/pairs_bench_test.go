package search

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchPairs runs f under a cancellable context (b.Context), as commands
// do, so the cost of its cancellation checks is in the numbers.
func benchPairs(b *testing.B, f func(context.Context, Matrix, float32, int) []Pair) {
	n := benchRows() / 4
	m := nearDupMatrix(rand.New(rand.NewPCG(5, 5)), n, 512, 0.004)
	b.SetBytes(int64(n) * int64(n) / 2 * 512 * 4) // float32 bytes multiplied
	b.ReportAllocs()
	for b.Loop() {
		f(b.Context(), m, 0.3, workerCount(0))
	}
}

// BenchmarkPairsFloat and BenchmarkPairsInt8 compare the two all-pairs
// paths on the same rows (a quarter of benchRows).
func BenchmarkPairsFloat(b *testing.B) {
	benchPairs(b, func(ctx context.Context, m Matrix, d float32, nw int) []Pair { return pairsOf(ctx, m, d, nw, nil) })
}

func BenchmarkPairsInt8(b *testing.B) {
	if !useVNNI {
		b.Skip("no AVX-512 VNNI")
	}
	benchPairs(b, func(ctx context.Context, m Matrix, d float32, nw int) []Pair { return pairsInt8(ctx, m, d, nw, nil) })
}
