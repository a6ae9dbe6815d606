package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
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
	if o.Client == nil {
		o.Client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = time.Minute
	}
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

	man := *tmpl
	man.Files = append([]File(nil), tmpl.Files...)
	prov := Provenance{Format: 1, Name: name, BaseURL: o.BaseURL, Pulled: time.Now().UTC()}
	for i := range man.Files {
		f := &man.Files[i]
		want, source := f.SHA256, "registry"
		if want == "" {
			want, source = recorded[f.Name], "first-download"
		}
		url := o.BaseURL + "/" + strings.TrimLeft(f.URL, "/")
		if f.URL == "" {
			url = o.BaseURL + "/" + f.Name
		}
		size, sum, err := c.fetch(ctx, &o, name, url, f.Name, f.Size, want)
		if err != nil {
			return nil, err
		}
		f.Size, f.SHA256 = size, sum
		prov.Files = append(prov.Files, FileProvenance{Name: f.Name, URL: url, Size: size, SHA256: sum, DigestSource: source})
	}
	if err := man.Validate(); err != nil {
		return nil, err
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
	f, err := os.OpenFile(filepath.Join(dir, key+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("model cache: %w", err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("model cache lock %s: %w", key, err)
		}
		if ok {
			return func() { _ = unlockFile(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
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
		return 0, "", fmt.Errorf("%w: model %s needs %s, which is not in the cache %s; run without --offline to download it, or pass --model DIR with the files",
			ErrOffline, model, name, c.Root)
	}
	if err := os.MkdirAll(filepath.Join(c.Root, "blobs"), 0o755); err != nil {
		return 0, "", err
	}
	partial := filepath.Join(c.Root, "blobs", key+".partial")
	var got int64
	var sum string
	pause := o.Backoff
	for attempt := 1; ; attempt++ {
		var before int64
		if st, err := os.Stat(partial); err == nil {
			before = st.Size()
		}
		got, sum, err = c.fetchOnce(ctx, o, model, url, name, partial, size)
		if err == nil {
			break
		}
		var r retryable
		if !errors.As(err, &r) {
			return 0, "", err
		}
		if ctx.Err() != nil {
			return 0, "", ctx.Err()
		}
		if st, serr := os.Stat(partial); serr == nil && st.Size() > before {
			attempt, pause = 0, o.Backoff // progress was made: start counting again
		}
		if attempt > o.Retries {
			return 0, "", fmt.Errorf("%w: %s: %v (after %d attempts; the partial download is kept and the next pull resumes it)",
				ErrDownload, url, r.err, attempt)
		}
		select {
		case <-ctx.Done():
			return 0, "", ctx.Err()
		case <-time.After(pause):
		}
		if pause *= 2; pause > 30*time.Second {
			pause = 30 * time.Second
		}
	}
	if want != "" && sum != want {
		os.Remove(partial)
		return 0, "", fmt.Errorf("%w: %s: downloaded %d bytes with sha256 %s, expected %s; the corrupt download was removed, pull again to retry",
			ErrChecksum, url, got, sum, want)
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

// retryable marks a transfer failure worth another attempt (resuming).
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// fetchOnce runs one HTTP transfer into partial, resuming from its current
// length with a Range request. It returns the file's size and SHA-256 once
// the whole body is in, a retryable error when the transfer broke off, or
// a final error (404, wrong size) after which the partial file is removed
// where its bytes cannot be trusted.
func (c *Cache) fetchOnce(ctx context.Context, o *PullOptions, model, url, name, partial string, size int64) (int64, string, error) {
	fh, err := os.OpenFile(partial, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return 0, "", err
	}
	defer fh.Close()
	h := sha256.New()
	offset, err := io.Copy(h, fh) // hash what is already there; leaves the offset at the end
	if err != nil {
		return 0, "", err
	}
	restart := func() error {
		offset = 0
		h.Reset()
		if err := fh.Truncate(0); err != nil {
			return err
		}
		_, err := fh.Seek(0, io.SeekStart)
		return err
	}
	if size > 0 && offset > size {
		if err := restart(); err != nil {
			return 0, "", err
		}
	}
	if size > 0 && offset == size {
		return offset, hex.EncodeToString(h.Sum(nil)), nil
	}

	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	timer := time.AfterFunc(o.StallTimeout, func() { stalled.Store(true); cancel() })
	defer timer.Stop()
	transferErr := func(err error) error {
		if stalled.Load() {
			return retryable{fmt.Errorf("no data received for %v", o.StallTimeout)}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return retryable{err}
	}

	req, err := http.NewRequestWithContext(tctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %v", ErrDownload, err)
	}
	req.Header.Set("User-Agent", "embedsearch (model download)")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return 0, "", transferErr(err)
	}
	defer resp.Body.Close()

	total := int64(-1) // full file length announced by the server
	switch {
	case resp.StatusCode == http.StatusOK:
		if offset > 0 { // the server ignored Range: start over cleanly
			if err := restart(); err != nil {
				return 0, "", err
			}
		}
		total = resp.ContentLength
	case resp.StatusCode == http.StatusPartialContent:
		start, tot, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			if err := restart(); err != nil {
				return 0, "", err
			}
			return 0, "", retryable{fmt.Errorf("server resumed at the wrong offset (%q for byte %d); starting over", resp.Header.Get("Content-Range"), offset)}
		}
		total = tot
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		if err := restart(); err != nil {
			return 0, "", err
		}
		return 0, "", retryable{fmt.Errorf("server refused to resume (HTTP 416); starting over")}
	case resp.StatusCode == http.StatusNotFound:
		os.Remove(partial)
		return 0, "", fmt.Errorf("%w: %s (HTTP 404) for model %s; check the name, the registry revision or --base-url / %s",
			ErrNotFound, url, model, EnvBaseURL)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return 0, "", retryable{fmt.Errorf("HTTP %s", resp.Status)}
	default:
		return 0, "", fmt.Errorf("%w: %s: HTTP %s", ErrDownload, url, resp.Status)
	}
	if size > 0 && total >= 0 && total != size {
		os.Remove(partial)
		return 0, "", fmt.Errorf("%w: %s: the server has %d bytes, the manifest says %d; nothing was kept",
			ErrChecksum, url, total, size)
	}
	if total < 0 && size > 0 {
		total = size
	}
	report := func() {}
	if o.Progress != nil {
		t := total
		if t < 0 {
			t = 0
		}
		report = func() { o.Progress(Progress{Model: model, File: name, Done: offset, Total: t}) }
	}
	report()
	if err := copyBody(fh, h, resp.Body, &offset, size, timer, o.StallTimeout, report); err != nil {
		if errors.Is(err, errTooLong) {
			os.Remove(partial)
			return 0, "", fmt.Errorf("%w: %s: the server sent more than the %d bytes the manifest lists; nothing was kept",
				ErrChecksum, url, size)
		}
		if perr := (*os.PathError)(nil); errors.As(err, &perr) {
			return 0, "", err // a local write error is not worth retrying
		}
		return 0, "", transferErr(err)
	}
	if err := fh.Sync(); err != nil {
		return 0, "", err
	}
	if total >= 0 && offset < total {
		return 0, "", retryable{fmt.Errorf("connection closed after %d of %d bytes", offset, total)}
	}
	if size > 0 && offset != size {
		os.Remove(partial)
		return 0, "", fmt.Errorf("%w: %s: got %d bytes, the manifest says %d; nothing was kept", ErrChecksum, url, offset, size)
	}
	return offset, hex.EncodeToString(h.Sum(nil)), nil
}

var errTooLong = errors.New("body longer than expected")

// copyBody appends body to fh and h, advancing *offset, resetting the stall
// timer on every read and refusing to grow past limit (when limit > 0).
func copyBody(fh *os.File, h hash.Hash, body io.Reader, offset *int64, limit int64, timer *time.Timer, stall time.Duration, report func()) error {
	buf := make([]byte, 256<<10)
	last := time.Now()
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			timer.Reset(stall)
			if limit > 0 && *offset+int64(n) > limit {
				return errTooLong
			}
			if _, err := fh.Write(buf[:n]); err != nil {
				return err
			}
			h.Write(buf[:n])
			*offset += int64(n)
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond {
				last = now
				report()
			}
		}
		if rerr == io.EOF {
			report()
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// parseContentRange reads "bytes START-END/TOTAL" (TOTAL may be "*").
func parseContentRange(v string) (start, total int64, ok bool) {
	v, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(v, "/")
	if !found {
		return 0, 0, false
	}
	s, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}
