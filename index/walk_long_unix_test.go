//go:build unix

package index

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWalkReportsPathsTooLong: a folder whose path is longer than the
// system allows cannot be looked at; the walk reports it (and sweeps
// nothing under it) instead of skipping it silently.
func TestWalkReportsPathsTooLong(t *testing.T) {
	root := t.TempDir()
	// Built with *at calls: each step is short, the whole path is not.
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("d", 200)
	depth := 0
	for ; len(root)+depth*(len(name)+1) < 5000; depth++ {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	img, err := unix.Openat(fd, "deep.jpg", unix.O_CREAT|unix.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(img)
	unix.Close(fd)
	t.Cleanup(func() { removeDeep(root, name, depth) })

	var failures []Failure
	var files []string
	Walk(context.Background(), root, WalkOptions{},
		func(p string, _ fs.FileInfo) bool { files = append(files, p); return true },
		func(p string, err error) { failures = append(failures, Failure{p, err}) })
	if len(failures) == 0 {
		t.Fatalf("walk of a tree deeper than PATH_MAX reported nothing (files %d)", len(files))
	}
	f := failures[0]
	if !strings.Contains(f.Err.Error(), syscall.ENAMETOOLONG.Error()) {
		t.Errorf("failure %s: %v; want %q", filepath.Base(f.Path), f.Err, syscall.ENAMETOOLONG)
	}
}

// removeDeep removes what os.RemoveAll cannot reach by path.
func removeDeep(root, name string, depth int) {
	fds := []int{}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	for i := 0; err == nil && i < depth; i++ {
		fds = append(fds, fd)
		fd, err = unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	}
	if err == nil {
		unix.Unlinkat(fd, "deep.jpg", 0)
		unix.Close(fd)
	}
	for i := len(fds) - 1; i >= 0; i-- {
		unix.Unlinkat(fds[i], name, unix.AT_REMOVEDIR)
		unix.Close(fds[i])
	}
}
