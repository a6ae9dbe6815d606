// Package download is embedsearch's one verified, resumable HTTP download:
// the model cache's files and the onnxruntime tarball both go through Fetch.
//
// A download is written to a partial file the caller names, hashed while
// it is written, and resumed from that file's length (a Range request) when
// a transfer breaks off or a later run starts again. It is retried, with
// exponential back-off, only where another try can help: a timeout or a
// stall, a 5xx, 408 or 429 status, a connection reset or closed early. A
// DNS failure or a refused connection fails at once (ErrUnreachable): the
// address is wrong or the machine is offline, and six retries over fifteen
// seconds would only hide that. The size and SHA-256, when the caller knows
// them, are checked before Fetch returns; bytes that cannot be trusted are
// removed.
//
// Fetch is safe for concurrent use on distinct partial files; the caller
// serialises work on one file (filelock).
package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Errors, for errors.Is. Each is wrapped with the URL and the detail.
var (
	// ErrUnreachable: the server's name does not resolve or it refuses
	// connections; not retried.
	ErrUnreachable = errors.New("download server unreachable")
	// ErrNotFound: the server answered 404.
	ErrNotFound = errors.New("file not found on the download server")
	// ErrChecksum: the bytes do not have the expected size or SHA-256.
	ErrChecksum = errors.New("download does not match its checksum")
	// ErrFailed: any other failure of the transfer, after the retries.
	ErrFailed = errors.New("download failed")
)

// Options control Fetch. The zero value retries five times from 500 ms
// and gives up on a transfer silent for a minute.
type Options struct {
	// Client is the HTTP client; nil uses one without an overall timeout
	// (files are large) that honours the proxy environment.
	Client *http.Client
	// Retries is how many times a failed transfer is tried again,
	// resuming; 0 means 5. Progress resets the count.
	Retries int
	// Backoff is the first pause between tries, doubled each time (at most
	// 30 s); 0 means 500 ms.
	Backoff time.Duration
	// StallTimeout aborts (and retries) a transfer that receives nothing
	// for this long, the wait for headers included; 0 means 60 s.
	StallTimeout time.Duration
	// UserAgent names the client to the server.
	UserAgent string
	// Progress, when set, is called as bytes arrive (done counts a
	// resumed part; total is 0 when unknown), from one goroutine.
	Progress func(done, total int64)
}

func (o *Options) defaults() {
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
	if o.UserAgent == "" {
		o.UserAgent = "embedsearch"
	}
}

// Fetch downloads url into the file partial, resuming from what partial
// already holds. size (when > 0) is the expected length and want (when not
// "") the expected SHA-256 in hex. On success partial holds the whole
// file, synced, and Fetch returns its length and SHA-256; the caller
// renames it into place. On a checksum or size mismatch partial is
// removed; after a transfer failure it is kept, for the next try to resume.
func Fetch(ctx context.Context, url, partial string, size int64, want string, o Options) (int64, string, error) {
	o.defaults()
	pause := o.Backoff
	for attempt := 1; ; attempt++ {
		var before int64
		if st, err := os.Stat(partial); err == nil {
			before = st.Size()
		}
		got, sum, err := fetchOnce(ctx, &o, url, partial, size)
		if err == nil {
			if want != "" && sum != want {
				os.Remove(partial)
				return 0, "", fmt.Errorf("%w: %s: downloaded %d bytes with sha256 %s, expected %s; the corrupt download was removed, try again",
					ErrChecksum, url, got, sum, want)
			}
			return got, sum, nil
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
			return 0, "", fmt.Errorf("%w: %s: %v (after %d attempts; the partial download is kept and the next try resumes it)",
				ErrFailed, url, r.err, attempt)
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
}

// retryable marks a transfer failure worth another try (resuming).
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// unreachable says whether a transport error means the server cannot be
// reached at all: its name does not resolve, or nothing listens.
func unreachable(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH)
}

// fetchOnce runs one HTTP transfer into partial, resuming from its current
// length with a Range request. It returns the file's size and SHA-256 once
// the whole body is in, a retryable error when the transfer broke off, or
// a final error (404, wrong size, unreachable) after which the partial
// file is removed where its bytes cannot be trusted.
func fetchOnce(ctx context.Context, o *Options, url, partial string, size int64) (int64, string, error) {
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
		switch {
		case stalled.Load():
			return retryable{fmt.Errorf("no data received for %v", o.StallTimeout)}
		case ctx.Err() != nil:
			return ctx.Err()
		case unreachable(err):
			return fmt.Errorf("%w: %s: %v", ErrUnreachable, url, err)
		}
		return retryable{err}
	}

	req, err := http.NewRequestWithContext(tctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %v", ErrFailed, err)
	}
	req.Header.Set("User-Agent", o.UserAgent)
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
		return 0, "", fmt.Errorf("%w: %s (HTTP 404)", ErrNotFound, url)
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return 0, "", retryable{fmt.Errorf("HTTP %s", resp.Status)}
	default:
		return 0, "", fmt.Errorf("%w: %s: HTTP %s", ErrFailed, url, resp.Status)
	}
	if size > 0 && total >= 0 && total != size {
		os.Remove(partial)
		return 0, "", fmt.Errorf("%w: %s: the server has %d bytes, %d were expected; nothing was kept",
			ErrChecksum, url, total, size)
	}
	if total < 0 && size > 0 {
		total = size
	}
	report := func() {}
	if o.Progress != nil {
		t := max(total, 0)
		report = func() { o.Progress(offset, t) }
	}
	report()
	if err := copyBody(fh, h, resp.Body, &offset, size, timer, o.StallTimeout, report); err != nil {
		if errors.Is(err, errTooLong) {
			os.Remove(partial)
			return 0, "", fmt.Errorf("%w: %s: the server sent more than the %d bytes expected; nothing was kept",
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
		return 0, "", fmt.Errorf("%w: %s: got %d bytes, %d were expected; nothing was kept", ErrChecksum, url, offset, size)
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
