package infer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/internal/inputfile"
	"github.com/embedsearch/embedsearch/internal/testenv"
)

func TestPinFor(t *testing.T) {
	for _, c := range []struct{ goos, goarch, member string }{
		{"linux", "amd64", "package/bin/napi-v6/linux/x64/libonnxruntime.so.1"},
		{"linux", "arm64", "package/bin/napi-v6/linux/arm64/libonnxruntime.so.1"},
		{"darwin", "arm64", "package/bin/napi-v6/darwin/arm64/libonnxruntime.1.24.3.dylib"},
		{"darwin", "amd64", "package/bin/napi-v6/linux/x64/libonnxruntime.so.1"}, // none: linux/amd64's, refused by platformOK
	} {
		if p := PinFor(c.goos, c.goarch); p.Member != c.member {
			t.Errorf("PinFor(%s, %s).Member = %s, want %s", c.goos, c.goarch, p.Member, c.member)
		}
	}
	mac := PinFor("darwin", "arm64")
	if got := filepath.Base(mac.cachePath("/c")); got != "libonnxruntime.1.24.3.dylib" {
		t.Errorf("macOS cache name %s", got)
	}
}

// Every pinned member is in the onnxruntime-node package that scripts/test.sh
// installs for the cross-check (the same tarball, checked by npm against its
// lock file), with the pinned size and SHA-256.
func TestPinsMatchTheNpmPackage(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "bench", "crosscheck", "node_modules", "onnxruntime-node")
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Skipf("onnxruntime-node not installed (scripts/test.sh runs npm ci in bench/crosscheck): %v", err)
	}
	if !strings.Contains(string(b), `"version": "`+DefaultPin.Version+`"`) {
		t.Skipf("bench/crosscheck has another onnxruntime-node than %s", DefaultPin.Version)
	}
	for _, p := range Pins {
		path := filepath.Join(dir, strings.TrimPrefix(p.Member, "package/"))
		sum, fi, err := inputfile.SHA256(context.Background(), path, inputfile.Options{MaxSize: -1})
		if err != nil {
			t.Errorf("%s/%s: %v", p.GOOS, p.GOARCH, err)
			continue
		}
		if fi.Size() != p.MemberSize || sum != p.MemberSHA256 {
			t.Errorf("%s/%s: %s is %d bytes, sha256 %s; pinned %d, %s", p.GOOS, p.GOARCH, path, fi.Size(), sum, p.MemberSize, p.MemberSHA256)
		}
	}
}
