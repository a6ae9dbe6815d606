package tune

import (
	"cmp"
	"context"
	"slices"

	"github.com/embedsearch/embedsearch/search"
)

// Metrics score vectors of labelled images against their labels.
type Metrics struct {
	// Queries is the number of images the class scores are over: one per
	// duplicate group (its first image) plus every image in none, so that
	// copies of one photo do not fill each other's lists. 0 without class
	// labels.
	Queries int `json:"queries"`
	// Recall1: the share of queries whose nearest other query has their
	// label. Precision10: the mean share of the 10 nearest that do.
	Recall1     float64 `json:"recall_at_1"`
	Precision10 float64 `json:"precision_at_10"`
	// Copies is the number of images in duplicate groups (of two or more
	// here; given by a pairs file, not found by GroupCopies); CopyRecall1 the share of them whose nearest other image (any
	// image scored) is a copy of theirs.
	Copies      int     `json:"copies"`
	CopyRecall1 float64 `json:"copy_recall_at_1"`
	// Pairwise F1 over all pairs of images scored (a pair is positive
	// when both are in one duplicate group, predicted when within the
	// threshold): at the best threshold, and at the preset one.
	F1Best        float64 `json:"pair_f1_best"`
	BestThreshold float64 `json:"best_threshold"`
	F1Preset      float64 `json:"pair_f1_preset"`
	Preset        float64 `json:"preset"`
}

// Score is the number early stopping maximises: precision@10 with class
// labels, else the recall@1 of copies.
func (m Metrics) Score(classes bool) float64 {
	if classes {
		return m.Precision10
	}
	return m.CopyRecall1
}

// Evaluate scores vecs (one unit row per image of d, dim values each).
// preset is the distance the pairwise F1 is also given at.
func Evaluate(ctx context.Context, vecs []float32, dim int, d *Data, preset float64, workers int) (Metrics, error) {
	out := Metrics{Preset: preset}
	n := d.Len()
	size := map[int]int{}
	for _, g := range d.Group {
		if g >= 0 {
			size[g]++
		}
	}
	if d.Classes {
		seen := map[int]bool{}
		var reps []int
		for i, g := range d.Group {
			if g >= 0 && seen[g] {
				continue
			}
			seen[g] = true
			reps = append(reps, i)
		}
		rv := make([]float32, 0, len(reps)*dim)
		for _, i := range reps {
			rv = append(rv, vecs[i*dim:(i+1)*dim]...)
		}
		m := search.Matrix{Data: rv, Dim: dim}
		res := search.ExactBatch(m, m, 11, search.Options{Workers: workers})
		for q, nb := range res {
			hits, k := 0, 0
			for _, x := range nb {
				if x.ID == q || k == 10 {
					continue
				}
				same := d.Label[reps[x.ID]] == d.Label[reps[q]]
				if k == 0 && same {
					out.Recall1++
				}
				if same {
					hits++
				}
				k++
			}
			if k > 0 {
				out.Precision10 += float64(hits) / float64(k)
			}
		}
		out.Queries = len(reps)
		if len(reps) > 0 {
			out.Recall1 /= float64(len(reps))
			out.Precision10 /= float64(len(reps))
		}
	}
	if d.found {
		return out, nil
	}
	var copies []int
	for i, g := range d.Group {
		if g >= 0 && size[g] >= 2 {
			copies = append(copies, i)
		}
	}
	if len(copies) == 0 {
		return out, nil
	}
	m := search.Matrix{Data: vecs[:n*dim], Dim: dim}
	qs := make([]float32, 0, len(copies)*dim)
	for _, i := range copies {
		qs = append(qs, vecs[i*dim:(i+1)*dim]...)
	}
	res := search.ExactBatch(m, search.Matrix{Data: qs, Dim: dim}, 2, search.Options{Workers: workers})
	maxPos := float32(preset)
	for q, nb := range res {
		i := copies[q]
		for _, x := range nb {
			if x.ID == i {
				continue
			}
			if d.Group[x.ID] == d.Group[i] {
				out.CopyRecall1++
			}
			break
		}
		for _, j := range copies {
			if j > i && d.Group[j] == d.Group[i] {
				maxPos = max(maxPos, 1e-5+dist(vecs[i*dim:(i+1)*dim], vecs[j*dim:(j+1)*dim]))
			}
		}
	}
	out.Copies = len(copies)
	out.CopyRecall1 /= float64(len(copies))

	positives := 0
	for _, s := range size {
		positives += s * (s - 1) / 2
	}
	pairs, err := search.Pairs(ctx, m, maxPos, search.Options{Workers: workers})
	if err != nil {
		return out, err
	}
	// Ties may come in any order: F1 is taken only after the last of them.
	slices.SortFunc(pairs, func(a, b search.Pair) int { return cmp.Compare(a.Dist, b.Dist) })
	f1 := func(tp, fp int) float64 {
		if tp == 0 {
			return 0
		}
		p := float64(tp) / float64(tp+fp)
		r := float64(tp) / float64(positives)
		return 2 * p * r / (p + r)
	}
	tp, fp := 0, 0
	for k, p := range pairs {
		if d.Group[p.A] >= 0 && d.Group[p.A] == d.Group[p.B] {
			tp++
		} else {
			fp++
		}
		if k+1 < len(pairs) && pairs[k+1].Dist == p.Dist {
			continue
		}
		if s := f1(tp, fp); s > out.F1Best {
			out.F1Best, out.BestThreshold = s, float64(p.Dist)
		}
		if float64(p.Dist) <= preset {
			out.F1Preset = f1(tp, fp)
		}
	}
	return out, nil
}

// dist is the Euclidean distance between two vectors.
func dist(a, b []float32) float32 { return float32(search.Distance(a, b)) }
