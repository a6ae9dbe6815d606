package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/embedsearch/embedsearch/calibrate"
	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/models"
)

const calibrateDescription = `Measures dedup's presets (exact, near, similar) for the store's model on the
store's own photos: it samples --sample of them (drawn by --seed), makes copies
of each with embedsearch's own edits (re-encodes, resizes, crops, borders,
captions, colour changes, EXIF rotations...) in a temporary folder, embeds
copies and originals, and sets exact from the 99th percentile of the exact
kinds' distances to their originals, near and similar from the 95th
percentile of every copy's; the sampled photos' nearest other photos in the
store are the distinct ones (those within exact count as real duplicates).
The result is kept in the store (calibration.json); dedup uses it from then
on, before the model manifest's presets, and says which it used. Run it again
after the library changed much; delete the file to go back to the manifest's.
Nothing is written next to your photos; the temporary folder is removed, also
on Ctrl-C, and an interrupted run keeps the previous calibration.

The store must hold at least %d images. Exit codes: 0 ok; 1 error; 2 usage;
130 interrupted.`

func newCalibrateCommand() *cli.Command {
	return &cli.Command{
		Name:        "calibrate",
		Usage:       "measure dedup's presets on the store's own photos (copies of a sample)",
		Description: fmt.Sprintf(calibrateDescription, calibrate.MinPhotos),
		Flags: append([]cli.Flag{
			storeFlag(),
			&cli.IntFlag{Name: "sample", Value: calibrate.DefaultSample, Usage: fmt.Sprintf("photos to sample `N` (at least %d)", calibrate.MinSample)},
			&cli.IntFlag{Name: "copies", Value: calibrate.DefaultPerPhoto, Usage: "copies `N` made of each photo"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "`N` drawing the sample and the edits (the same seed, the same calibration)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		}, engineFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("calibrate takes no arguments (use --store DIR)")
			}
			dir, err := storeDir(c)
			if err != nil {
				return err
			}
			o := calibrateOptions{Store: dir, Sample: c.Int("sample"), PerPhoto: c.Int("copies"), Seed: c.Uint64("seed"),
				JSON: c.Bool("json"), Model: c.String("model"), ModelSet: c.IsSet("model")}
			if o.Sample < calibrate.MinSample {
				return usagef("--sample %d: at least %d photos", o.Sample, calibrate.MinSample)
			}
			if o.PerPhoto < 1 {
				return usagef("--copies %d: at least 1", o.PerPhoto)
			}
			if o.Engine, err = engineOptionsFrom(c); err != nil {
				return err
			}
			return runCalibrate(c.Context, o, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// calibrateOptions are calibrate's flags.
type calibrateOptions struct {
	Store            string
	Sample, PerPhoto int
	Seed             uint64
	JSON             bool
	Model            string
	ModelSet         bool
	Engine           engineOptions
	// TempDir is where the copies' folder is made ("": the system's).
	TempDir string
}

func runCalibrate(ctx context.Context, o calibrateOptions, stdout, stderr io.Writer) error {
	r, err := openStore(o.Store)
	if err != nil {
		return err
	}
	defer r.Close()
	if r.Len() < calibrate.MinPhotos {
		return fmt.Errorf("%w: the store %s holds %d images, calibration needs at least %d", calibrate.ErrTooFew, o.Store, r.Len(), calibrate.MinPhotos)
	}
	spec := ""
	if o.ModelSet {
		spec = o.Model
	}
	m, _, err := collection.Model(r.Dir(), spec)
	if err != nil {
		return fmt.Errorf("calibration embeds with the store's model: %w", err)
	}
	eng, err := openEngineFor(ctx, m, o.Engine, stderr)
	if err != nil {
		return err
	}
	defer eng.Close()
	near := collection.DefaultDedup
	if m.Manifest.Dedup != nil {
		near = *m.Manifest.Dedup
	}
	bar := newProgress(stderr, false)
	cal, err := calibrate.Run(ctx, r, eng.Encoder, calibrate.Options{
		Sample: o.Sample, PerPhoto: o.PerPhoto, Seed: o.Seed, TempDir: o.TempDir, Dedup: near,
		InputSide: max(m.Manifest.Preprocess.Size, min(m.Manifest.Preprocess.Crop[0], m.Manifest.Preprocess.Crop[1])),
		Limits:    preprocess.Limits{MaxPixels: int64(o.Engine.MaxMegapixels * 1e6)},
		Progress:  func(done, total int) { bar.show("embedding copies", "images", int64(done), int64(total)) },
	})
	bar.done()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := calibrate.Save(r.Dir(), cal); err != nil {
		return fmt.Errorf("keep the calibration in %s: %w", r.Dir(), err)
	}
	return writeCalibration(stdout, o.JSON, calibrationReport{Store: absPath(r.Dir()), File: filepath.Join(absPath(r.Dir()), calibrate.FileName),
		Calibration: cal, Manifest: m.Manifest.Thresholds, Model: m.Manifest.ID})
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// calibrationReport is what calibrate prints; its JSON field names are
// part of the interface.
type calibrationReport struct {
	Version     int                    `json:"version"` // jsonSchema
	Store       string                 `json:"store"`
	File        string                 `json:"file"`
	Model       string                 `json:"model"`
	Calibration *calibrate.Calibration `json:"calibration"`
	Manifest    models.Thresholds      `json:"manifest"`
}
