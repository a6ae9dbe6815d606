package inputfile

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// within fails the test if f does not return within d: the defects these
// tests guard against are hangs.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
	}
}

func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.jpg")
	testenv.Mkfifo(t, fifo)
	sock := filepath.Join(dir, "s.jpg")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	img := filepath.Join(dir, "a.jpg")
	os.WriteFile(img, []byte("jpeg bytes"), 0o644)
	link := filepath.Join(dir, "link.jpg")
	if err := os.Symlink(img, link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		follow     bool
		kind       string // in the message; "" = accepted
	}{
		{"fifo", fifo, true, "named pipe"},
		{"socket", sock, true, "socket"},
		{"device", "/dev/zero", true, "character device"},
		{"directory", dir, true, "directory"},
		{"link not followed", link, false, "symbolic link"},
		{"link followed", link, true, ""},
		{"regular", img, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			within(t, 5*time.Second, func() {
				data, _, err := ReadAll(context.Background(), c.path, Options{FollowLinks: c.follow})
				if c.kind == "" {
					if err != nil || string(data) != "jpeg bytes" {
						t.Errorf("ReadAll = %q, %v; want the file's bytes", data, err)
					}
					return
				}
				if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), c.kind) {
					t.Errorf("ReadAll error = %v; want ErrNotRegular naming %q", err, c.kind)
				}
				_, _, err = SHA256(context.Background(), c.path, Options{FollowLinks: c.follow})
				if !errors.Is(err, ErrNotRegular) {
					t.Errorf("SHA256 error = %v; want ErrNotRegular", err)
				}
			})
		})
	}
}

func TestOpenRefusesLargeFilesBeforeReading(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.jpg")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 8 GiB of holes costs no disk.
	if err := f.Truncate(8 << 30); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	f.Close()
	within(t, 2*time.Second, func() {
		_, _, err := SHA256(context.Background(), big, Options{})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "8 GiB") || !strings.Contains(err.Error(), "1 GiB") {
			t.Errorf("error = %v; want ErrTooLarge naming 8 GiB and the 1 GiB limit", err)
		}
	})
	_, _, err = Open(big, Options{MaxSize: 9 << 30})
	if err != nil {
		t.Errorf("with a 9 GiB limit: %v", err)
	}
}

func TestHashAndReadStopWhenCancelled(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.jpg")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil {
		t.Skipf("sparse file: %v", err)
	}
	f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	within(t, 3*time.Second, func() {
		_, _, err := SHA256(ctx, big, Options{MaxSize: -1})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SHA256 = %v; want context.Canceled", err)
		}
	})
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, _, err = ReadAll(ctx, big, Options{MaxSize: -1})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAll = %v; want context.Canceled", err)
	}
}

func TestSHA256MatchesBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a")
	data := []byte(strings.Repeat("embedsearch", 300000)) // more than one chunk
	os.WriteFile(p, data, 0o644)
	sum, fi, err := SHA256(context.Background(), p, Options{})
	if err != nil || sum != SHA256Bytes(data) || fi.Size() != int64(len(data)) {
		t.Fatalf("SHA256 = %s, %v; want %s", sum, err, SHA256Bytes(data))
	}
	if got := SHA256Bytes(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("SHA256Bytes(nil) = %s", got)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{17: "17 B", 1 << 10: "1 KiB", 1536: "1.5 KiB", 1 << 30: "1 GiB", 8 << 30: "8 GiB", 320 << 20: "320 MiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
