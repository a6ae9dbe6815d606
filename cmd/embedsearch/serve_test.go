package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/collection"
	"github.com/embedsearch/embedsearch/internal/testenv"
	"github.com/embedsearch/embedsearch/store"
)

// startServe runs 'embedsearch serve ARGS' until the test ends and returns
// the URL it printed and its stderr.
func startServe(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"embedsearch", "serve"}, args...), &bytes.Buffer{}, &stderr) }()
	t.Cleanup(func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`at (http://\S+) `).FindStringSubmatch(stderr.String()); m != nil {
			return m[1], &stderr
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
	}
	t.Fatalf("serve did not start: %s", stderr.String())
	return "", nil
}

func getWithHost(t *testing.T, url, host, auth string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeLoopbackHosts: on loopback no token is needed, and only the
// server's own host names are answered (DNS rebinding).
func TestServeLoopbackHosts(t *testing.T) {
	url, _ := startServe(t, "--store", filepath.Join(t.TempDir(), "store"), "--addr", "127.0.0.1:0")
	if strings.Contains(url, "token") {
		t.Fatalf("a token on loopback: %s", url)
	}
	_, port, _ := net.SplitHostPort(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	for host, want := range map[string]int{"": 200, "localhost:" + port: 200, "evil.example:" + port: http.StatusMisdirectedRequest, "127.0.0.1:1": http.StatusMisdirectedRequest} {
		if got := getWithHost(t, url+"api/status", host, ""); got != want {
			t.Errorf("Host %q: %d; want %d", host, got, want)
		}
	}
}

// TestServeTokenOffLoopback: bound to every address, serve warns and
// makes up a token that every request must carry.
func TestServeTokenOffLoopback(t *testing.T) {
	url, stderr := startServe(t, "--store", filepath.Join(t.TempDir(), "store"), "--addr", "0.0.0.0:0")
	m := regexp.MustCompile(`^(http://[^/]+/)\?token=([0-9a-f]{32})$`).FindStringSubmatch(url)
	if m == nil || !strings.Contains(stderr.String(), "warning: serving on") {
		t.Fatalf("url %q, stderr %s", url, stderr.String())
	}
	base := strings.Replace(m[1], "0.0.0.0", "127.0.0.1", 1)
	if got := getWithHost(t, base+"api/status", "", ""); got != http.StatusUnauthorized {
		t.Errorf("no token: %d", got)
	}
	if got := getWithHost(t, base+"api/status", "", m[2]); got != 200 {
		t.Errorf("with the token: %d", got)
	}
	url2, _ := startServe(t, "--store", filepath.Join(t.TempDir(), "store"), "--addr", "0.0.0.0:0", "--token", "mine")
	if !strings.HasSuffix(url2, "?token=mine") {
		t.Errorf("--token: %s", url2)
	}
}

func TestServeRefusesBadArgs(t *testing.T) {
	if code, _, errs := runCLI(t, "serve", "--store", t.TempDir(), "--addr", "127.0.0.1:0", filepath.Join(t.TempDir(), "nope")); code != 2 || !strings.Contains(errs, "nope") {
		t.Errorf("missing DIR: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "serve", "--store", t.TempDir(), "--addr", "127.0.0.1:99999"); code != 1 || !strings.Contains(errs, "--addr") {
		t.Errorf("bad address: %d %s", code, errs)
	}
}

// TestDedupHonoursNotDuplicates: a pair marked "not duplicates" (on
// serve's duplicates page) is never grouped by the CLI's dedup either.
func TestDedupHonoursNotDuplicates(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	// The fixture's entries get their content hashes, as index keeps them.
	r, err := store.Open(f.storeDir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.OpenWriter(f.storeDir, r.Model(), store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hash := map[string]string{}
	for id := range r.Len() {
		e := r.Entry(id)
		sum := testenv.FileSums(t, filepath.Dir(e.Path))[e.Path]
		e.SHA256, hash[e.Path] = sum, sum
		if err := w.Put(e, r.Vector(id)); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	groups := func() (n int, two bool) {
		_, out, errs := f.run(t, "--json")
		var d dedupOut
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%v: %s %s", err, out, errs)
		}
		for _, g := range d.Groups {
			two = two || strings.Contains(g.Keep, "two")
		}
		return len(d.Groups), two
	}
	if n, two := groups(); n != 2 || !two {
		t.Fatalf("before marking: %d groups (two: %v)", n, two)
	}
	if _, err := collection.MarkNotDuplicates(context.Background(), f.storeDir, hash[f.paths["a/two.jpg"]], hash[f.paths["b/two.jpg"]]); err != nil {
		t.Fatal(err)
	}
	if n, two := groups(); n != 1 || two {
		t.Fatalf("after marking a/two and b/two: %d groups (two: %v); want only the other", n, two)
	}
}
