package calibrate

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	v := []float32{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want float32
	}{{0, 1}, {0.5, 6}, {0.95, 10}, {0.99, 10}, {1, 10}} {
		if got := Percentile(v, tc.q); got != tc.want {
			t.Errorf("Percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if v[0] != 5 {
		t.Error("Percentile sorted its argument")
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("empty: want 0")
	}
}

// spread is n distances from lo to hi, evenly.
func spread(n int, lo, hi float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*float32(i)/float32(n-1)
	}
	return v
}

func TestThresholdsRule(t *testing.T) {
	exactCopies := spread(101, 0, 0.05) // 99th percentile: 0.0495
	all := append(spread(100, 0.1, 0.8), exactCopies...)
	near := float64(Percentile(all, NearQuantile))
	// Distinct photos far away: exact is the copies' quantile.
	got := Thresholds(exactCopies, all, []float32{0.3, 0.5}, false)
	if got.Exact != 0.0495 || got.Near != round4(float32(near)) || got.Similar != got.Near {
		t.Errorf("far distinct photos: %+v, want exact 0.0495, near = similar = %.4f", got, near)
	}
	// A held-out set's distinct photos are distinct: the closest pair
	// caps exact.
	if got := Thresholds(exactCopies, all, []float32{0.02, 0.5}, false); got.Exact != 0.0198 {
		t.Errorf("held-out, a distinct pair at 0.02: exact %v, want 0.0198", got.Exact)
	}
	// A user's library holds real duplicates: a pair within the exact
	// quantile is one of them, not a distinct photo, and lowers nothing;
	// beyond it, the closest distinct photo still caps exact.
	if got := Thresholds(exactCopies, all, []float32{0.02, 0.5}, true); got.Exact != 0.0495 {
		t.Errorf("library, a duplicate at 0.02: exact %v, want 0.0495", got.Exact)
	}
	if got := Thresholds(exactCopies, all, []float32{0.03}, false); got.Exact != 0.0297 {
		t.Errorf("exact %v, want 0.0297", got.Exact)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize(spread(101, 0, 1))
	if s.N != 101 || s.Min != 0 || s.Max != 1 || math.Abs(float64(s.P50-0.5)) > 1e-6 || math.Abs(float64(s.P95-0.95)) > 1e-6 {
		t.Errorf("%+v", s)
	}
	if got := Below([]float32{0.1, 0.2, 0.3, 0.4}, 0.2); got != 0.5 {
		t.Errorf("Below = %v, want 0.5", got)
	}
}
