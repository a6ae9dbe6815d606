package dedup

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/embedsearch/embedsearch/internal/atomicfile"
)

// tempPrefix names the files this package creates before renaming them into
// place; a crash can leave one behind, never a half-written file under a
// real name.
const tempPrefix = ".embedsearch-tmp-"

func tempPath(dir, base string) string {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return filepath.Join(dir, tempPrefix+hex.EncodeToString(rnd[:])+"-"+base)
}

// hashFile returns the hex SHA-256 of a file's bytes.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// deviceOf returns the file system id of path (not following a final link).
func deviceOf(path string) (uint64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, err
	}
	return devOf(fi), nil
}

func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}

// syncDir makes renames, creations and removals in dir durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// moveFile renames src to dst without ever replacing dst. Across file
// systems it copies to a temporary name beside dst, fsyncs, renames that into
// place (no-replace) and only then removes src: a crash leaves src intact and
// at most a temporary file, or both complete copies.
func moveFile(src, dst string, mode fs.FileMode, mtime time.Time) error {
	err := renameNoReplace(src, dst)
	if err == nil {
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return err
		}
		return syncDir(filepath.Dir(src))
	}
	if !errors.Is(err, syscall.EXDEV) {
		return err
	}
	if err := copyNoReplace(src, dst, mode, mtime); err != nil {
		return err
	}
	if err := os.Remove(src); err != nil {
		return err
	}
	return syncDir(filepath.Dir(src))
}

// copyNoReplace writes a complete, fsynced copy of src at dst (which must not
// exist), with the given mode and modification time.
func copyNoReplace(src, dst string, mode fs.FileMode, mtime time.Time) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	dir := filepath.Dir(dst)
	tmp := tempPath(dir, filepath.Base(dst))
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode.Perm()); err != nil {
		return err
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(tmp, time.Time{}, mtime); err != nil {
			return err
		}
	}
	if err := renameNoReplace(tmp, dst); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// exists says whether something (even a dangling link) is at path.
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return false, nil
	}
	return false, err
}

// linkRename is a no-replace rename for regular files: a hard link at dst
// (which fails when dst exists), then removal of src.
func linkRename(src, dst string) error {
	if err := os.Link(src, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, dst)
		}
		return err
	}
	return os.Remove(src)
}

// ownerOf returns the uid owning a file, when the system says.
func ownerOf(fi fs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
