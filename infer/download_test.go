package infer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeTarball builds a gzip'd tar holding member (with body) between two
// other files, and a Pin describing it.
func fakeTarball(t *testing.T, member string, body []byte) ([]byte, Pin) {
	t.Helper()
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("package/package.json", []byte(`{"name":"fake"}`))
	add(member, body)
	add("package/README.md", []byte("readme"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	whole := sha256.Sum256(buf.Bytes())
	part := sha256.Sum256(body)
	return buf.Bytes(), Pin{
		Version:      "9.9.9-test",
		Path:         "/fake/-/fake-9.9.9.tgz",
		Size:         int64(buf.Len()),
		SHA256:       hex.EncodeToString(whole[:]),
		Member:       member,
		MemberSize:   int64(len(body)),
		MemberSHA256: hex.EncodeToString(part[:]),
		GOOS:         runtime.GOOS,
		GOARCH:       runtime.GOARCH,
	}
}

// serve serves data at path and counts the requests.
func serve(t *testing.T, path string, data []byte) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, ".download-*"))
	if len(matches) > 0 {
		t.Errorf("temp files left behind: %v", matches)
	}
}

func TestDownloadVerifiesAndInstalls(t *testing.T) {
	body := bytes.Repeat([]byte("not really a shared library "), 5000)
	tgz, pin := fakeTarball(t, "package/bin/lib/libfake.so.1", body)
	srv, _ := serve(t, pin.Path, tgz)
	dst := pin.cachePath(t.TempDir())

	var last, calls atomic.Int64
	err := pin.download(context.Background(), srv.URL, dst, func(done, total int64) {
		calls.Add(1)
		if total != pin.Size {
			t.Errorf("progress total %d, want %d", total, pin.Size)
		}
		last.Store(done)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("installed %d bytes, want the %d-byte member", len(got), len(body))
	}
	if calls.Load() == 0 || last.Load() != pin.Size {
		t.Errorf("progress: %d calls, last done %d, want final %d", calls.Load(), last.Load(), pin.Size)
	}
	if err := pin.verifyCached(dst); err != nil {
		t.Errorf("verifyCached after download: %v", err)
	}
	noTempFiles(t, filepath.Dir(dst))
}

func TestDownloadRejectsBadBytes(t *testing.T) {
	body := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 3000)
	tgz, pin := fakeTarball(t, "package/lib/libfake.so.1", body)

	flipped := bytes.Clone(tgz)
	flipped[len(flipped)/2] ^= 0x40
	wrongMember := pin
	wrongMember.MemberSHA256 = strings.Repeat("0", 64)
	wrongName := pin
	wrongName.Member = "package/lib/other.so"

	cases := []struct {
		name string
		data []byte
		pin  Pin
		want string
	}{
		{"corrupted tarball", flipped, pin, ""},
		{"truncated tarball", tgz[:len(tgz)-100], pin, ""},
		{"member hash differs from pin", tgz, wrongMember, "sha256"},
		{"member missing", tgz, wrongName, "no package/lib/other.so"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := serve(t, c.pin.Path, c.data)
			dst := c.pin.cachePath(t.TempDir())
			err := c.pin.download(context.Background(), srv.URL, dst, nil)
			if !errors.Is(err, ErrDownload) {
				t.Fatalf("err = %v, want ErrDownload", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
			if _, statErr := os.Stat(dst); !os.IsNotExist(statErr) {
				t.Errorf("%s exists after a failed download", dst)
			}
			noTempFiles(t, filepath.Dir(dst))
		})
	}
}

func TestDownload404(t *testing.T) {
	_, pin := fakeTarball(t, "package/lib/libfake.so.1", []byte("x"))
	srv, _ := serve(t, "/elsewhere", nil)
	err := pin.download(context.Background(), srv.URL, pin.cachePath(t.TempDir()), nil)
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err = %v, want ErrDownload mentioning 404", err)
	}
}

func TestDownloadConcurrent(t *testing.T) {
	body := bytes.Repeat([]byte("abc"), 100000)
	tgz, pin := fakeTarball(t, "package/lib/libfake.so.1", body)
	srv, hits := serve(t, pin.Path, tgz)
	dst := pin.cachePath(t.TempDir())

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = pin.download(context.Background(), srv.URL, dst, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("downloader %d: %v", i, err)
		}
	}
	if err := pin.verifyCached(dst); err != nil {
		t.Fatal(err)
	}
	// The lock makes the later ones find the first one's file.
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests for 4 concurrent downloads, want 1", n)
	}
}

func TestVerifyCachedRejectsAlteredFile(t *testing.T) {
	body := []byte("library bytes")
	_, pin := fakeTarball(t, "package/lib/libfake.so.1", body)
	dst := filepath.Join(t.TempDir(), "lib")
	if err := os.WriteFile(dst, []byte("library bytez"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pin.verifyCached(dst); err == nil {
		t.Fatal("altered cache file accepted")
	}
	if err := os.WriteFile(dst, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := pin.verifyCached(dst); err != nil {
		t.Fatal(err)
	}
}

// skipIfSystemRuntime skips tests that need the system search to come up
// empty.
func skipIfSystemRuntime(t *testing.T) {
	for _, p := range systemCandidates() {
		if _, err := checkLibrary(p); err == nil {
			t.Skipf("a usable system onnxruntime (%s) would be found before the download", p)
		}
	}
}

func TestLocateOfflineSaysWhy(t *testing.T) {
	skipIfSystemRuntime(t)
	_, err := Locate(context.Background(), RuntimeOptions{CacheDir: t.TempDir(), Offline: true})
	if !errors.Is(err, ErrRuntimeNotFound) || !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), DefaultPin.Version) {
		t.Fatalf("err = %v, want ErrRuntimeNotFound and ErrOffline naming the pinned version", err)
	}
}

func TestLocateOtherPlatformSaysWhy(t *testing.T) {
	skipIfSystemRuntime(t)
	_, pin := fakeTarball(t, "package/lib/libfake.so.1", []byte("x"))
	pin.GOOS = "plan9"
	_, err := Locate(context.Background(), RuntimeOptions{CacheDir: t.TempDir(), Pin: &pin, BaseURL: "http://127.0.0.1:1"})
	if !errors.Is(err, ErrRuntimeNotFound) || !strings.Contains(err.Error(), "plan9") {
		t.Fatalf("err = %v, want ErrRuntimeNotFound naming the pinned platform", err)
	}
}

func TestLocateExplicitFolder(t *testing.T) {
	rt := testRuntime(t)
	dir := t.TempDir()
	lib, err := os.ReadFile(rt.Path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "libonnxruntime.so.1"), lib, 0o755)
	got, err := Locate(context.Background(), RuntimeOptions{Library: dir})
	if err != nil || got.Path != filepath.Join(dir, "libonnxruntime.so.1") || got.Source != SourceExplicit || got.Version != rt.Version {
		t.Fatalf("Locate(folder) = %+v, %v", got, err)
	}
}

func TestLocateExplicitRefusesNonLibrary(t *testing.T) {
	p := filepath.Join(t.TempDir(), "libonnxruntime.so")
	os.WriteFile(p, []byte("not elf"), 0o644)
	if _, err := Locate(context.Background(), RuntimeOptions{Library: p}); !errors.Is(err, ErrRuntimeLibrary) {
		t.Fatalf("a non-library: %v, want ErrRuntimeLibrary", err)
	}
	if _, err := Locate(context.Background(), RuntimeOptions{Library: p + ".missing"}); !errors.Is(err, ErrRuntimeLibrary) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing file: %v, want ErrRuntimeLibrary and fs.ErrNotExist", err)
	}
}

// TestLocateDownloadThenCache goes through Locate's whole path with a real
// library served from a local server: download, verify, load the version,
// then find it in the cache without the server.
func TestLocateDownloadThenCache(t *testing.T) {
	skipIfSystemRuntime(t)
	rt := testRuntime(t)
	lib, err := os.ReadFile(rt.Path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression) // 35 MB: keep it quick
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "package/lib/libonnxruntime.so.1", Mode: 0o755, Size: int64(len(lib)), Typeflag: tar.TypeReg})
	tw.Write(lib)
	tw.Close()
	gz.Close()
	whole, part := sha256.Sum256(buf.Bytes()), sha256.Sum256(lib)
	pin := Pin{Version: "test", Path: "/lib.tgz", Size: int64(buf.Len()), SHA256: hex.EncodeToString(whole[:]),
		Member: "package/lib/libonnxruntime.so.1", MemberSize: int64(len(lib)), MemberSHA256: hex.EncodeToString(part[:]),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	srv, hits := serve(t, pin.Path, buf.Bytes())
	cache := t.TempDir()

	got, err := Locate(context.Background(), RuntimeOptions{CacheDir: cache, BaseURL: srv.URL, Pin: &pin})
	if err != nil {
		t.Fatal(err)
	}
	if got.Source != SourceDownload || got.Version != rt.Version || got.Path != pin.cachePath(cache) {
		t.Fatalf("first Locate = %+v, want a download of version %s into %s", got, rt.Version, pin.cachePath(cache))
	}
	srv.Close()
	got, err = Locate(context.Background(), RuntimeOptions{CacheDir: cache, BaseURL: srv.URL, Pin: &pin, Offline: true})
	if err != nil || got.Source != SourceCache {
		t.Fatalf("second Locate = %+v, %v; want the cached library", got, err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d downloads, want 1", hits.Load())
	}
}

func TestVersionAtLeast(t *testing.T) {
	cases := []struct {
		v, min string
		want   bool
	}{
		{"1.24.3", "1.24.0", true}, {"1.24.0", "1.24.0", true}, {"1.23.2", "1.24.0", false},
		{"2.0.0", "1.24.0", true}, {"1.3.0", "1.24.0", false}, {"1.25.0-dev", "1.24.0", true}, {"", "1.24.0", false},
	}
	for _, c := range cases {
		if got := versionAtLeast(c.v, c.min); got != c.want {
			t.Errorf("versionAtLeast(%q, %q) = %v", c.v, c.min, got)
		}
	}
}
