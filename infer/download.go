package infer

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/embedsearch/embedsearch/internal/atomicfile"
	"github.com/embedsearch/embedsearch/internal/download"
	"github.com/embedsearch/embedsearch/internal/filelock"
	"github.com/embedsearch/embedsearch/internal/inputfile"
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

// Pins are the official Microsoft CPU builds shipped inside the
// onnxruntime-node npm package, one tarball for every platform: a member
// for each platform that has one (the package's macOS build is arm64 only).
var Pins = []Pin{
	ortNode("linux", "amd64", "linux/x64/libonnxruntime.so.1", 35164376,
		"92ba8e44d31b80a34f5e805076a044122c3be1fffe0d88ed790de7267b0b2682"),
	ortNode("linux", "arm64", "linux/arm64/libonnxruntime.so.1", 18625376,
		"33032cb5b91c12edbf028d7c69fa40a31848d66c0095448758af237d5e0b07db"),
	ortNode("darwin", "arm64", "darwin/arm64/libonnxruntime.1.24.3.dylib", 35937208,
		"76831409ce6eded92b4cb343cf422c458a60c1ea1d5f3cfa69692ab7fcc67f0f"),
}

func ortNode(goos, goarch, member string, size int64, sum string) Pin {
	return Pin{
		Version:      "1.24.3",
		Path:         "/onnxruntime-node/-/onnxruntime-node-1.24.3.tgz",
		Size:         85987774,
		SHA256:       "aa1bb5fa261ea68de05dd53efbba210cd7adf2d2850f4c3a201054c74cc78040",
		Member:       "package/bin/napi-v6/" + member,
		MemberSize:   size,
		MemberSHA256: sum,
		GOOS:         goos,
		GOARCH:       goarch,
	}
}

// DefaultPin is the pin of this platform (PinFor), or of linux/amd64 on a
// platform without one, whose download is then refused naming the platform.
var DefaultPin = PinFor(runtime.GOOS, runtime.GOARCH)

// PinFor returns the pin for goos/goarch, or linux/amd64's when there is none.
func PinFor(goos, goarch string) Pin {
	for _, p := range Pins {
		if p.GOOS == goos && p.GOARCH == goarch {
			return p
		}
	}
	return Pins[0]
}

// cachePath is where the verified library lives in the cache.
func (p *Pin) cachePath(cacheDir string) string {
	return filepath.Join(cacheDir, "onnxruntime", p.Version, filepath.Base(p.Member))
}

func (p *Pin) platformOK() error {
	if runtime.GOOS != p.GOOS || runtime.GOARCH != p.GOARCH {
		var have []string
		for _, q := range Pins {
			have = append(have, q.GOOS+"/"+q.GOARCH)
		}
		return fmt.Errorf("no pinned onnxruntime download for %s/%s (the pin is for %s/%s; pinned builds: %s)",
			runtime.GOOS, runtime.GOARCH, p.GOOS, p.GOARCH, strings.Join(have, ", "))
	}
	return nil
}

// verifyCached checks a cached library's size and SHA-256 before use, so a
// truncated or altered cache entry is never loaded.
func (p *Pin) verifyCached(path string) error {
	sum, fi, err := inputfile.SHA256(context.Background(), path, inputfile.Options{MaxSize: -1})
	if err != nil {
		return err
	}
	if fi.Size() != p.MemberSize {
		return fmt.Errorf("%s: %d bytes, want %d", path, fi.Size(), p.MemberSize)
	}
	if sum != p.MemberSHA256 {
		return fmt.Errorf("%s: sha256 %s, want %s", path, sum, p.MemberSHA256)
	}
	return nil
}

// download fetches the tarball from baseURL into the cache (resumable,
// verified against the pin while it streams: the one downloader), extracts
// the member, verifies it and installs it at dst atomically. Concurrent
// processes serialise on a lock file beside dst; the second finds the first
// one's result. The tarball is removed once the member is in place.
func (p *Pin) download(ctx context.Context, baseURL, dst string, progress func(done, total int64)) error {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	lock, err := filelock.Lock(ctx, filepath.Join(dir, ".lock"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	defer lock.Close()
	if p.verifyCached(dst) == nil { // another process finished while we waited
		return nil
	}
	url := strings.TrimRight(baseURL, "/") + p.Path
	tarball := filepath.Join(dir, ".download-tarball.partial")
	if _, _, err := download.Fetch(ctx, url, tarball, p.Size, p.SHA256, download.Options{Progress: progress}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", ErrDownload, err)
	}
	defer os.Remove(tarball)
	if err := p.extract(tarball, dir, filepath.Base(dst)); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDownload, url, err)
	}
	return nil
}

// extract writes the pinned member of the (verified) tarball to dir/name,
// atomically, checking its size and SHA-256 before it takes the name.
func (p *Pin) extract(tarball, dir, name string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("not a gzip tarball: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("tarball has no %s", p.Member)
		}
		if err != nil {
			return fmt.Errorf("read tarball: %v", err)
		}
		if hdr.Name != p.Member {
			continue
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size != p.MemberSize {
			return fmt.Errorf("%s in tarball: %d bytes, want a %d-byte file", p.Member, hdr.Size, p.MemberSize)
		}
		h := sha256.New()
		return atomicfile.WriteMode(dir, name, 0o755, func(w io.Writer) (int64, error) {
			if _, err := io.Copy(io.MultiWriter(w, h), tr); err != nil {
				return 0, fmt.Errorf("extract %s: %v", p.Member, err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != p.MemberSHA256 {
				return 0, fmt.Errorf("%s sha256 %s, want %s", p.Member, got, p.MemberSHA256)
			}
			return p.MemberSize, nil
		})
	}
}
