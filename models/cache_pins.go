package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Pins are the digests recorded at the first download of files whose
// digest the registry does not publish: <root>/pins.json, keyed by the
// file's URL relative to the zoo base URL (so a mirror is held to the same
// bytes). Unlike a model's manifest they outlive Remove, so that a model
// removed and pulled again must come back byte for byte; Forget drops them
// when a publisher has really changed a file.
type Pins struct {
	Format int            `json:"format"`
	Files  map[string]Pin `json:"files"`
}

// Pin is one recorded file.
type Pin struct {
	Model  string    `json:"model"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	First  time.Time `json:"first_download"`
}

const pinsName = "pins.json"

// pinKey is where a manifest's file comes from, relative to the base URL.
func pinKey(f File) string {
	if f.URL != "" {
		return f.URL
	}
	return f.Name
}

// Pins reads the recorded digests (none when there is no pins.json yet).
func (c *Cache) Pins() (*Pins, error) {
	p := &Pins{Format: 1, Files: map[string]Pin{}}
	data, err := os.ReadFile(filepath.Join(c.Root, pinsName))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, p); err != nil || p.Format != 1 {
		return nil, fmt.Errorf("model cache %s: %s is damaged (%v): delete it to record digests afresh", c.Root, pinsName, err)
	}
	if p.Files == nil {
		p.Files = map[string]Pin{}
	}
	return p, nil
}

// Pinned returns the digest recorded for a file of a manifest, if any.
func (c *Cache) Pinned(f File) (Pin, bool) {
	p, err := c.Pins()
	if err != nil {
		return Pin{}, false
	}
	pin, ok := p.Files[pinKey(f)]
	return pin, ok
}

// updatePins applies change to pins.json under its lock, atomically.
func (c *Cache) updatePins(ctx context.Context, change func(p *Pins)) error {
	unlock, err := c.lock(ctx, "pins")
	if err != nil {
		return err
	}
	defer unlock()
	p, err := c.Pins()
	if err != nil {
		return err
	}
	change(p)
	data, _ := json.MarshalIndent(p, "", "  ")
	if err := os.MkdirAll(c.Root, 0o755); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(c.Root, pinsName), append(data, '\n'))
}

// Forget drops the digests recorded for the files of tmpl (a zoo
// manifest), so that the next pull records them afresh. It returns how
// many it dropped.
func (c *Cache) Forget(ctx context.Context, tmpl *Manifest) (int, error) {
	n := 0
	err := c.updatePins(ctx, func(p *Pins) {
		for _, f := range tmpl.Files {
			if _, ok := p.Files[pinKey(f)]; ok {
				delete(p.Files, pinKey(f))
				n++
			}
		}
	})
	return n, err
}
