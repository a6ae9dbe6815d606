package main

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/embedsearch/embedsearch/copies"
	"github.com/embedsearch/embedsearch/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// chromiumOrSkip finds Debian's chromium; without it the test skips,
// except under CI=true, where a missing browser is a failure.
func chromiumOrSkip(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH: scripts/test.sh installs it (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: the browser test needs Debian's chromium (apt-get install chromium; scripts/test.sh does it as root)")
	return ""
}

// TestServeInBrowser drives the pages in a real browser: a folder of
// photos with copies made by package copies is indexed with the built-in
// model; on the search page an upload (another copy, not in the folder)
// finds its photo's family first; on the duplicates page the group's
// copies are trashed, leave the folder, and the undo button brings them
// back byte for byte; the key "n" marks the group "not duplicates", and
// neither the page nor dedup proposes it again. Screenshots go to
// $EMBEDSEARCH_SCREENSHOTS (else the test's temporary folder).
func TestServeInBrowser(t *testing.T) {
	browser := chromiumOrSkip(t)
	tmp := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(tmp, "data")) // the trash
	photos, sdir := filepath.Join(tmp, "photos"), filepath.Join(tmp, "store")
	src := filepath.Join(testenv.RepoRoot(t), "testdata", "photos")
	for _, n := range []string{"coffee", "astronaut", "cat", "clock", "coins", "rocket", "brick-wall", "retina", "cell", "photographer"} {
		b, err := os.ReadFile(filepath.Join(src, n+".jpg"))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(photos, 0o755)
		if err := os.WriteFile(filepath.Join(photos, n+".jpg"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.Open(filepath.Join(src, "coffee.jpg"))
	coffee, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	makeCopy := func(img image.Image, edit, path string) {
		e, _ := copies.Lookup(edit)
		b, _, err := copies.Make(img, e)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	makeCopy(coffee, "half", filepath.Join(photos, "copies", "coffee-half.jpg"))
	makeCopy(coffee, "jpeg-q50", filepath.Join(photos, "copies", "coffee-q50.jpg"))
	query := filepath.Join(tmp, "upload", "coffee-q20.jpg")
	makeCopy(coffee, "jpeg-q20", query)
	if code, _, errs := embedCLI(t, "", "index", "--store", sdir, photos); code != 0 {
		t.Fatalf("index: %d %s", code, errs)
	}
	before := testenv.FileSums(t, photos)

	ctx, stop := context.WithCancel(context.Background())
	var stderr syncBuffer
	served := make(chan int, 1)
	go func() {
		served <- run(ctx, []string{"embedsearch", "serve", "--store", sdir, "--addr", "127.0.0.1:0"}, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		stop()
		if code := <-served; code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	}()
	url := ""
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`at (http://\S+) `).FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("serve did not start: %s", stderr.String())
	}

	shots := os.Getenv("EMBEDSEARCH_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.WindowSize(1200, 760))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	defer cancelTimeout()
	shot := func(name string) {
		t.Helper()
		// The thumbnails in view have loaded.
		chromedp.Run(bctx, chromedp.Poll[bool](`[...document.images].every(i => i.complete && i.naturalWidth > 0 || i.getBoundingClientRect().top > innerHeight)`,
			chromedp.WithPollingTimeout(10*time.Second)))
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		os.WriteFile(filepath.Join(shots, name), png, 0o644)
		t.Logf("screenshot %s", filepath.Join(shots, name))
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	text := func(sel string) string {
		s, _ := chromedp.Run(bctx, chromedp.TextContent(css(sel)))
		return s
	}

	// Search: upload a copy; its family comes first.
	err = chromedp.Do(bctx,
		chromedp.Navigate(url),
		chromedp.WaitReady(css(`body[data-ready="1"]`)),
		chromedp.SetUploadFiles(css(`#file`), []string{query}, chromedp.NodeReady),
		chromedp.WaitVisible(css(`#results .card`)),
	)
	if err != nil {
		t.Fatalf("search page: %v (server: %s)", err, stderr.String())
	}
	first, err := chromedp.Run(bctx, chromedp.AttributeValue(css(`#results .card`), "data-path"))
	if err != nil || !strings.Contains(filepath.Base(first.Value), "coffee") {
		t.Fatalf("the upload's first result is %q (%v); want coffee or one of its copies (%s)", first.Value, err, text("#msg"))
	}
	shot("serve-search.png")

	// Duplicates: the coffee group; trash its copies; they leave the folder.
	err = chromedp.Do(bctx,
		chromedp.Navigate(strings.TrimSuffix(url, "/")+"/dups"),
		chromedp.WaitVisible(css(`.group .card`)),
	)
	if err != nil {
		t.Fatalf("duplicates page: %v", err)
	}
	acted, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".card.act")].map(c => c.dataset.path)`))
	groups, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll(".group").length`))
	if err != nil || groups != 1 || len(acted) != 2 {
		t.Fatalf("%d groups, %d to act on (%v, %v); want the coffee group with 2 copies to act on", groups, len(acted), acted, err)
	}
	for _, p := range acted {
		if !strings.Contains(p, "coffee") {
			t.Fatalf("would act on %s", p)
		}
	}
	shot("serve-dups.png")
	err = chromedp.Do(bctx,
		chromedp.SetValue(css(`#op`), "trash"),
		chromedp.Click(css(`#apply`)),
		chromedp.WaitVisible(css(`#confirm`)),
		chromedp.Click(css(`#confirm`)),
	)
	if err == nil {
		_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector("#msg").textContent.startsWith("Done")`))
	}
	if err != nil {
		t.Fatalf("apply: %v (%s)", err, text("#msg"))
	}
	for _, p := range acted {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still in the folder after trash (%s)", p, text("#msg"))
		}
	}
	if got := testenv.FileSums(t, photos); len(got) != len(before)-2 {
		t.Errorf("after trash the folder holds %d files; want %d", len(got), len(before)-2)
	}

	// Undo: the files come back byte for byte.
	err = chromedp.Do(bctx, chromedp.Click(css(`#undo`)))
	if err == nil {
		_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector("#msg").textContent.startsWith("Undone")`))
	}
	if err != nil {
		t.Fatalf("undo: %v (%s)", err, text("#msg"))
	}
	after := testenv.FileSums(t, photos)
	if len(after) != len(before) {
		t.Fatalf("after undo %d files; want %d (%s)", len(after), len(before), text("#msg"))
	}
	for p, sum := range before {
		if after[p] != sum {
			t.Errorf("%s differs after undo", p)
		}
	}

	// The keyboard's "n": the group is marked "not duplicates" and is not
	// proposed again, on the page or by dedup.
	err = chromedp.Do(bctx, chromedp.KeyEvent("n"))
	if err == nil {
		_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelectorAll(".group").length === 0`))
	}
	if err != nil {
		t.Fatalf("not duplicates: %v (%s)", err, text("#msg"))
	}
	if code, out, errs := embedCLI(t, "", "dedup", "--store", sdir, "--json"); code != 0 || !strings.Contains(out, `"groups": []`) {
		t.Errorf("dedup after the mark: %d %s %s", code, out, errs)
	}

	// Status: "index now" runs the index of the store's folder, with its
	// progress streamed; a new photo is found.
	b, _ := os.ReadFile(filepath.Join(src, "clock.jpg"))
	os.WriteFile(filepath.Join(photos, "clock-again.jpg"), append(b[:len(b):len(b)], 0), 0o644)
	err = chromedp.Do(bctx,
		chromedp.Navigate(strings.TrimSuffix(url, "/")+"/status"),
		chromedp.WaitReady(css(`body[data-ready="1"]`)),
		chromedp.Click(css(`#index`)),
	)
	if err == nil {
		_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector("#summary").textContent !== ""`, chromedp.WithPollingTimeout(60*time.Second)))
	}
	if sum := text("#summary"); err != nil || !strings.Contains(sum, "scanned 13, new 1") || text("#msg") != "" {
		t.Fatalf("index now: %v; summary %q, message %q", err, sum, text("#msg"))
	}
}
