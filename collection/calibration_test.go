package collection

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/calibrate"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

// TestStoreCriterionUsesCalibration: a store's own calibration replaces
// the manifest's distances for every preset, says so, and only for the
// store's model; a damaged one is an error, not a silent fallback.
func TestStoreCriterionUsesCalibration(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	ctx := context.Background()
	c, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, c, 10, 1)
	m, err := c.Model()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	man := m.Manifest
	crit, err := StoreCriterion(r, man, PresetNear)
	if err != nil || crit.Source != SourceManifest || crit.Within != float32(man.Thresholds.Near) || crit.Calibration != nil {
		t.Fatalf("no calibration: %+v %v", crit, err)
	}
	cal := &calibrate.Calibration{ModelID: r.Model().ModelID, Digest: r.Model().Digest, Photos: 10, Copies: 80,
		Date: time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), Thresholds: models.Thresholds{Exact: 0.05, Near: 0.66, Similar: 0.7}}
	if err := calibrate.Save(dir, cal); err != nil {
		t.Fatal(err)
	}
	for preset, want := range map[string]float32{PresetExact: 0.05, PresetNear: 0.66, PresetSimilar: 0.7} {
		crit, err := StoreCriterion(r, man, preset)
		if err != nil || crit.Within != want || crit.Source != "calibration of 2026-11-30" || crit.Calibration == nil {
			t.Errorf("%s: %+v %v; want within %v from the calibration", preset, crit, err, want)
		}
		if preset == PresetNear && (crit.Exact != 0.05 || crit.K != DefaultDedup.K && (man.Dedup == nil || crit.K != man.Dedup.K)) {
			t.Errorf("near: exact %v, K %d", crit.Exact, crit.K)
		}
	}
	// Another model's calibration is not this store's.
	cal.Digest = "another build"
	calibrate.Save(dir, cal)
	if crit, err := StoreCriterion(r, man, PresetNear); err != nil || crit.Source != SourceManifest || crit.Within != float32(man.Thresholds.Near) {
		t.Errorf("a calibration of another model: %+v %v; want the manifest's", crit, err)
	}
	os.WriteFile(filepath.Join(dir, calibrate.FileName), []byte(`{"version": 1, "model_id": "x"`), 0o644)
	if _, err := StoreCriterion(r, man, PresetNear); !errors.Is(err, ErrCalibration) || !errors.Is(err, calibrate.ErrCorrupt) {
		t.Errorf("a damaged calibration: %v; want ErrCalibration", err)
	}
}
