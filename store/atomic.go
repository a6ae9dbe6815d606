package store

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// tempPrefix marks files being written; a writer deletes leftovers at open.
const tempPrefix = ".tmp-"

// countingWriter counts bytes so the helper can check that everything the
// encoder meant to write reached the file.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeFileAtomic is the one way this package writes a file: the content
// goes to a temporary file in the same directory, which is flushed, fsynced,
// checked for length, renamed over name, and then the directory is fsynced so
// the rename itself is durable. A crash at any point leaves either the old
// file or the new one under name, never a mix. write returns the number of
// bytes it meant to write (or -1 to skip the check).
func writeFileAtomic(dir, name string, write func(w io.Writer) (int64, error)) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, tempPrefix+hex.EncodeToString(rnd[:])+"-"+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return writeErr(dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	cw := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	want, err := write(bw)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", name, writeErr(dir, err))
	}
	if want >= 0 && cw.n != want {
		return fmt.Errorf("write %s: wrote %d bytes, expected %d", name, cw.n, want)
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
	return syncDir(dir)
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		// Some file systems (e.g. certain FUSE mounts) refuse fsync on
		// directories; there is nothing better to do there.
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// writeErr turns permission problems into ErrReadOnly with the directory named.
func writeErr(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("%w: %s (%v); use --store to pick a writable location", ErrReadOnly, dir, err)
	}
	return err
}
