package index

import (
	"os"
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

	w := &walker{o: &Options{}, seen: map[string]bool{}, visited: map[[2]uint64]bool{}}
	info, _ := os.Stat(root)
	w.walkDir(root, info)
	if len(w.failures) == 0 {
		t.Fatalf("walk of a tree deeper than PATH_MAX reported nothing (files %d)", len(w.files))
	}
	f := w.failures[0]
	if !strings.Contains(f.Err.Error(), syscall.ENAMETOOLONG.Error()) || len(w.unreadable) == 0 {
		t.Errorf("failure %s: %v (unreadable %d); want %q and the folder kept from sweeping", filepath.Base(f.Path), f.Err, len(w.unreadable), syscall.ENAMETOOLONG)
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
