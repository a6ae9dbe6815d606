package tune

import (
	"context"
	"math"
	"testing"
)

// TestEvaluateKnown scores a hand-made layout whose scores are known.
// Six images on a circle: a0 a1 (label A, a copy pair) at 0° and 10°, b0
// at 20° (label B), b1 b2 at 180°, 190° (label B, a copy pair), c0 at
// 200° (label A).
func TestEvaluateKnown(t *testing.T) {
	deg := []float64{0, 10, 20, 180, 190, 200}
	d := &Data{Dim: 2, Classes: true, Names: []string{"A", "B"},
		Label: []int{0, 0, 1, 1, 1, 0}, Group: []int{0, 0, -1, 1, 1, -1}}
	for _, g := range deg {
		r := g * math.Pi / 180
		d.X = append(d.X, float32(math.Cos(r)), float32(math.Sin(r)))
		d.Paths = append(d.Paths, "")
	}
	m, err := Evaluate(context.Background(), d.X, 2, d, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Class scores over a0, b0, b1, c0 (one per copy group): a0's nearest
	// is b0 (B: miss), b0's a0 (miss), b1's c0 (miss), c0's b1 (miss).
	if m.Queries != 4 || m.Recall1 != 0 {
		t.Errorf("queries %d recall@1 %v, want 4 and 0", m.Queries, m.Recall1)
	}
	// Precision over the 3 others each: a0 {b0,c0,b1}: c0 is A: 1/3; b0
	// {a0, b1, c0}: b1: 1/3; b1 {c0, b0, a0}: b0: 1/3; c0 {b1, a0, b0}: a0: 1/3.
	if math.Abs(m.Precision10-1.0/3) > 1e-9 {
		t.Errorf("precision@10 %v, want 1/3", m.Precision10)
	}
	// Copies: a0↔a1 and b1↔b2 are each other's nearest: recall 1.
	if m.Copies != 4 || m.CopyRecall1 != 1 {
		t.Errorf("copies %d recall@1 %v, want 4 and 1", m.Copies, m.CopyRecall1)
	}
	// Pairs by distance: the two copy pairs and a1-b0, b2-c0 all at 10°
	// (0.174), then 20°. Best F1: threshold 10° takes 2 true of 4 pairs:
	// P 0.5, R 1, F1 2/3. At the preset 0.2 the same.
	if math.Abs(m.F1Best-2.0/3) > 1e-6 || math.Abs(m.F1Preset-2.0/3) > 1e-6 {
		t.Errorf("F1 best %v preset %v, want 2/3", m.F1Best, m.F1Preset)
	}
	if math.Abs(m.BestThreshold-2*math.Sin(5*math.Pi/180)) > 1e-4 {
		t.Errorf("best threshold %v, want the 10° chord", m.BestThreshold)
	}
}

// TestHNSWMining: the graph search mines as well as the exact one on the
// synthetic problem.
func TestHNSWMining(t *testing.T) {
	d := rotated(1, 6, 60, 16)
	res, err := Tune(context.Background(), d, Options{Seed: 1, Epochs: 60, Patience: 60, LearningRate: 0.02, Search: SearchHNSW, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.After.Recall1 != 1 {
		t.Fatalf("recall@1 after tuning with HNSW mining %.3f, want 1", res.After.Recall1)
	}
}
