package dedup

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Trash locates trash folders (freedesktop.org trash specification 1.0).
type Trash struct {
	// Home is the home trash folder; "" means $XDG_DATA_HOME/Trash, or
	// ~/.local/share/Trash when XDG_DATA_HOME is unset.
	Home string
}

func (t Trash) home() (string, error) {
	if t.Home != "" {
		return filepath.Abs(t.Home)
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "Trash"), nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("trash: %w", err)
	}
	return filepath.Join(h, ".local", "share", "Trash"), nil
}

// dirFor returns the trash folder for a file on device dev, and the top
// folder of the volume when it is a per-volume trash ("" for the home trash).
func (t Trash) dirFor(path string, dev uint64) (dir, topdir string, err error) {
	home, err := t.home()
	if err != nil {
		return "", "", err
	}
	// The home trash may not exist yet: its device is that of the nearest
	// folder that does.
	for d := home; ; d = filepath.Dir(d) {
		hd, err := deviceOf(d)
		if err == nil {
			if hd == dev {
				return home, "", nil
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
			return "", "", fmt.Errorf("trash: %w", err)
		}
	}
	topdir, err = mountPoint(path, dev)
	if err != nil {
		return "", "", fmt.Errorf("trash: %w", err)
	}
	uid := strconv.Itoa(os.Getuid())
	// Method 1: an administrator-made $topdir/.Trash with the sticky bit,
	// not a link; a user folder $uid inside it.
	if fi, err := os.Lstat(filepath.Join(topdir, ".Trash")); err == nil &&
		fi.IsDir() && fi.Mode()&fs.ModeSticky != 0 {
		return filepath.Join(topdir, ".Trash", uid), topdir, nil
	}
	// Method 2: $topdir/.Trash-$uid.
	return filepath.Join(topdir, ".Trash-"+uid), topdir, nil
}

// mountPoint is the top folder of the file system holding path: the last
// ancestor on the same device.
func mountPoint(path string, dev uint64) (string, error) {
	cur := filepath.Dir(path)
	for {
		parent := filepath.Dir(cur)
		if parent == cur {
			return cur, nil
		}
		pd, err := deviceOf(parent)
		if err != nil {
			return "", err
		}
		if pd != dev {
			return cur, nil
		}
		cur = parent
	}
}

// prepareTrash creates dir/files and dir/info (mode 0700) and checks that
// dir is a real folder of ours, not a link someone planted.
func prepareTrash(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, "files"), filepath.Join(dir, "info")} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			if errors.Is(err, fs.ErrNotExist) && d == dir {
				if err := os.MkdirAll(d, 0o700); err == nil {
					continue
				}
			}
			return fmt.Errorf("trash: %w", err)
		}
		fi, err := os.Lstat(d)
		if err != nil {
			return fmt.Errorf("trash: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("trash: %s is not a folder (a link?); refusing to use it", d)
		}
		if owner, ok := ownerOf(fi); ok && owner != os.Getuid() {
			return fmt.Errorf("trash: %s belongs to another user; refusing to use it", d)
		}
	}
	return nil
}

// freeTrashName picks a name free in both files/ and info/: the file's own
// name, else "stem.N.ext".
func freeTrashName(dir, base string) (string, error) {
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for n := 1; n < 10000; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s.%d%s", stem, n, ext)
		}
		a, err := exists(filepath.Join(dir, "files", name))
		if err != nil {
			return "", err
		}
		b, err := exists(filepath.Join(dir, "info", name+".trashinfo"))
		if err != nil {
			return "", err
		}
		if !a && !b {
			return name, nil
		}
	}
	return "", fmt.Errorf("trash: no free name for %s in %s", base, dir)
}

// trashInfo is the .trashinfo content for path, deleted now. In a volume's
// trash the path is relative to its top folder, as the spec recommends.
func trashInfo(path, topdir string, now time.Time) string {
	p := path
	if topdir != "" {
		if rel, err := filepath.Rel(topdir, path); err == nil {
			p = rel
		}
	}
	u := url.URL{Path: filepath.ToSlash(p)}
	return "[Trash Info]\nPath=" + u.EscapedPath() + "\nDeletionDate=" + now.Format("2006-01-02T15:04:05") + "\n"
}

// trashFile moves src into the trash folder dir under name: the .trashinfo
// is created exclusively and fsynced first, then the file is renamed (never
// replacing); if the rename fails, the info file is removed again.
func trashFile(src, dir, name, topdir string) error {
	info := filepath.Join(dir, "info", name+".trashinfo")
	f, err := os.OpenFile(info, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(trashInfo(src, topdir, time.Now()))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Dir(info))
	}
	if err == nil {
		err = renameNoReplace(src, filepath.Join(dir, "files", name))
	}
	if err != nil {
		os.Remove(info)
		return err
	}
	if err := syncDir(filepath.Join(dir, "files")); err != nil {
		return err
	}
	return syncDir(filepath.Dir(src))
}

// trashInfoPath is the .trashinfo of a file inside a trash's files/ folder.
func trashInfoPath(trashed string) string {
	dir := filepath.Dir(filepath.Dir(trashed))
	return filepath.Join(dir, "info", filepath.Base(trashed)+".trashinfo")
}
