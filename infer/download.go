package infer

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// DefaultBaseURL is the registry the pinned tarball is fetched from.
const DefaultBaseURL = "https://registry.npmjs.org"

// Pin is one downloadable onnxruntime build: a tarball at a fixed path below
// the base URL and one member of it, each with its size and SHA-256. Nothing
// is used or cached unless both match.
type Pin struct {
	Version      string // onnxruntime version, also the cache sub-directory
	Path         string // tarball path below the base URL
	Size         int64  // tarball bytes
	SHA256       string // tarball SHA-256 (hex)
	Member       string // path of the library inside the tarball
	MemberSize   int64
	MemberSHA256 string
	GOOS, GOARCH string // the only platform the member runs on
}

// DefaultPin is the official Microsoft linux-x64 CPU build shipped inside
// the onnxruntime-node npm package.
var DefaultPin = Pin{
	Version:      "1.24.3",
	Path:         "/onnxruntime-node/-/onnxruntime-node-1.24.3.tgz",
	Size:         85987774,
	SHA256:       "aa1bb5fa261ea68de05dd53efbba210cd7adf2d2850f4c3a201054c74cc78040",
	Member:       "package/bin/napi-v6/linux/x64/libonnxruntime.so.1",
	MemberSize:   35164376,
	MemberSHA256: "92ba8e44d31b80a34f5e805076a044122c3be1fffe0d88ed790de7267b0b2682",
	GOOS:         "linux",
	GOARCH:       "amd64",
}

// cachePath is where the verified library lives in the cache.
func (p *Pin) cachePath(cacheDir string) string {
	return filepath.Join(cacheDir, "onnxruntime", p.Version, filepath.Base(p.Member))
}

func (p *Pin) platformOK() error {
	if runtime.GOOS != p.GOOS || runtime.GOARCH != p.GOARCH {
		return fmt.Errorf("no pinned onnxruntime download for %s/%s (only %s/%s): install onnxruntime >= %s "+
			"and pass --onnxruntime PATH or set ONNXRUNTIME_LIB", runtime.GOOS, runtime.GOARCH, p.GOOS, p.GOARCH, MinVersion)
	}
	return nil
}

// verifyCached checks a cached library's size and SHA-256 before use, so a
// truncated or altered cache entry is never loaded.
func (p *Pin) verifyCached(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() != p.MemberSize {
		return fmt.Errorf("%s: %d bytes, want %d", path, st.Size(), p.MemberSize)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.MemberSHA256 {
		return fmt.Errorf("%s: sha256 %s, want %s", path, got, p.MemberSHA256)
	}
	return nil
}

// download fetches the tarball from baseURL, verifies it while streaming,
// extracts the member and verifies it, and installs it at dst atomically
// (temp file, fsync, rename, fsync dir). Concurrent processes serialise on
// a lock file beside dst; the second finds the first one's result.
func (p *Pin) download(ctx context.Context, baseURL, dst string, progress func(done, total int64)) error {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	defer unlock()
	if p.verifyCached(dst) == nil { // another process finished while we waited
		return nil
	}
	url := baseURL + p.Path
	tmp, err := p.fetch(ctx, url, dir, progress)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDownload, url, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// fetch streams the tarball into a verified temp file of the member in dir
// and returns its name. The temp file is removed on any failure.
func (p *Pin) fetch(ctx context.Context, url, dir string, progress func(done, total int64)) (name string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %s", resp.Status)
	}
	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	whole := sha256.New()
	counted := &progressReader{r: resp.Body, total: p.Size, progress: progress}
	body := io.TeeReader(counted, whole)
	gz, err := gzip.NewReader(body)
	if err != nil {
		return "", fmt.Errorf("not a gzip tarball: %v", err)
	}
	tr := tar.NewReader(gz)
	found := false
	part := sha256.New()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read tarball: %v", err)
		}
		if hdr.Name != p.Member || found {
			continue
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size != p.MemberSize {
			return "", fmt.Errorf("%s in tarball: %d bytes, want a %d-byte file", p.Member, hdr.Size, p.MemberSize)
		}
		if _, err := io.Copy(io.MultiWriter(tmp, part), tr); err != nil {
			return "", fmt.Errorf("extract %s: %v", p.Member, err)
		}
		found = true
	}
	// Hash every byte of the tarball, including gzip padding after the tar end.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return "", fmt.Errorf("read tarball: %v", err)
	}
	if counted.done != p.Size {
		return "", fmt.Errorf("tarball is %d bytes, want %d", counted.done, p.Size)
	}
	if got := hex.EncodeToString(whole.Sum(nil)); got != p.SHA256 {
		return "", fmt.Errorf("tarball sha256 %s, want %s", got, p.SHA256)
	}
	if !found {
		return "", fmt.Errorf("tarball has no %s", p.Member)
	}
	if got := hex.EncodeToString(part.Sum(nil)); got != p.MemberSHA256 {
		return "", fmt.Errorf("%s sha256 %s, want %s", p.Member, got, p.MemberSHA256)
	}
	if err := tmp.Chmod(0o755); err != nil {
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return tmp.Name(), nil
}

type progressReader struct {
	r           io.Reader
	done, total int64
	progress    func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.progress != nil && n > 0 {
		p.progress(p.done, p.total)
	}
	return n, err
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel
// the wait. The lock dies with the process, so a crash leaves none behind.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %v", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
