package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/tune"
)

// tuneReport is the JSON of `tune --json`; its field names are part of the
// interface.
type tuneReport struct {
	Model       string            `json:"model"`
	Dir         string            `json:"dir"`
	Base        string            `json:"base"`
	Record      tune.Record       `json:"record"`
	Thresholds  models.Thresholds `json:"thresholds"`
	Reprojected *reprojected      `json:"reprojected,omitempty"`
}

type reprojected struct {
	Store   string `json:"store"`
	Entries int    `json:"entries"`
}

func runTune(ctx context.Context, o tuneOptions, stdout, stderr io.Writer) error {
	base, src, err := collection.Model(o.Store, "")
	if err != nil {
		return err
	}
	if base.Base() != nil {
		return fmt.Errorf("%w (%s): tune a store of its base model %s", tune.ErrChained, base.Manifest.ID, base.Manifest.Head.Base.ID)
	}
	r, err := openStore(o.Store)
	if err != nil {
		return err
	}
	defer r.Close()
	o.Train.Preset = base.Manifest.Thresholds.Near
	d, err := tune.Load(ctx, r, o.Store, o.Input, float32(base.Manifest.Thresholds.Exact), 0)
	if err != nil {
		return err
	}
	if !o.Quiet {
		o.Train.Progress = func(e tune.Epoch) { printEpoch(stderr, e, d.Classes) }
		fmt.Fprintf(stderr, "embedsearch: tuning %s on %d labelled images (%d labels, %d copies' groups, %d marked negatives)\n",
			base.Manifest.ID, d.Len(), len(d.Names), countGroups(d), len(d.Negatives))
	}
	res, err := tune.Tune(ctx, d, o.Train)
	if err != nil {
		return err
	}
	labels := o.Input.Labels
	switch {
	case o.Input.Folders:
		labels = "folders of " + o.Store
	case labels == "":
		labels = o.Input.Pairs
	}
	rec := tune.NewRecord(base, labels, o.Train, res)
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return err
	}
	man, err := tune.WriteModel(out, base, src, res, rec, "embedsearch "+readBuildInfo().Version)
	if err != nil {
		return err
	}
	rep := tuneReport{Model: man.ID, Dir: out, Base: base.Manifest.ID, Record: rec, Thresholds: man.Thresholds}
	if o.Reproject != "" {
		tuned, err := models.Open(out)
		if err != nil {
			return err
		}
		n, err := tune.Reproject(ctx, r, o.Reproject, tuned, out, res.Head)
		if err != nil {
			return fmt.Errorf("reproject: %w", err)
		}
		rep.Reprojected = &reprojected{Store: o.Reproject, Entries: n}
	}
	if o.JSON {
		return writeJSON(stdout, rep)
	}
	printTuneReport(stdout, rep, d.Classes)
	return nil
}

func countGroups(d *tune.Data) int {
	seen := map[int]int{}
	for _, g := range d.Group {
		if g >= 0 {
			seen[g]++
		}
	}
	n := 0
	for _, c := range seen {
		if c >= 2 {
			n++
		}
	}
	return n
}
