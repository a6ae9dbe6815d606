package dedup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Released is a held copy that Purge removed.
type Released struct {
	Entry Entry
	// Held is the removed copy; Size its size (the space freed).
	Held string
	Size int64
	// Spare: the file itself still has those bytes (it was never linked,
	// or was restored), so nothing is lost and undo is not affected.
	Spare bool
}

// Purge releases the space a journal's holding folder takes: it removes
// every held copy, after appending a "purged" record for it to the journal
// (so a crash between the two leaves a copy that Undo still uses, and
// running Purge again finishes the job). Undo cannot restore those files
// afterwards: they stay links to their keeper. The first I/O error stops
// Purge.
func Purge(ctx context.Context, journal string) ([]Released, error) {
	_, entries, err := ReadJournal(journal)
	if err != nil {
		return nil, err
	}
	dir := HeldDir(journal)
	defer tidyHeld(dir)
	var j *Journal
	defer func() {
		if j != nil {
			j.Close()
		}
	}()
	var out []Released
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		held, err := heldPath(dir, e)
		if err != nil || held == "" {
			continue // a journal naming a path outside its folder: never removed
		}
		fi, err := os.Lstat(held)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		r := Released{Entry: e, Held: held, Size: fi.Size()}
		if r.Spare, err = matches(e.Src, e); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, err
		}
		if !r.Spare {
			if j == nil {
				if j, err = openJournal(journal); err != nil {
					return out, err
				}
			}
			if err := j.writeLine(Record{Seq: e.Seq, State: StatePurged}); err != nil {
				return out, err
			}
		}
		if err := os.Remove(held); err != nil {
			return out, fmt.Errorf("purge %s: %w", held, err)
		}
		if err := syncDir(filepath.Dir(held)); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
