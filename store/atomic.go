package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"

	"github.com/embedsearch/embedsearch/internal/atomicfile"
)

// tempPrefix marks files being written; a writer deletes leftovers at open.
const tempPrefix = atomicfile.TempPrefix

// writeFileAtomic is the one way this package writes a file (see
// internal/atomicfile): a crash leaves the old file or the new one, never a
// mix. Permission problems become ErrReadOnly with the directory named.
func writeFileAtomic(dir, name string, write func(w io.Writer) (int64, error)) error {
	if err := atomicfile.Write(dir, name, write); err != nil {
		return writeErr(dir, err)
	}
	return nil
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// writeErr turns permission problems into ErrReadOnly with the directory named.
func writeErr(dir string, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("%w: %s (%v)", ErrReadOnly, dir, err)
	}
	return err
}
