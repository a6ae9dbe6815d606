package models

import (
	"math"
	"strings"
	"testing"
)

// TestFingerprintKeepsOldStores: a preprocessing block that uses neither
// jpeg_draft nor reducing_gap has the fingerprint it had before the two
// fields existed (builtin-v2's block, recorded by stores made with it),
// and each field changes it.
func TestFingerprintKeepsOldStores(t *testing.T) {
	p := Preprocess{
		Resize: ResizeSquash, Size: 64, Crop: [2]int{64, 64}, Interpolation: InterpBicubic,
		Rescale: 0.00392156862745098, Mean: [3]float64{0.485, 0.456, 0.406}, Std: [3]float64{0.229, 0.224, 0.225},
	}
	if got, want := p.Fingerprint(), "e2a369e22bb165dd"; got != want {
		t.Errorf("fingerprint %s, want %s (the one stores recorded)", got, want)
	}
	draft, gap := p, p
	draft.JPEGDraft, gap.ReducingGap = true, 3
	if draft.Fingerprint() == p.Fingerprint() || gap.Fingerprint() == p.Fingerprint() || draft.Fingerprint() == gap.Fingerprint() {
		t.Error("jpeg_draft or reducing_gap leaves the fingerprint unchanged")
	}
}

func TestValidateReducingGap(t *testing.T) {
	b, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []float64{0, 1, 2, 3.5} {
		m := *b.Manifest
		m.Preprocess.ReducingGap = g
		if err := m.Validate(); err != nil {
			t.Errorf("reducing_gap %v: %v", g, err)
		}
	}
	for _, g := range []float64{0.5, -1, math.NaN()} {
		m := *b.Manifest
		m.Preprocess.ReducingGap = g
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), "reducing_gap") {
			t.Errorf("reducing_gap %v: %v, want a refusal", g, err)
		}
	}
}
