package dedup

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace renames src to dst atomically, failing with ErrExists when
// dst exists. File systems without RENAME_NOREPLACE get link+remove, which is
// also no-replace for regular files.
func renameNoReplace(src, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("%w: %s", ErrExists, dst)
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		return linkRename(src, dst)
	}
	return &os.LinkError{Op: "rename", Old: src, New: dst, Err: err}
}
