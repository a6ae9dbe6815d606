package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/internal/download"
	"github.com/embedsearch/embedsearch/internal/filelock"
)

// PullOptions control downloads. The zero value downloads from
// DefaultBaseURL() with five retries and a one-minute stall timeout.
type PullOptions struct {
	// BaseURL replaces the zoo base URL (a mirror, or a test server).
	BaseURL string
	// Offline forbids any download: Pull succeeds only for cached models.
	Offline bool
	// Client is the HTTP client; nil uses one without an overall timeout
	// (files are large) that honours the proxy environment.
	Client *http.Client
	// Retries is how many times a failed transfer (network error, 5xx,
	// stall) is retried, resuming where it stopped; 0 means 5.
	Retries int
	// Backoff is the first pause between retries, doubled each time (at
	// most 30s); 0 means 500ms.
	Backoff time.Duration
	// StallTimeout aborts (and retries) a transfer that receives no data for
	// this long, including the wait for response headers; 0 means 60s.
	StallTimeout time.Duration
	// Progress, when set, is called as bytes arrive (from one goroutine).
	Progress func(Progress)
}

// Progress reports a file download.
type Progress struct {
	Model, File string
	Done        int64 // bytes of the file on disk so far (including a resumed part)
	Total       int64 // expected bytes; 0 when not known
}

func (o *PullOptions) defaults() {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL()
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	// Client, Retries, Backoff and StallTimeout: download.Options' defaults.
}

// Pull makes sure the named zoo model is in the cache, downloading what is
// missing, and returns it opened (every file verified).
func (c *Cache) Pull(ctx context.Context, name string, o PullOptions) (*Model, error) {
	e, ok := LookupZoo(name)
	if !ok {
		return nil, fmt.Errorf("%w %q: not in the model zoo (known: %s)", ErrUnknownModel, name, strings.Join(ZooNames(), ", "))
	}
	man := e.Manifest
	return c.PullManifest(ctx, name, &man, o)
}

// PullManifest downloads the files a manifest lists (each from BaseURL/URL)
// into the cache under name, then writes the manifest with every file's size
// and SHA-256: files whose digest the manifest leaves empty get the digest of
// their first download, and are checked against it on every later use.
func (c *Cache) PullManifest(ctx context.Context, name string, tmpl *Manifest, o PullOptions) (*Model, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	o.defaults()
	unlock, err := c.lock(ctx, "model-"+name)
	if err != nil {
		return nil, err
	}
	defer unlock()

	// Digests recorded by an earlier pull stand in for unknown ones, so a
	// second pull neither downloads again nor accepts different bytes.
	recorded := map[string]string{}
	cached, cerr := c.Manifest(name)
	if cerr == nil {
		for _, f := range cached.Files {
			recorded[f.Name] = f.SHA256
		}
		if cached.ID == tmpl.ID && sameDigests(tmpl, cached) {
			if m, err := c.Open(name); err == nil {
				return m, nil
			}
		}
	}

	pins, err := c.Pins()
	if err != nil {
		return nil, err
	}
	man := *tmpl
	man.Files = append([]File(nil), tmpl.Files...)
	prov := Provenance{Format: 1, Name: name, BaseURL: o.BaseURL, Pulled: time.Now().UTC()}
	newPins := map[string]Pin{}
	for i := range man.Files {
		f := &man.Files[i]
		want, size, source := f.SHA256, f.Size, "registry"
		pin, pinned := pins.Files[pinKey(*f)]
		if want == "" {
			source = "first-download"
			switch {
			case recorded[f.Name] != "":
				want = recorded[f.Name]
			case pinned:
				want, size = pin.SHA256, pin.Size
			}
		}
		url := o.BaseURL + "/" + strings.TrimLeft(f.URL, "/")
		if f.URL == "" {
			url = o.BaseURL + "/" + f.Name
		}
		got, sum, err := c.fetch(ctx, &o, name, url, f.Name, size, want)
		if err != nil {
			if source == "first-download" && errors.Is(err, ErrChecksum) {
				first := "an earlier download"
				if pinned {
					first = "its first download on " + pin.First.Format("2006-01-02")
				}
				return nil, fmt.Errorf("%w, %w (sha256 %s at %s): %w", ErrChecksum, ErrRecordedDigest, want, first, err)
			}
			return nil, err
		}
		if source == "first-download" && want == "" {
			// Nothing to compare these bytes with: they must at least be
			// the graph the manifest describes before they are kept.
			if err := c.checkBlob(&man, f.Name, sum); err != nil {
				return nil, err
			}
		}
		if source == "first-download" && !pinned {
			newPins[pinKey(*f)] = Pin{Model: name, Size: got, SHA256: sum, First: prov.Pulled}
		}
		f.Size, f.SHA256 = got, sum
		prov.Files = append(prov.Files, FileProvenance{Name: f.Name, URL: url, Size: got, SHA256: sum, DigestSource: source})
	}
	if err := man.Validate(); err != nil {
		return nil, err
	}
	if len(newPins) > 0 {
		if err := c.updatePins(ctx, func(p *Pins) {
			for k, v := range newPins {
				if _, ok := p.Files[k]; !ok {
					p.Files[k] = v
				}
			}
		}); err != nil {
			return nil, err
		}
	}

	dir := c.ModelDir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Un-cache the old state first: the new manifest is the commit point.
	if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, f := range man.Files {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := linkOrCopy(c.blobPath(f.SHA256), dst); err != nil {
			return nil, fmt.Errorf("model %s: place %s: %w", name, f.Name, err)
		}
	}
	pj, _ := json.MarshalIndent(prov, "", "  ")
	if err := writeFileAtomic(filepath.Join(dir, provenanceName), append(pj, '\n')); err != nil {
		return nil, err
	}
	mj, _ := json.MarshalIndent(&man, "", "  ")
	if err := writeFileAtomic(filepath.Join(dir, ManifestName), append(mj, '\n')); err != nil {
		return nil, err
	}
	return c.Open(name)
}

// checkBlob checks a downloaded file structurally (checkONNX); a file
// that fails is removed from the cache, so it is neither used nor kept.
func (c *Cache) checkBlob(man *Manifest, file, digest string) error {
	p := c.blobPath(digest)
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := checkONNX(man, file, data); err != nil {
		os.Remove(p)
		return err
	}
	return nil
}

func sameDigests(tmpl, cached *Manifest) bool {
	if len(tmpl.Files) != len(cached.Files) {
		return false
	}
	for i, f := range tmpl.Files {
		g := cached.Files[i]
		if f.Name != g.Name || (f.SHA256 != "" && f.SHA256 != g.SHA256) || (f.Size != 0 && f.Size != g.Size) {
			return false
		}
	}
	return true
}

// lock takes an exclusive lock named key, waiting until it is free or ctx
// is done. The returned function releases it.
func (c *Cache) lock(ctx context.Context, key string) (func(), error) {
	if ctx == nil {
		ctx = context.Background()
	}
	dir := filepath.Join(c.Root, "locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("model cache: %w", err)
	}
	l, err := filelock.Lock(ctx, filepath.Join(dir, key+".lock"))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("model cache lock %s: %w", key, err)
	}
	return func() { l.Close() }, nil
}

// fetch makes sure the blob for one file is in the cache and returns its
// size and digest. want is the expected SHA-256 ("" = unknown), size the
// expected size (0 = unknown).
func (c *Cache) fetch(ctx context.Context, o *PullOptions, model, url, name string, size int64, want string) (int64, string, error) {
	if want != "" {
		if n, ok := c.haveBlob(want, size); ok {
			return n, want, nil
		}
	}
	key := "url-" + shortHash(url)
	if want != "" {
		key = "sha256-" + want
	}
	unlock, err := c.lock(ctx, "blob-"+key)
	if err != nil {
		return 0, "", err
	}
	defer unlock()
	if want != "" { // another puller may have finished it while we waited
		if n, ok := c.haveBlob(want, size); ok {
			return n, want, nil
		}
	}
	if o.Offline {
		return 0, "", fmt.Errorf("%w: model %s needs %s, which is not in the cache %s", ErrOffline, model, name, c.Root)
	}
	if err := os.MkdirAll(filepath.Join(c.Root, "blobs"), 0o755); err != nil {
		return 0, "", err
	}
	partial := filepath.Join(c.Root, "blobs", key+".partial")
	do := download.Options{Client: o.Client, Retries: o.Retries, Backoff: o.Backoff, StallTimeout: o.StallTimeout,
		UserAgent: "embedsearch (model download)"}
	if o.Progress != nil {
		do.Progress = func(done, total int64) { o.Progress(Progress{Model: model, File: name, Done: done, Total: total}) }
	}
	got, sum, err := download.Fetch(ctx, url, partial, size, want, do)
	switch {
	case err == nil:
	case errors.Is(err, download.ErrChecksum):
		return 0, "", fmt.Errorf("%w: model %s: %w", ErrChecksum, model, err)
	case errors.Is(err, download.ErrNotFound):
		return 0, "", fmt.Errorf("%w: model %s: %w; check the name and the registry revision", ErrNotFound, model, err)
	case errors.Is(err, download.ErrUnreachable), errors.Is(err, download.ErrFailed):
		return 0, "", fmt.Errorf("%w: model %s: %w", ErrDownload, model, err)
	default:
		return 0, "", err
	}
	if err := os.Rename(partial, c.blobPath(sum)); err != nil {
		return 0, "", err
	}
	if err := syncDir(filepath.Dir(partial)); err != nil {
		return 0, "", err
	}
	return got, sum, nil
}

// haveBlob reports whether the blob for digest is present and intact; a
// damaged blob is removed so that it is downloaded again.
func (c *Cache) haveBlob(digest string, size int64) (int64, bool) {
	p := c.blobPath(digest)
	if _, err := os.Stat(p); err != nil {
		return 0, false
	}
	n, sum, err := hashFile(p)
	if err == nil && sum == digest && (size == 0 || n == size) {
		return n, true
	}
	os.Remove(p)
	return 0, false
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}
