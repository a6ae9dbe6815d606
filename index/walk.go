package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/fileid"
	"github.com/embedsearch/embedsearch/internal/inputfile"
)

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

// collector gathers the files of one index run: walked ones and those
// named explicitly, each once.
type collector struct {
	o        *Options
	files    []file
	seen     map[string]bool
	failures []Failure
	skipped  SkipCounts
	// unreadable directories: entries under them are never swept.
	unreadable []string
	progress   func(n int)
}

func (c *collector) fail(path string, err error) {
	c.failures = append(c.failures, Failure{Path: path, Err: err})
}

func (c *collector) skip(s Skip) {
	c.skipped.Add(s)
	if c.o.Skipped != nil {
		c.o.Skipped(s)
	}
}

func (c *collector) add(path string, info fs.FileInfo) bool {
	if c.seen[path] {
		return true
	}
	c.seen[path] = true
	c.files = append(c.files, file{path: path, size: info.Size(), mtime: info.ModTime()})
	if len(c.files)%1000 == 0 && c.progress != nil {
		c.progress(len(c.files))
	}
	return true
}

// walk adds the image files under the folder root.
func (c *collector) walk(ctx context.Context, root string, info fs.FileInfo) {
	wo := WalkOptions{Exclude: c.o.Exclude, IncludeHidden: c.o.IncludeHidden, FollowSymlinks: c.o.FollowSymlinks, Skipped: c.skip}
	w := &walker{ctx: ctx, o: wo, visit: c.add, fail: c.fail, visited: map[[2]uint64]bool{}}
	w.walkDir(root, info)
	c.unreadable = append(c.unreadable, w.unreadable...)
}

// addFile takes a file named explicitly (a root that is not a folder, or
// one of Options.Files), whatever its name, if it is a regular file: a
// device, FIFO or socket is a failure, never a root nor an entry. info is
// from stat(2); a link is taken only when links are followed.
// It reports whether the file was taken.
func (c *collector) addFile(path string, info fs.FileInfo) bool {
	if !c.o.FollowSymlinks {
		if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			c.fail(path, fmt.Errorf("%w (a symbolic link; links are followed only when asked)", inputfile.ErrNotRegular))
			return false
		}
	}
	if !info.Mode().IsRegular() {
		c.fail(path, fmt.Errorf("%w (%s)", inputfile.ErrNotRegular, inputfile.Kind(info.Mode())))
		return false
	}
	return c.add(path, info)
}

// WalkOptions say which files a walk takes (index.Options carries the
// same three).
type WalkOptions struct {
	// Exclude are filepath.Match patterns tested against the base name
	// and the absolute path of every file and folder.
	Exclude        []string
	IncludeHidden  bool
	FollowSymlinks bool
	// Skipped, when set, is called for every file in a walked folder that
	// the walk does not take, so that nothing vanishes without a count:
	// files with a name of another format, symbolic links not followed
	// and files that are not images. What is never looked at (hidden
	// entries, junk folders, excluded names) is not reported.
	Skipped func(Skip)
}

// Reasons of a Skip.
const (
	SkipUnsupported = "unsupported" // an image format Decode does not read (by name)
	SkipNotImage    = "not an image"
	SkipLink        = "link not followed" // a symbolic link, without FollowSymlinks
)

// Skip is a file a walk did not take.
type Skip struct {
	Path   string
	Reason string // SkipUnsupported, SkipNotImage or SkipLink
	// Format is the extension (lower case, without the dot: "jxl", "psd")
	// of a SkipUnsupported file.
	Format string
}

// SkipCounts count the files walks did not take, by reason.
type SkipCounts struct {
	Unsupported map[string]int // by Skip.Format
	NotImages   int
	Links       int
}

// Add counts s.
func (c *SkipCounts) Add(s Skip) {
	switch s.Reason {
	case SkipUnsupported:
		if c.Unsupported == nil {
			c.Unsupported = map[string]int{}
		}
		c.Unsupported[s.Format]++
	case SkipLink:
		c.Links++
	default:
		c.NotImages++
	}
}

// Total is the number of files counted.
func (c SkipCounts) Total() int {
	n := c.NotImages + c.Links
	for _, k := range c.Unsupported {
		n += k
	}
	return n
}

// junkFiles are files of desktops and file managers, never reported as
// skipped: they are not the user's.
var junkFiles = map[string]bool{"Thumbs.db": true, "ehthumbs.db": true, "desktop.ini": true, "Icon\r": true}

// Walk calls visit for every image file under the folder root, in name
// order, and fail for every entry it cannot look at: the one walk of
// embedsearch, so index and embed take the same files. Hidden files and
// folders (unless IncludeHidden), junk folders (NAS thumbnails, trash,
// version control, dependencies) and excluded names are skipped; symbolic
// links are followed only with FollowSymlinks, loops detected. Files are
// taken by name (preprocess.IsImageName): an unchanged re-index costs one
// lstat per file. Walk stops early when ctx is done or visit returns
// false, and then reports false.
func Walk(ctx context.Context, root string, o WalkOptions, visit func(path string, info fs.FileInfo) bool, fail func(path string, err error)) bool {
	info, err := os.Stat(root)
	if err != nil {
		fail(root, err)
		return true
	}
	w := &walker{ctx: ctx, o: o, visit: visit, fail: fail, visited: map[[2]uint64]bool{}}
	w.walkDir(root, info)
	return !w.stopped
}

// walker is one Walk.
type walker struct {
	ctx     context.Context
	o       WalkOptions
	visit   func(path string, info fs.FileInfo) bool
	fail    func(path string, err error)
	stopped bool
	// unreadable folders: entries under them are never swept.
	unreadable []string
	visited    map[[2]uint64]bool // (dev, ino) of folders, with FollowSymlinks
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

// notTaken reports a file of a walked folder that is not taken.
func (w *walker) notTaken(path, name, reason string) {
	if w.o.Skipped == nil || junkFiles[name] {
		return
	}
	s := Skip{Path: path, Reason: reason}
	if reason == SkipNotImage && preprocess.UnsupportedImageName(name) != "" {
		s.Reason, s.Format = SkipUnsupported, strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	}
	w.o.Skipped(s)
}

func (w *walker) take(path string, info fs.FileInfo) {
	if !w.visit(path, info) {
		w.stopped = true
	}
}

func dirKey(info fs.FileInfo) ([2]uint64, bool) {
	dev, ino, ok := fileid.Of(info)
	return [2]uint64{dev, ino}, ok
}

// walkDir walks one directory (already known to exist). Directory entries
// are read in name order so runs are reproducible.
func (w *walker) walkDir(dir string, info fs.FileInfo) {
	if w.stopped || w.ctx.Err() != nil {
		w.stopped = true
		return
	}
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
		if w.stopped {
			return
		}
		name := d.Name()
		path := filepath.Join(dir, name)
		if (!w.o.IncludeHidden && strings.HasPrefix(name, ".")) || w.excluded(path, name) {
			continue
		}
		typ := d.Type()
		if typ&fs.ModeSymlink != 0 {
			if !w.o.FollowSymlinks {
				w.notTaken(path, name, SkipLink)
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
			} else if fi.Mode().IsRegular() && preprocess.IsImageName(name) {
				w.take(path, fi)
			} else {
				w.notTaken(path, name, SkipNotImage)
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
		if !typ.IsRegular() || !preprocess.IsImageName(name) {
			w.notTaken(path, name, SkipNotImage)
			continue
		}
		fi, err := d.Info()
		if err != nil {
			w.skipped(path, err)
			continue
		}
		w.take(path, fi)
	}
}
