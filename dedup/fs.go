package dedup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/embedsearch/embedsearch/internal/atomicfile"
	"github.com/embedsearch/embedsearch/internal/fileid"
	"github.com/embedsearch/embedsearch/internal/inputfile"
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

// hashFile returns the hex SHA-256 of a file's bytes (the one content
// hash, which also refuses a FIFO or device put in a file's place).
func hashFile(path string) (string, error) {
	sum, _, err := inputfile.SHA256(context.Background(), path, inputfile.Options{FollowLinks: true, MaxSize: -1})
	return sum, err
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
	dev, _, _ := fileid.Of(fi)
	return dev
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

// holdFile puts a second name on src's bytes at held (which must not exist),
// in the holding folder: a hard link when held is on src's file system
// (nothing is copied, mode and times are the file's own), else a complete,
// fsynced copy with src's mode and modification time, read back and checked
// against sum. src itself is left alone; linking replaces it afterwards.
func holdFile(src, held string, fi fs.FileInfo, sum string) error {
	dir := filepath.Dir(held)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return err
	}
	err := os.Link(src, held)
	if err == nil {
		return syncDir(dir)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, held)
	}
	// Another file system, or one without hard links (or a file we may
	// not link): a verified copy.
	if err := copyNoReplace(src, held, fi.Mode(), fi.ModTime()); err != nil {
		return err
	}
	got, err := hashFile(held)
	if err == nil && got != sum {
		err = fmt.Errorf("the copy at %s does not read back as %s's bytes", held, src)
	}
	if err != nil {
		os.Remove(held)
		return err
	}
	return nil
}

// restoreHeld puts a held copy back at dst, replacing what is there (the
// link, which the caller has checked): one rename on the same file system;
// else a copy beside dst renamed over it, then removal of the held copy.
// A crash leaves dst either the link or the restored file, and the held
// copy in place until dst is restored.
func restoreHeld(held, dst string, mode fs.FileMode, mtime time.Time) error {
	dir := filepath.Dir(dst)
	err := os.Rename(held, dst)
	if err == nil {
		if err := syncDir(dir); err != nil {
			return err
		}
		return syncDir(filepath.Dir(held))
	}
	if !errors.Is(err, syscall.EXDEV) {
		return err
	}
	tmp := tempPath(dir, filepath.Base(dst))
	if err := copyNoReplace(held, tmp, mode, mtime); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.Remove(held); err != nil {
		return err
	}
	return syncDir(filepath.Dir(held))
}

// tidyHeld removes what a crash may leave in a holding folder (temporary
// files of an interrupted copy) and the folder itself once it is empty.
func tidyHeld(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if os.Remove(dir) == nil {
		syncDir(filepath.Dir(dir))
	}
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
func ownerOf(fi fs.FileInfo) (int, bool) { return fileid.Owner(fi) }
