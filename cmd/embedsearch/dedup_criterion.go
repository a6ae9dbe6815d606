package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/store"
)

// dedupCriterion returns the test dedup groups by and the model id:
// --threshold (a distance, nothing else), or the --preset of the store's own
// calibration (embedsearch calibrate) when it has one, else of the manifest
// of the model the store was built with (--model when given, else the
// registered model with the store's id).
func dedupCriterion(o dedupOptions, r *store.Reader) (collection.Criterion, string, error) {
	b := r.Model()
	if o.Threshold > 0 {
		return collection.DistanceCriterion(float32(o.Threshold)), b.ModelID, nil
	}
	spec := ""
	if o.ModelSet {
		spec = o.Model
	}
	m, _, err := collection.Model(r.Dir(), spec)
	if err != nil {
		return collection.Criterion{}, "", fmt.Errorf("the default test comes from the store's model: %w (or give --threshold D)", err)
	}
	c, err := collection.StoreCriterion(r, m.Manifest, o.Preset)
	switch {
	case errors.Is(err, collection.ErrPreset) && !presetName(o.Preset):
		return c, "", usagef("--preset %q: use exact, near or similar", o.Preset)
	case err != nil:
		return c, "", fmt.Errorf("%w; give --threshold D", err)
	}
	return c, b.ModelID, nil
}

func presetName(p string) bool {
	switch strings.ToLower(p) {
	case collection.PresetExact, collection.PresetNear, collection.PresetSimilar:
		return true
	}
	return false
}

// signatureNote tells on stderr when the near test had to judge images by
// their vectors alone (they have no signature: the store was not indexed
// since signatures came), and what to do.
func signatureNote(stderr interface{ Write([]byte) (int, error) }, c collection.Criterion, images, signed int) {
	if c.DistanceOnly || signed >= images {
		return
	}
	dedupWarn(stderr, "%d of %d images have no signature yet: they are judged by their vectors alone, "+
		"which groups look-alikes more often; 'embedsearch index' of their folders adds them without embedding again",
		images-signed, images)
}
