package calibrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/embedsearch/embedsearch/internal/atomicfile"
	"github.com/embedsearch/embedsearch/models"
)

// FileName is the calibration's file in the store folder.
const FileName = "calibration.json"

// Version is the version of the calibration file this build writes and
// reads.
const Version = 1

// Errors of the calibration file.
var (
	// ErrVersion: a calibration file of another version (a newer build
	// wrote it).
	ErrVersion = errors.New("calibration file of an unsupported version")
	// ErrCorrupt: a calibration file that is not one, or holds values no
	// calibration gives.
	ErrCorrupt = errors.New("damaged calibration file")
)

// Calibration is a self-calibration's result, kept in the store folder
// (FileName): the presets it chose and what they were chosen from.
type Calibration struct {
	Version int `json:"version"`
	// ModelID and Digest name the model whose vectors were measured (the
	// store's binding); a calibration of another model is not used.
	ModelID string    `json:"model_id"`
	Digest  string    `json:"digest"`
	Date    time.Time `json:"date"`
	Seed    uint64    `json:"seed"`
	// Photos is how many of the store's photos were sampled and copied,
	// Copies how many copies of them were embedded; Edits the names of
	// the edits drawn (package copies).
	Photos int      `json:"photos"`
	Copies int      `json:"copies"`
	Edits  []string `json:"edits"`
	// Thresholds are the presets chosen (Thresholds with real duplicates).
	Thresholds models.Thresholds `json:"thresholds"`
	// CopyDist: distances of every copy to its original; ExactDist: of the
	// exact kinds' copies (re-encodes, resizes, EXIF rotations); Distinct:
	// of each sampled photo to its nearest other photo of the store beyond
	// exact. Duplicates counts the sampled photos with another photo of the
	// store within exact (real duplicates, not counted as distinct).
	CopyDist   Summary `json:"copy_distances"`
	ExactDist  Summary `json:"exact_copy_distances"`
	Distinct   Summary `json:"distinct_distances"`
	Duplicates int     `json:"duplicates"`
	// DistinctWithinNear is the share of Distinct at most near (the pairs
	// the near test must tell apart by neighbourhood and pixels);
	// NearFound the share of copies the near test accepts (the model's
	// dedup constants, each copy judged against its original's
	// neighbourhood), when measured.
	DistinctWithinNear float64 `json:"distinct_within_near"`
	NearFound          float64 `json:"near_found"`
}

// check refuses values no calibration gives.
func (c *Calibration) check() error {
	t := c.Thresholds
	ok := func(v float64) bool { return v > 0 && v < 2 }
	switch {
	case c.ModelID == "":
		return fmt.Errorf("%w: no model id", ErrCorrupt)
	case !ok(t.Exact) || !ok(t.Near) || !ok(t.Similar) || t.Similar < t.Near:
		return fmt.Errorf("%w: presets %+v out of range", ErrCorrupt, t)
	case c.Photos <= 0 || c.Copies <= 0:
		return fmt.Errorf("%w: %d photos, %d copies", ErrCorrupt, c.Photos, c.Copies)
	}
	return nil
}

// Parse reads a calibration file's bytes: its version first
// (ErrVersion), then its values (ErrCorrupt).
func Parse(b []byte) (*Calibration, error) {
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Version == nil {
		return nil, fmt.Errorf("%w: not a calibration file", ErrCorrupt)
	}
	if *v.Version != Version {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, *v.Version, Version)
	}
	var c Calibration
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Load reads the calibration of the store in dir: nil and no error when it
// has none.
func Load(dir string) (*Calibration, error) {
	p := filepath.Join(dir, FileName)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return c, nil
}

// Save writes c into the store folder dir, atomically (internal/atomicfile):
// a crash leaves the previous calibration or this one.
func Save(dir string, c *Calibration) error {
	c.Version = Version
	if err := c.check(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	return atomicfile.Write(dir, FileName, func(w io.Writer) (int64, error) {
		n, err := w.Write(b)
		return int64(n), err
	})
}
