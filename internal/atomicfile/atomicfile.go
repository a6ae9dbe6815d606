// Package atomicfile is the one way embedsearch writes a file that must
// survive a crash whole or not at all: the store's manifest, segments and
// approximate index, the model cache's manifests, dedup journals' folders.
//
// Write puts the content in a temporary file in the same directory, flushes
// and fsyncs it, checks its length, renames it over the target and fsyncs the
// directory so that the rename itself is durable. A crash at any point leaves
// the old file or the new one under the name, never a mix, and at most a
// temporary file whose name starts with TempPrefix.
package atomicfile

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/embedsearch/embedsearch/internal/iox"
)

// TempPrefix starts the name of every temporary file Write creates; owners
// of a directory may delete leftovers with it when nobody is writing.
const TempPrefix = ".tmp-"

// Write writes name in dir atomically. write returns the number of bytes it
// meant to write, checked against what reached the file (-1 skips the check).
// Errors from creating or filling the file are returned as they are (wrapped),
// so callers can test them with errors.Is (e.g. fs.ErrPermission).
func Write(dir, name string, write func(w io.Writer) (int64, error)) error {
	return WriteMode(dir, name, 0o644, write)
}

// WriteMode is Write for a file with the permission bits perm (before the
// umask): 0o755 for a library to load.
func WriteMode(dir, name string, perm os.FileMode, write func(w io.Writer) (int64, error)) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, TempPrefix+hex.EncodeToString(rnd[:])+"-"+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	cw := &iox.CountingWriter{W: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	want, err := write(bw)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if want >= 0 && cw.N != want {
		return fmt.Errorf("write %s: wrote %d bytes, expected %d", name, cw.N, want)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename %s: %w", name, err)
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir makes renames, creations and removals in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		// Some file systems (certain FUSE mounts) refuse fsync on a
		// directory; the rename is atomic all the same.
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
