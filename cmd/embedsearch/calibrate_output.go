package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/embedsearch/embedsearch/calibrate"
)

// writeCalibration prints the presets found against the manifest's, and
// what they were measured on.
func writeCalibration(w io.Writer, asJSON bool, r calibrationReport) error {
	if asJSON {
		r.Version = jsonSchema
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	c := r.Calibration
	fmt.Fprintf(w, "calibrated %s on %d photos of the store and %d copies of them (seed %d)\n", r.Model, c.Photos, c.Copies, c.Seed)
	t := newTable(w)
	fmt.Fprintln(t, "preset\tcalibrated\tmanifest")
	for _, p := range []struct {
		name      string
		got, want float64
	}{{"exact", c.Thresholds.Exact, r.Manifest.Exact}, {"near", c.Thresholds.Near, r.Manifest.Near}, {"similar", c.Thresholds.Similar, r.Manifest.Similar}} {
		fmt.Fprintf(t, "%s\t%.4f\t%.4f\n", p.name, p.got, p.want)
	}
	t.Flush()
	fmt.Fprintf(w, "copies to their originals: median %.3f, %.0fth percentile %.3f; exact kinds' %.0fth percentile %.3f (%d copies)\n",
		c.CopyDist.P50, calibrate.NearQuantile*100, c.Thresholds.Near, calibrate.ExactQuantile*100, c.Thresholds.Exact, c.ExactDist.N)
	fmt.Fprintf(w, "nearest other photos: median %.3f, 5th percentile %.3f; %.0f%% of them within near", c.Distinct.P50, c.Distinct.P05, 100*c.DistinctWithinNear)
	switch {
	case c.Duplicates == 1:
		fmt.Fprint(w, "; 1 sampled photo has a duplicate within exact (not counted as distinct)")
	case c.Duplicates > 1:
		fmt.Fprintf(w, "; %d sampled photos have a duplicate within exact (not counted as distinct)", c.Duplicates)
	}
	fmt.Fprintln(w)
	if c.NearFound > 0 {
		fmt.Fprintf(w, "the near test finds %.0f%% of the copies\n", 100*c.NearFound)
	}
	fmt.Fprintf(w, "kept in %s: dedup uses these presets from now on (delete the file to use the manifest's)\n", r.File)
	return nil
}
