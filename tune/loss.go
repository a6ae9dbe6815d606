package tune

import (
	"fmt"
	"math"
)

// Losses.
const (
	// LossContrastive is the pairwise contrastive loss on the tuple's two
	// pairs: L = (1−Y)·d² + Y·max(0, m − d)², Y = 0 for (anchor,
	// positive) and 1 for (anchor, negative), d the Euclidean distance.
	LossContrastive = "contrastive"
	// LossTriplet is max(0, d(a,p)² − d(a,n)² + m).
	LossTriplet = "triplet"
	// LossNTXent is the normalised-temperature cross-entropy over labelled
	// positives: each anchor's positive against every other tuple's
	// positive and negative that carries another label (the batch's
	// negatives and the mined ones), at temperature τ.
	LossNTXent = "ntxent"
)

// DefaultMargin is the margin each loss uses when none is given (for
// NT-Xent it is the temperature).
func DefaultMargin(loss string) float64 {
	switch loss {
	case LossContrastive:
		return 1.0
	case LossNTXent:
		return 0.1
	default:
		return 0.2
	}
}

func checkLoss(loss string) error {
	switch loss {
	case LossContrastive, LossTriplet, LossNTXent:
		return nil
	}
	return fmt.Errorf("%w: loss %q (want contrastive, triplet or ntxent)", ErrOptions, loss)
}

// tuple is one anchor with a positive and a negative: rows of a batch.
type tuple struct{ a, p, n int }

// lossGrad returns the mean loss over ts on the unit vectors u (rows of
// the batch) and adds its gradient with respect to each row into gu.
// labels gives each row's label (NT-Xent leaves out candidates that share
// the anchor's).
func lossGrad(loss string, m float64, u [][]float64, labels []int, ts []tuple, gu [][]float64) float64 {
	if len(ts) == 0 {
		return 0
	}
	inv := 1 / float64(len(ts))
	total := 0.0
	switch loss {
	case LossContrastive:
		for _, t := range ts {
			a, p, n := u[t.a], u[t.p], u[t.n]
			total += sqDist(a, p)
			for i := range a {
				g := 2 * (a[i] - p[i]) * inv
				gu[t.a][i] += g
				gu[t.p][i] -= g
			}
			d := math.Sqrt(sqDist(a, n))
			if d < m && d > 0 {
				total += (m - d) * (m - d)
				c := -2 * (m - d) / d * inv
				for i := range a {
					g := c * (a[i] - n[i])
					gu[t.a][i] += g
					gu[t.n][i] -= g
				}
			}
		}
	case LossTriplet:
		for _, t := range ts {
			a, p, n := u[t.a], u[t.p], u[t.n]
			l := sqDist(a, p) - sqDist(a, n) + m
			if l <= 0 {
				continue
			}
			total += l
			for i := range a {
				gu[t.a][i] += 2 * (n[i] - p[i]) * inv
				gu[t.p][i] -= 2 * (a[i] - p[i]) * inv
				gu[t.n][i] += 2 * (a[i] - n[i]) * inv
			}
		}
	case LossNTXent:
		total = ntxent(m, u, labels, ts, gu, inv)
	}
	return total * inv
}

// ntxent is the NT-Xent part of lossGrad (the sum, not the mean; the
// gradients already scaled by inv).
func ntxent(tau float64, u [][]float64, labels []int, ts []tuple, gu [][]float64, inv float64) float64 {
	total := 0.0
	cands := make([]int, 0, 2*len(ts))
	logits := make([]float64, 0, 2*len(ts))
	for i, t := range ts {
		la := labels[t.a]
		cands = append(cands[:0], t.p)
		for j, s := range ts {
			if j != i && labels[s.p] != la {
				cands = append(cands, s.p)
			}
			if labels[s.n] != la {
				cands = append(cands, s.n)
			}
		}
		a := u[t.a]
		logits = logits[:0]
		mx := math.Inf(-1)
		for _, c := range cands {
			s := dot(a, u[c]) / tau
			logits = append(logits, s)
			mx = max(mx, s)
		}
		sum := 0.0
		for _, s := range logits {
			sum += math.Exp(s - mx)
		}
		total += mx + math.Log(sum) - logits[0]
		for k, c := range cands {
			q := math.Exp(logits[k]-mx) / sum
			if k == 0 {
				q--
			}
			q *= inv / tau
			uc := u[c]
			for d := range a {
				gu[t.a][d] += q * uc[d]
				gu[c][d] += q * a[d]
			}
		}
	}
	return total
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// dot is the inner product of a and b (len(b) >= len(a)), in four
// independent sums: one sum is a chain of dependent additions, four keep
// the floating-point unit busy (about 3 times faster for the head's rows).
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
