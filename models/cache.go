package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/internal/atomicfile"
	"github.com/embedsearch/embedsearch/internal/inputfile"
)

// Errors of the model cache and its downloads. Wrap them with context; test
// with errors.Is. (Size and digest mismatches are ErrChecksum.)
var (
	// ErrNotCached: a zoo model has not been downloaded into the cache
	// (Cache.Open says which with a *NotCachedError).
	ErrNotCached = errors.New("model not downloaded")
	// ErrOffline: a download was needed but offline mode forbids it.
	ErrOffline = errors.New("offline mode")
	// ErrDownload: a download failed after its retries (network error,
	// server error, stalled transfer, unexpected response).
	ErrDownload = errors.New("download failed")
	// ErrNotFound: the server answered 404 for a model file.
	ErrNotFound = errors.New("model file not found on the server")
)

// Environment variables read by DefaultCacheDir and DefaultBaseURL.
const (
	EnvCacheDir = "EMBEDSEARCH_MODEL_CACHE"
	EnvBaseURL  = "EMBEDSEARCH_MODEL_BASEURL"
)

// ZooBaseURL is where zoo model files are downloaded from unless a mirror is
// given (--base-url or EMBEDSEARCH_MODEL_BASEURL). A file's URL in a zoo
// manifest is relative to it.
const ZooBaseURL = "https://huggingface.co"

// DefaultCacheDir is $EMBEDSEARCH_MODEL_CACHE, or embedsearch/models in the
// user's cache directory.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("model cache: %w (set %s)", err, EnvCacheDir)
	}
	return filepath.Join(d, "embedsearch", "models"), nil
}

// DefaultBaseURL is $EMBEDSEARCH_MODEL_BASEURL or ZooBaseURL.
func DefaultBaseURL() string {
	if u := os.Getenv(EnvBaseURL); u != "" {
		return u
	}
	return ZooBaseURL
}

// Cache is a content-addressed store of downloaded model files:
//
//	<root>/blobs/sha256-<hex>            a file's bytes, named by their SHA-256
//	<root>/blobs/sha256-<hex>.partial    a download in progress (resumed by the next pull)
//	<root>/blobs/url-<hex>.partial       the same for a file whose digest is not known in advance
//	<root>/models/<name>/<file>          hard links to the blobs (copies where links fail)
//	<root>/models/<name>/pull.json       where each file came from and how its digest is known
//	<root>/models/<name>/manifest.json   the model's manifest, written last
//	<root>/locks/                        lock files serialising pulls of one model / one blob
//
// A model is in the cache exactly when its manifest.json is: the manifest is
// written (atomically, after fsync of everything it names) only when every
// blob is in place, so a crash or Ctrl-C at any point leaves either the
// previous state or a resumable partial download, never a half model.
// Pulls of the same model from several processes or goroutines are
// serialised by a file lock. A Cache value is safe for concurrent use.
type Cache struct {
	Root string
}

// NewCache returns the cache rooted at dir ("" = DefaultCacheDir()).
func NewCache(dir string) (*Cache, error) {
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return &Cache{Root: dir}, nil
}

func (c *Cache) blobPath(digest string) string {
	return filepath.Join(c.Root, "blobs", "sha256-"+digest)
}

// ModelDir is the directory of a cached model, usable as --model DIR.
func (c *Cache) ModelDir(name string) string { return filepath.Join(c.Root, "models", name) }

// Provenance is pull.json: where a cached model's files came from.
type Provenance struct {
	Format  int              `json:"format"`
	Name    string           `json:"name"`
	BaseURL string           `json:"base_url"`
	Pulled  time.Time        `json:"pulled"`
	Files   []FileProvenance `json:"files"`
}

// FileProvenance records one file's source and how its digest is known.
type FileProvenance struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// DigestSource is "registry" when the SHA-256 was known before the
	// download and checked against it, "first-download" when it was recorded
	// at the first download (and is checked on every later use).
	DigestSource string `json:"digest_source"`
}

const provenanceName = "pull.json"

// Cached reports whether the named model's manifest is in the cache.
func (c *Cache) Cached(name string) bool {
	_, err := os.Stat(filepath.Join(c.ModelDir(name), ManifestName))
	return err == nil
}

// Manifest reads a cached model's manifest (ErrNotCached when absent).
func (c *Cache) Manifest(name string) (*Manifest, error) {
	m, err := ReadManifest(filepath.Join(c.ModelDir(name), ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotCached, name)
	}
	return m, err
}

// Provenance reads a cached model's pull.json.
func (c *Cache) Provenance(name string) (*Provenance, error) {
	data, err := os.ReadFile(filepath.Join(c.ModelDir(name), provenanceName))
	if err != nil {
		return nil, err
	}
	var p Provenance
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", provenanceName, err)
	}
	return &p, nil
}

// Open loads a cached model, verifying every file's size and SHA-256.
func (c *Cache) Open(name string) (*Model, error) {
	dir := c.ModelDir(name)
	man, err := c.Manifest(name)
	if err != nil {
		if errors.Is(err, ErrNotCached) {
			return nil, &NotCachedError{Name: name, Cache: c.Root}
		}
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return load(man, dir, os.DirFS(dir))
}

// NotCachedError is Cache.Open's ErrNotCached: a known model that has not
// been pulled into the cache, named so that the caller can say how to pull it.
type NotCachedError struct {
	Name  string // the model's name
	Cache string // the cache's root
}

func (e *NotCachedError) Error() string {
	return fmt.Sprintf("%v: %s is a known model but is not in the cache %s", ErrNotCached, e.Name, e.Cache)
}

// Is makes errors.Is(err, ErrNotCached) hold.
func (e *NotCachedError) Is(target error) bool { return target == ErrNotCached }

// FileCheck is the result of verifying one cached file.
type FileCheck struct {
	Name         string
	Size         int64
	SHA256       string // as computed now
	Want         string // as recorded in the manifest
	DigestSource string // see FileProvenance
	Err          error  // nil when size and digest match
}

// Verify re-reads every file of a cached model and checks it against the
// manifest. It returns one FileCheck per file; the error is for failures to
// read the manifest itself.
func (c *Cache) Verify(name string) ([]FileCheck, error) {
	man, err := c.Manifest(name)
	if err != nil {
		return nil, err
	}
	src := map[string]string{}
	if p, err := c.Provenance(name); err == nil {
		for _, f := range p.Files {
			src[f.Name] = f.DigestSource
		}
	}
	var out []FileCheck
	for _, f := range man.Files {
		fc := FileCheck{Name: f.Name, Want: f.SHA256, DigestSource: src[f.Name]}
		size, sum, err := hashFile(filepath.Join(c.ModelDir(name), f.Name))
		fc.Size, fc.SHA256 = size, sum
		switch {
		case err != nil:
			fc.Err = err
		case size != f.Size || sum != f.SHA256:
			fc.Err = fmt.Errorf("%w: %s: have %d bytes sha256 %s, manifest says %d bytes sha256 %s",
				ErrChecksum, f.Name, size, sum, f.Size, f.SHA256)
		}
		out = append(out, fc)
	}
	return out, nil
}

// CachedNames lists the models with a manifest in the cache, sorted.
func (c *Cache) CachedNames() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(c.Root, "models"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && c.Cached(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Remove deletes a cached model and every blob (and partial download) that
// no other cached model uses. It returns the bytes freed.
func (c *Cache) Remove(name string) (int64, error) {
	unlock, err := c.lock(nil, "model-"+name)
	if err != nil {
		return 0, err
	}
	defer unlock()
	man, err := c.Manifest(name)
	if err != nil && !errors.Is(err, ErrNotCached) {
		// A broken manifest: remove the directory all the same.
		man = nil
	} else if errors.Is(err, ErrNotCached) {
		if _, serr := os.Stat(c.ModelDir(name)); serr != nil {
			return 0, fmt.Errorf("%w: %s", ErrNotCached, name)
		}
	}
	// The manifest goes first: from here on the model is not cached.
	if err := os.Remove(filepath.Join(c.ModelDir(name), ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	if err := os.RemoveAll(c.ModelDir(name)); err != nil {
		return 0, err
	}
	var freed int64
	if man != nil {
		inUse := map[string]bool{}
		others, _ := c.CachedNames()
		for _, o := range others {
			if om, err := c.Manifest(o); err == nil {
				for _, f := range om.Files {
					inUse[f.SHA256] = true
				}
			}
		}
		for _, f := range man.Files {
			if f.SHA256 == "" || inUse[f.SHA256] {
				continue
			}
			p := c.blobPath(f.SHA256)
			if st, err := os.Stat(p); err == nil {
				if err := os.Remove(p); err == nil {
					freed += st.Size()
				}
			}
		}
	}
	return freed, nil
}

// hashFile returns the size and SHA-256 (hex) of a file.
func hashFile(path string) (int64, string, error) {
	sum, fi, err := inputfile.SHA256(context.Background(), path, inputfile.Options{MaxSize: -1})
	if err != nil {
		return 0, "", err
	}
	return fi.Size(), sum, nil
}

// writeFileAtomic writes data to path so that readers see the old file or
// the new one, never a mix (see internal/atomicfile).
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(filepath.Dir(path), filepath.Base(path), func(w io.Writer) (int64, error) {
		n, err := w.Write(data)
		return int64(n), err
	})
}

func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// linkOrCopy makes dst refer to the bytes of src: a hard link where the file
// system allows it, else an atomic copy.
func linkOrCopy(src, dst string) error {
	_ = os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Write(filepath.Dir(dst), filepath.Base(dst), func(w io.Writer) (int64, error) {
		_, err := io.Copy(w, in)
		return -1, err
	})
}

// validName refuses model names that would escape the cache directory.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%w %q: not a valid model name", ErrUnknownModel, name)
	}
	return nil
}
