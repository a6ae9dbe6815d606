package infer

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A machine without a C compiler builds embedsearch without cgo (Go turns
// cgo off when it finds none); such a build must say what to do instead of
// failing to build ("build constraints exclude all Go files"). The parent
// runs this package's TestLocateWithoutCgo in a build with CGO_ENABLED=0.
func TestBuildWithoutCgo(t *testing.T) {
	if !cgoEnabled {
		t.Skip("this is the build without cgo")
	}
	if testing.Short() {
		t.Skip("compiles the package again without cgo: not with -short")
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestLocateWithoutCgo$", "-v", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestLocateWithoutCgo") {
		t.Fatalf("go test without cgo: %v\n%s", err, out)
	}
}

func TestLocateWithoutCgo(t *testing.T) {
	if cgoEnabled {
		t.Skip("run by TestBuildWithoutCgo in a build without cgo")
	}
	// No search and no download: the library could not be loaded anyway.
	_, err := LoadRuntime(context.Background(), RuntimeOptions{CacheDir: t.TempDir(), BaseURL: "http://127.0.0.1:1"})
	if !errors.Is(err, ErrNoCgo) || err.Error() != "built without cgo: install a C compiler (gcc) and rebuild" {
		t.Fatalf("LoadRuntime: %v, want ErrNoCgo", err)
	}
}
