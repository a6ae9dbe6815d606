package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/calibrate"
	"github.com/embedsearch/embedsearch/internal/testenv"
)

// shippedPhotos is a folder of the first n photos of testdata/photos.
func shippedPhotos(t *testing.T, n int) string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(t), "testdata", "photos", "*.jpg"))
	if len(all) < n {
		t.Fatalf("testdata/photos holds %d photos, want %d", len(all), n)
	}
	dir := t.TempDir()
	for _, p := range all[:n] {
		if err := os.Symlink(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCalibrateThenDedup: calibrate keeps its presets in the store, says
// what it found against the manifest, leaves no copies behind, and dedup
// then groups by them and says so; without the file, by the manifest's.
func TestCalibrateThenDedup(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	tmp := os.TempDir()
	s := filepath.Join(t.TempDir(), "store")
	if code, _, errs := runCLI(t, "index", "--store", s, "--follow-symlinks", shippedPhotos(t, calibrate.MinPhotos)); code != exitOK {
		t.Fatalf("index: exit %d %s", code, errs)
	}
	code, out, errs := runCLI(t, "calibrate", "--store", s, "--sample", "10", "--copies", "3", "--json")
	if code != exitOK {
		t.Fatalf("calibrate: exit %d %s", code, errs)
	}
	var rep struct {
		Version     int
		File        string
		Model       string
		Calibration struct {
			Photos, Copies int
			Seed           uint64
			Date           time.Time
			Thresholds     struct{ Exact, Near, Similar float64 }
		}
		Manifest struct{ Exact, Near, Similar float64 }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	c := rep.Calibration
	if rep.Version != jsonSchema || rep.Model != "builtin-v3" || c.Photos != 10 || c.Copies != 30 || c.Seed != 1 ||
		!(c.Thresholds.Exact > 0 && c.Thresholds.Near > c.Thresholds.Exact) || rep.Manifest.Near != 0.6279 ||
		rep.File != filepath.Join(s, calibrate.FileName) {
		t.Fatalf("calibrate --json: %s", out)
	}
	if names, _ := os.ReadDir(tmp); len(names) > 0 {
		t.Errorf("calibrate left %s in the temporary folder", names[0].Name())
	}
	day := c.Date.Format("2006-01-02")
	code, out, errs = runCLI(t, "dedup", "--store", s, "--json")
	var d struct {
		PresetSource string `json:"preset_source"`
		Threshold    float64
	}
	json.Unmarshal([]byte(out), &d)
	if code != exitOK || d.PresetSource != "calibration of "+day || d.Threshold != c.Thresholds.Near {
		t.Errorf("dedup after calibrate: exit %d, source %q, threshold %v (calibrated near %v) %s", code, d.PresetSource, d.Threshold, c.Thresholds.Near, errs)
	}
	if _, out, _ = runCLI(t, "dedup", "--store", s); !strings.Contains(out, "preset from calibration of "+day) {
		t.Errorf("dedup's table does not say the preset's source:\n%s", out)
	}
	// The text report: the presets against the manifest's.
	code, out, _ = runCLI(t, "calibrate", "--store", s, "--sample", "10", "--copies", "2", "--seed", "3")
	if code != exitOK || !strings.Contains(out, "10 photos of the store and 20 copies") || !strings.Contains(out, "near") ||
		!strings.Contains(out, "0.6279") || !strings.Contains(out, calibrate.FileName) {
		t.Errorf("calibrate: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(s, calibrate.FileName))
	_, out, _ = runCLI(t, "dedup", "--store", s, "--json")
	if json.Unmarshal([]byte(out), &d); d.PresetSource != "the model manifest" || d.Threshold != 0.6279 {
		t.Errorf("dedup without a calibration: source %q, threshold %v", d.PresetSource, d.Threshold)
	}
	// A damaged calibration: dedup says so and what to do.
	os.WriteFile(filepath.Join(s, calibrate.FileName), []byte("{"), 0o644)
	if code, _, errs = runCLI(t, "dedup", "--store", s); code != exitError || !strings.Contains(errs, "embedsearch calibrate") {
		t.Errorf("dedup with a damaged calibration: exit %d %s", code, errs)
	}
}

func TestCalibrateRefuses(t *testing.T) {
	small := filepath.Join(t.TempDir(), "small")
	if code, _, errs := runCLI(t, "index", "--store", small, "--follow-symlinks", shippedPhotos(t, 5)); code != exitOK {
		t.Fatalf("index: exit %d %s", code, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--store", small}, exitError, "holds 5 images, calibration needs at least 20"},
		{[]string{"--store", small, "--sample", "3"}, exitUsage, "--sample 3: at least 10"},
		{[]string{"--store", small, "--copies", "0"}, exitUsage, "--copies 0"},
		{[]string{"--store", filepath.Join(t.TempDir(), "none")}, exitError, "no store at"},
		{[]string{"--store", small, "extra"}, exitUsage, "no arguments"},
	} {
		code, _, errs := runCLI(t, append([]string{"calibrate"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("calibrate %v: exit %d %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(small, calibrate.FileName)); err == nil {
		t.Error("a refused calibration wrote a file")
	}
	// A store whose model folder is gone.
	model := filepath.Join(t.TempDir(), "tiny")
	os.CopyFS(model, os.DirFS(tinyModel))
	gone := filepath.Join(t.TempDir(), "gone")
	if code, _, errs := runCLI(t, "index", "--store", gone, "--model", model, "--follow-symlinks", shippedPhotos(t, calibrate.MinPhotos)); code != exitOK {
		t.Fatalf("index: exit %d %s", code, errs)
	}
	os.RemoveAll(model)
	if code, _, errs := runCLI(t, "calibrate", "--store", gone); code != exitError || !strings.Contains(errs, "the store's model") {
		t.Errorf("calibrate, model gone: exit %d %s", code, errs)
	}
}

// TestCalibrateInterrupted: Ctrl-C while the copies are embedded leaves no
// copies behind and the previous calibration as it was.
func TestCalibrateInterrupted(t *testing.T) {
	tmp := t.TempDir()
	s := filepath.Join(t.TempDir(), "store")
	if code, _, errs := runCLI(t, "index", "--store", s, "--follow-symlinks", shippedPhotos(t, calibrate.MinPhotos)); code != exitOK {
		t.Fatalf("index: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "calibrate", "--store", s, "--sample", "10", "--copies", "2"); code != exitOK {
		t.Fatalf("calibrate: exit %d %s", code, errs)
	}
	before, err := os.ReadFile(filepath.Join(s, calibrate.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // cancel as soon as the first copy is on disk
		for ctx.Err() == nil {
			dirs, _ := filepath.Glob(filepath.Join(tmp, "embedsearch-calibrate-*", "*"))
			if len(dirs) > 0 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	o := calibrateOptions{Store: s, Sample: calibrate.MinPhotos, PerPhoto: 8, Seed: 2, TempDir: tmp,
		Engine: engineOptions{Device: "cpu", Batch: 4, MaxMegapixels: 128, MaxFileSize: 1 << 30}}
	var out, errb bytes.Buffer
	err = runCalibrate(ctx, o, &out, &errb)
	if !errors.Is(err, context.Canceled) || out.Len() > 0 {
		t.Fatalf("interrupted calibrate: %v, stdout %q", err, out.String())
	}
	if names, _ := os.ReadDir(tmp); len(names) > 0 {
		t.Errorf("an interrupted calibrate left %s", names[0].Name())
	}
	if after, _ := os.ReadFile(filepath.Join(s, calibrate.FileName)); !bytes.Equal(after, before) {
		t.Errorf("an interrupted calibrate changed the calibration:\n%s\nwas\n%s", after, before)
	}
}
