package calibrate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/models"
)

func sample() *Calibration {
	return &Calibration{ModelID: "builtin-v3", Digest: "abc", Date: time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), Seed: 7,
		Photos: 60, Copies: 480, Edits: []string{"png", "crop80"},
		Thresholds: models.Thresholds{Exact: 0.05, Near: 0.63, Similar: 0.63},
		CopyDist:   Summary{N: 480, P50: 0.2, P95: 0.63}, Duplicates: 1, DistinctWithinNear: 0.6, NearFound: 0.9}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if c, err := Load(dir); c != nil || err != nil {
		t.Fatalf("no file: %v %v, want nil nil", c, err)
	}
	want := sample()
	if err := Save(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != Version || got.ModelID != want.ModelID || !got.Date.Equal(want.Date) || got.Thresholds != want.Thresholds ||
		got.CopyDist != want.CopyDist || got.Photos != 60 || got.Copies != 480 || len(got.Edits) != 2 || got.NearFound != 0.9 {
		t.Fatalf("round trip: %+v, want %+v", got, want)
	}
	names, _ := os.ReadDir(dir)
	if len(names) != 1 || names[0].Name() != FileName {
		t.Fatalf("store folder holds %v, want only %s", names, FileName)
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       error
	}{
		{"not json", "hello", ErrCorrupt},
		{"no version", `{"model_id": "m"}`, ErrCorrupt},
		{"newer", `{"version": 2, "model_id": "m"}`, ErrVersion},
		{"no model", `{"version": 1, "photos": 1, "copies": 1, "thresholds": {"exact": 0.1, "near": 0.5, "similar": 0.5}}`, ErrCorrupt},
		{"bad presets", `{"version": 1, "model_id": "m", "photos": 1, "copies": 1, "thresholds": {"exact": 0.1, "near": 2.5, "similar": 2.5}}`, ErrCorrupt},
		{"similar below near", `{"version": 1, "model_id": "m", "photos": 1, "copies": 1, "thresholds": {"exact": 0.1, "near": 0.5, "similar": 0.4}}`, ErrCorrupt},
		{"nothing measured", `{"version": 1, "model_id": "m", "thresholds": {"exact": 0.1, "near": 0.5, "similar": 0.5}}`, ErrCorrupt},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, FileName), []byte(tc.body), 0o644)
		c, err := Load(dir)
		if !errors.Is(err, tc.want) || c != nil || !strings.Contains(err.Error(), FileName) {
			t.Errorf("%s: %v, %v; want %v naming the file", tc.name, c, err, tc.want)
		}
	}
	bad := sample()
	bad.Thresholds.Near = 0
	if err := Save(t.TempDir(), bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Save of a calibration without near: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"version": 1, "model_id": "m", "photos": 1, "copies": 1, "thresholds": {"exact": 0.1, "near": 0.5, "similar": 0.5}}`))
	f.Add([]byte(`{"version": 2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && (c.check() != nil || c.Version != Version) {
			t.Fatalf("accepted %q: %+v", b, c)
		}
		if err != nil && c != nil {
			t.Fatal("a calibration with an error")
		}
	})
}
