package download

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in           string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes */200", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"", 0, 0, false},
	} {
		s, tot, ok := parseContentRange(tc.in)
		if ok != tc.ok || (ok && (s != tc.start || tot != tc.total)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tc.in, s, tot, ok)
		}
	}
}

// TestUnreachableFailsAtOnce: a refused connection and a name that does
// not resolve are not retried (the retries would take seconds here).
func TestUnreachableFailsAtOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/f"
	l.Close() // nothing listens there now
	o := Options{Retries: 5, Backoff: time.Second}
	for _, url := range []string{refused, "http://no-such-host.invalid/f"} {
		start := time.Now()
		_, _, err := Fetch(context.Background(), url, filepath.Join(t.TempDir(), "p"), 0, "", o)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), url) {
			t.Errorf("%s: err = %v; want ErrUnreachable naming the URL", url, err)
		}
		if d := time.Since(start); d > 900*time.Millisecond {
			t.Errorf("%s: gave up after %v; want no retry (the first back-off is 1 s)", url, d)
		}
	}
}

// TestRetriesResumeAndVerify: a transfer cut short is resumed with a Range
// request, and the whole is checked against the expected digest.
func TestRetriesResumeAndVerify(t *testing.T) {
	body := []byte(strings.Repeat("0123456789", 10000))
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 { // the first transfer breaks off half-way
			w.Header().Set("Content-Length", "100000")
			w.Write(body[:50000])
			return
		}
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(body)))
	}))
	defer srv.Close()
	partial := filepath.Join(t.TempDir(), "p")
	want := "ab5f9a6b5b1b8a7ae9b5b18c6e9b4f5c1fde0c3b9e1c5b0a0e4d0b3d7b1b2a3c" // wrong on purpose first
	o := Options{Retries: 3, Backoff: time.Millisecond}
	if _, _, err := Fetch(context.Background(), srv.URL, partial, int64(len(body)), want, o); !errors.Is(err, ErrChecksum) {
		t.Fatalf("wrong digest: err = %v; want ErrChecksum", err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("corrupt download kept: %v", err)
	}
	calls.Store(0)
	n, sum, err := Fetch(context.Background(), srv.URL, partial, int64(len(body)), "", o)
	if err != nil || n != int64(len(body)) || calls.Load() != 2 {
		t.Fatalf("Fetch = %d, %v after %d calls; want %d bytes in 2 calls", n, err, calls.Load(), len(body))
	}
	got, _ := os.ReadFile(partial)
	if string(got) != string(body) || sum == "" {
		t.Errorf("resumed file differs from the body")
	}
}
