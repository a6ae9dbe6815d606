package calibrate

import (
	"math"
	"slices"

	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/search"
)

// The quantiles the rules take.
const (
	// ExactQuantile of the distances between an original and its copies
	// of the exact kinds is the exact preset.
	ExactQuantile = 0.99
	// NearQuantile of the distances between an original and its copies of
	// every kind is the near preset (and similar's distance).
	NearQuantile = 0.95
	// ToneQuantile of the tone change (signature.Match.ToneChanged)
	// between true copies that the near test accepts where the colour
	// check is blind (NoColour) is its ToneChanged bar: it costs at most
	// the other 1% of those pairs.
	ToneQuantile = 0.99
)

// Percentile is the q-quantile of v: the value at index ⌊q·n⌋ of v sorted
// (clamped to the last); 0 for an empty v. v is not modified.
func Percentile(v []float32, q float64) float32 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// Thresholds chooses the exact, near and similar presets from distances:
//
//   - exact: the ExactQuantile of exactCopies (original to copy, the exact
//     kinds: re-encodes, resizes, metadata edits), kept below the closest
//     of distinct (pairs of distinct photos), so that no two distinct
//     photos are exact duplicates;
//   - near: the NearQuantile of copies (original to copy, every kind): the
//     vectors let that share of the edits through, the neighbourhood
//     score and the pixels keep look-alikes out;
//   - similar: the near distance, judged by the vectors alone (no
//     neighbourhood, no pixels): a superset of near's pairs, for browsing,
//     never for an action.
//
// With realDuplicates, distinct comes from a library that may hold real
// duplicates (the nearest other photos of a user's store): distinct pairs
// within the exact quantile are duplicates, not distinct photos, and do not
// lower exact.
func Thresholds(exactCopies, copies, distinct []float32, realDuplicates bool) models.Thresholds {
	exact := Percentile(exactCopies, ExactQuantile)
	closest := float32(math.Inf(1))
	for _, d := range distinct {
		if !realDuplicates || d > exact {
			closest = min(closest, d)
		}
	}
	exact = min(exact, closest*0.99)
	near := Percentile(copies, NearQuantile)
	return models.Thresholds{Exact: round4(exact), Near: round4(near), Similar: round4(near)}
}

// round4 is v to four decimals, as the manifest writes presets.
func round4(v float32) float64 { return math.Round(float64(v)*1e4) / 1e4 }

// dist is the Euclidean distance between rows a and b.
func dist(m search.Matrix, a, b int) float32 { return unitDist(m.Row(a), m.Row(b)) }

func unitDist(a, b []float32) float32 { return float32(search.Distance(a, b)) }

// Summary describes a distribution of distances.
type Summary struct {
	N   int     `json:"n"`
	Min float32 `json:"min"`
	P05 float32 `json:"p05"`
	P50 float32 `json:"p50"`
	P95 float32 `json:"p95"`
	P99 float32 `json:"p99"`
	Max float32 `json:"max"`
}

// Summarize is v's summary.
func Summarize(v []float32) Summary {
	if len(v) == 0 {
		return Summary{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return Summary{N: len(s), Min: s[0], P05: Percentile(s, 0.05), P50: Percentile(s, 0.5),
		P95: Percentile(s, 0.95), P99: Percentile(s, 0.99), Max: s[len(s)-1]}
}

// Below is the share of v at most d.
func Below(v []float32, d float32) float64 {
	if len(v) == 0 {
		return 0
	}
	n := 0
	for _, x := range v {
		if x <= d {
			n++
		}
	}
	return float64(n) / float64(len(v))
}
