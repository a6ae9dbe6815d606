package index

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/embedsearch/embedsearch/internal/inputfile"
)

// imageExts are the extensions walked directories are searched for: the
// formats infer/preprocess decodes. Choosing by name keeps an unchanged
// re-index at one lstat per file; sniffing content would add an open and a
// read for every file. A file named explicitly is tried whatever its name.
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".jfif": true, ".png": true, ".gif": true,
	".bmp": true, ".tif": true, ".tiff": true, ".webp": true,
}

// IsImageName reports whether a walked file with this name is indexed.
func IsImageName(name string) bool {
	return imageExts[strings.ToLower(filepath.Ext(name))]
}

// junk are directories never descended into, hidden or not: thumbnails and
// metadata of NAS boxes and desktops, trash, version control, dependencies.
var junk = map[string]bool{
	"@eaDir": true, "#recycle": true, "#snapshot": true, "$RECYCLE.BIN": true,
	"System Volume Information": true, "lost+found": true, "node_modules": true,
	".git": true, ".hg": true, ".svn": true, "__MACOSX": true, ".Trash": true,
	".Trashes": true, ".thumbnails": true, ".cache": true, ".embedsearch": true,
}

func isJunk(name string) bool {
	return junk[name] || strings.HasPrefix(name, ".Trash-")
}

// file is a walked image file.
type file struct {
	path  string
	size  int64
	mtime time.Time
}

// walker collects image files under the roots.
type walker struct {
	o        *Options
	files    []file
	seen     map[string]bool
	failures []Failure
	// unreadable directories: entries under them are never swept.
	unreadable []string
	visited    map[[2]uint64]bool // (dev, ino) of directories, with FollowSymlinks
	progress   func(n int)
}

func (w *walker) excluded(path, name string) bool {
	for _, g := range w.o.Exclude {
		if ok, _ := filepath.Match(g, name); ok {
			return true
		}
		if ok, _ := filepath.Match(g, path); ok {
			return true
		}
	}
	return false
}

func (w *walker) fail(path string, err error) {
	w.failures = append(w.failures, Failure{Path: path, Err: err})
}

func (w *walker) add(path string, info fs.FileInfo) {
	if w.seen[path] {
		return
	}
	w.seen[path] = true
	w.files = append(w.files, file{path: path, size: info.Size(), mtime: info.ModTime()})
	if len(w.files)%1000 == 0 && w.progress != nil {
		w.progress(len(w.files))
	}
}

// skipped notes an entry that could not be looked at: one removed since
// the folder was read is no failure; anything else (a path longer than
// the system allows, an I/O error) is, so that it is never skipped silently.
// A folder that could not be looked at is also unreadable: nothing under
// it is swept.
func (w *walker) skipped(path string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	w.unreadable = append(w.unreadable, path)
	w.fail(path, err)
}

// addFile takes a file named explicitly (a root that is not a folder, or
// one of Options.Files), whatever its name, if it is a regular file: a
// device, FIFO or socket is a failure, never a root nor an entry. info is
// from stat(2); a link is taken only when links are followed.
// It reports whether the file was taken.
func (w *walker) addFile(path string, info fs.FileInfo) bool {
	if !w.o.FollowSymlinks {
		if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			w.fail(path, fmt.Errorf("%w (a symbolic link; links are followed only when asked)", inputfile.ErrNotRegular))
			return false
		}
	}
	if !info.Mode().IsRegular() {
		w.fail(path, fmt.Errorf("%w (%s)", inputfile.ErrNotRegular, inputfile.Kind(info.Mode())))
		return false
	}
	w.add(path, info)
	return true
}

func dirKey(info fs.FileInfo) ([2]uint64, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]uint64{}, false
	}
	return [2]uint64{uint64(st.Dev), st.Ino}, true
}

// walkDir walks one directory (already known to exist). Directory entries
// are read in name order so runs are reproducible.
func (w *walker) walkDir(dir string, info fs.FileInfo) {
	if w.o.FollowSymlinks {
		if k, ok := dirKey(info); ok {
			if w.visited[k] {
				return // a symlink loop or a second way to the same folder
			}
			w.visited[k] = true
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		w.unreadable = append(w.unreadable, dir)
		w.fail(dir, fmt.Errorf("read directory: %w", err))
		// ReadDir returns what it read before the error; go on with that.
	}
	for _, d := range ents {
		name := d.Name()
		path := filepath.Join(dir, name)
		if (!w.o.IncludeHidden && strings.HasPrefix(name, ".")) || w.excluded(path, name) {
			continue
		}
		typ := d.Type()
		if typ&fs.ModeSymlink != 0 {
			if !w.o.FollowSymlinks {
				continue
			}
			fi, err := os.Stat(path)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					w.fail(path, err) // e.g. a loop of links, a name too long
				}
				continue // dangling link
			}
			if fi.IsDir() {
				if !isJunk(name) {
					w.walkDir(path, fi)
				}
			} else if fi.Mode().IsRegular() && IsImageName(name) {
				w.add(path, fi)
			}
			continue
		}
		if typ.IsDir() {
			if isJunk(name) {
				continue
			}
			fi, err := d.Info()
			if err != nil {
				w.skipped(path, err)
				continue
			}
			w.walkDir(path, fi)
			continue
		}
		if !typ.IsRegular() || !IsImageName(name) {
			continue
		}
		fi, err := d.Info()
		if err != nil {
			w.skipped(path, err)
			continue
		}
		w.add(path, fi)
	}
}
