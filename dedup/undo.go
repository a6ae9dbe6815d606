package dedup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/embedsearch/embedsearch/internal/fspath"
)

// UndoResult is what Undo did with one journalled action.
type UndoResult struct {
	Entry Entry
	// Restored: the file is back at Entry.Src.
	Restored bool
	// Already: nothing to do, the file is already as it was (never acted
	// on, or undone before).
	Already bool
	// Refused says why the action cannot be reversed.
	Refused error
}

// Undo reverses the actions of a journal, newest first. It looks at the files
// to decide what happened, so running it twice, or after a crash in the
// middle of Apply or Undo, is safe. Held copies are put back (or, for a file
// that was never linked, dropped) and the holding folder is removed once
// empty. Refusals are reported and skipped; the first I/O error stops Undo.
func Undo(ctx context.Context, journal string, progress func(UndoResult)) ([]UndoResult, error) {
	h, entries, err := ReadJournal(journal)
	if err != nil {
		return nil, err
	}
	var out []UndoResult
	held := HeldDir(journal)
	defer tidyHeld(held)
	for i := len(entries) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		e := entries[i]
		r := UndoResult{Entry: e}
		err := undoOne(h, e, held)
		switch {
		case errors.Is(err, errAlready):
			r.Already = true
		case isRefusal(err):
			r.Refused = err
		case err != nil:
			return out, fmt.Errorf("undo %s %s: %w", e.Op, e.Src, err)
		default:
			r.Restored = true
		}
		out = append(out, r)
		if progress != nil {
			progress(r)
		}
	}
	return out, nil
}

var errAlready = errors.New("already in place")

func isRefusal(err error) bool {
	for _, e := range []error{ErrOutsideRoots, ErrSymlink, ErrExists, ErrChanged, ErrNotRegular, ErrNotRestorable, ErrDiffers} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// heldPath is where an entry's held copy is: its name must be a plain file
// name, so a journal cannot point out of its holding folder.
func heldPath(dir string, e Entry) (string, error) {
	if e.Held == "" {
		return "", nil
	}
	if e.Held != filepath.Base(e.Held) || e.Held == "." || e.Held == ".." || strings.ContainsRune(e.Held, filepath.Separator) {
		return "", fmt.Errorf("%w: held copy %q is not a file name in %s", ErrOutsideRoots, e.Held, dir)
	}
	return filepath.Join(dir, e.Held), nil
}

// insideJournal checks that the journal only names places it may: the
// duplicate under one of its roots, a moved file under its destination.
func insideJournal(h Header, e Entry) error {
	src := filepath.Clean(e.Src)
	if !filepath.IsAbs(src) || !fspath.WithinAny(h.Roots, src) {
		return fmt.Errorf("%w: %s (journal roots %v)", ErrOutsideRoots, e.Src, h.Roots)
	}
	// A link on the way out would let a rewritten folder redirect the undo.
	var realRoots []string
	for _, r := range h.Roots {
		if rr, err := realPrefix(r); err == nil {
			realRoots = append(realRoots, rr)
		}
	}
	if real, err := realPrefix(filepath.Dir(src)); err != nil {
		return err
	} else if !fspath.WithinAny(realRoots, real) {
		return fmt.Errorf("%w: %s resolves to %s", ErrSymlink, e.Src, real)
	}
	switch e.Op {
	case OpMove:
		if h.MoveTo == "" || !fspath.Within(h.MoveTo, filepath.Clean(e.Dst)) {
			return fmt.Errorf("%w: %s is not under %s", ErrOutsideRoots, e.Dst, h.MoveTo)
		}
	case OpTrash:
		files := filepath.Dir(filepath.Clean(e.Dst))
		trash := filepath.Base(filepath.Dir(files))
		if filepath.Base(files) != "files" || !(trash == "Trash" || strings.HasPrefix(trash, ".Trash") ||
			filepath.Base(filepath.Dir(filepath.Dir(files))) == ".Trash") {
			return fmt.Errorf("%w: %s is not in a trash folder", ErrOutsideRoots, e.Dst)
		}
	}
	return nil
}

func undoOne(h Header, e Entry, heldDir string) error {
	if e.Op == OpDelete {
		if ok, _ := exists(e.Src); ok {
			return errAlready
		}
		return fmt.Errorf("%w: %s was deleted permanently", ErrNotRestorable, e.Src)
	}
	if err := insideJournal(h, e); err != nil {
		return err
	}
	switch e.Op {
	case OpMove, OpTrash:
		return undoMove(e)
	case OpHardLink, OpSymlink:
		held, err := heldPath(heldDir, e)
		if err != nil {
			return err
		}
		return undoLink(e, held)
	}
	return fmt.Errorf("%w: unknown action %q", ErrBadJournal, e.Op)
}

// matches says whether the regular file at path is the recorded content.
func matches(path string, e Entry) (bool, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return false, err
	}
	if !fi.Mode().IsRegular() || fi.Size() != e.Size {
		return false, nil
	}
	sum, err := hashFile(path)
	return sum == e.SHA256, err
}

// undoMove brings a moved or trashed file back to its place.
func undoMove(e Entry) error {
	srcOK, err := exists(e.Src)
	if err != nil {
		return err
	}
	dstOK, err := exists(e.Dst)
	if err != nil {
		return err
	}
	info := ""
	if e.Op == OpTrash {
		info = trashInfoPath(e.Dst)
	}
	switch {
	case srcOK && !dstOK:
		// Never moved (crash before the rename) or already back. A trash
		// info written just before a crash is an orphan: remove it.
		if info != "" {
			if err := os.Remove(info); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return errAlready
	case !srcOK && !dstOK:
		return fmt.Errorf("%w: %s is neither at %s nor at %s", ErrNotRestorable, filepath.Base(e.Src), e.Src, e.Dst)
	case srcOK && dstOK:
		// A cross-device move copies before removing the original: a crash
		// between the two leaves two identical files; drop the copy.
		okSrc, err := matches(e.Src, e)
		if err != nil {
			return err
		}
		okDst, err := matches(e.Dst, e)
		if err != nil {
			return err
		}
		if e.Final == StateDone || !okSrc || !okDst {
			return fmt.Errorf("%w: %s (and %s still exists)", ErrExists, e.Src, e.Dst)
		}
		if err := os.Remove(e.Dst); err != nil {
			return err
		}
		return syncDir(filepath.Dir(e.Dst))
	}
	ok, err := matches(e.Dst, e)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s is no longer the file that was moved there", ErrChanged, e.Dst)
	}
	if err := os.MkdirAll(filepath.Dir(e.Src), 0o755); err != nil {
		return err
	}
	fi, err := os.Lstat(e.Dst)
	if err != nil {
		return err
	}
	if err := moveFile(e.Dst, e.Src, fi.Mode(), fi.ModTime()); err != nil {
		return err
	}
	if info != "" {
		if err := os.Remove(info); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// undoLink turns a link back into an independent file: from its held copy
// when its bytes differed from the keeper's, else from the keeper, which
// must still have those bytes.
func undoLink(e Entry, held string) error {
	fi, err := os.Lstat(e.Src)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s is gone", ErrNotRestorable, e.Src)
	}
	if err != nil {
		return err
	}
	linked := false
	switch {
	case e.Op == OpSymlink && fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(e.Src)
		if err != nil {
			return err
		}
		linked = target == e.Dst
	case e.Op == OpHardLink && fi.Mode().IsRegular():
		kfi, err := os.Stat(e.Dst)
		if err == nil {
			linked = os.SameFile(fi, kfi)
		}
	}
	if !linked {
		ok, err := matches(e.Src, e)
		if err != nil {
			return err
		}
		if !ok {
			// A held copy stays: it may be the only one of those bytes.
			return fmt.Errorf("%w: %s is neither the link nor the original file", ErrChanged, e.Src)
		}
		// Never linked (a crash or failure after holding), or undone
		// before: a held copy is a spare.
		if held != "" {
			if err := os.Remove(held); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return errAlready
	}
	if held != "" {
		ok, err := matches(held, e)
		switch {
		case errors.Is(err, fs.ErrNotExist) && e.Purged:
			return fmt.Errorf("%w: %s differed from the keeper %s, and its own bytes were released by a purge of the journal; it stays a link",
				ErrNotRestorable, e.Src, e.Dst)
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%w: %s differed from the keeper %s, and its held copy %s is missing; it stays a link",
				ErrNotRestorable, e.Src, e.Dst, held)
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("%w: the held copy %s is no longer %s's bytes (SHA-256 differs)", ErrNotRestorable, held, e.Src)
		}
		return restoreHeld(held, e.Src, fs.FileMode(e.Mode), e.MTime)
	}
	if e.SHA256 != e.KeeperSHA256 {
		// A version 1 journal: nothing was held.
		return fmt.Errorf("%w: %s differed from the keeper %s (near-duplicate); its own bytes were replaced by the link", ErrNotRestorable, e.Src, e.Dst)
	}
	kfi, err := os.Stat(e.Dst)
	if err != nil {
		return fmt.Errorf("%w: keeper %s: %v", ErrNotRestorable, e.Dst, err)
	}
	if ok, err := matches(e.Dst, e); err != nil {
		return err
	} else if !ok || !kfi.Mode().IsRegular() {
		return fmt.Errorf("%w: keeper %s no longer has the original bytes (SHA-256 differs)", ErrNotRestorable, e.Dst)
	}
	// A complete copy under a temporary name, renamed over the link.
	dir := filepath.Dir(e.Src)
	tmp := tempPath(dir, filepath.Base(e.Src))
	if err := copyNoReplace(e.Dst, tmp, fs.FileMode(e.Mode), e.MTime); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, e.Src); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}
