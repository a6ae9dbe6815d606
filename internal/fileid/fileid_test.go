package fileid

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOfTellsFilesApartAndLinksTogether(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no device and inode numbers in a Windows FileInfo")
	}
	dir := t.TempDir()
	a, b, link := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "link")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(a, link); err != nil {
		t.Fatal(err)
	}
	id := func(p string) [2]uint64 {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		dev, ino, ok := Of(fi)
		if !ok {
			t.Fatalf("Of(%s): no id", p)
		}
		return [2]uint64{dev, ino}
	}
	if id(a) != id(link) {
		t.Errorf("a hard link has another id: %v %v", id(a), id(link))
	}
	if id(a) == id(b) {
		t.Errorf("two files have one id: %v", id(a))
	}
	if id(a)[0] != id(b)[0] {
		t.Errorf("two files of one folder on two devices: %v %v", id(a), id(b))
	}
	fi, _ := os.Stat(a)
	if uid, ok := Owner(fi); !ok || uid != os.Getuid() {
		t.Errorf("Owner = %d, %v; want %d", uid, ok, os.Getuid())
	}
}
