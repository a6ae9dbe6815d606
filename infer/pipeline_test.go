package infer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/inputfile"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// writeImages writes n different small images (PNG and JPEG, assorted
// sizes) into dir and returns their paths.
func writeImages(t testing.TB, dir string, n int) []string {
	t.Helper()
	var paths []string
	for i := 0; i < n; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 99))
		w, h := 24+r.IntN(60), 24+r.IntN(60)
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		c1 := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		c2 := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
		cx, cy, rad := r.IntN(w), r.IntN(h), 5+r.IntN(20)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) < rad*rad {
					img.Set(x, y, c2)
				} else {
					img.Set(x, y, c1)
				}
			}
		}
		var buf bytes.Buffer
		name := fmt.Sprintf("img%03d.png", i)
		if i%3 == 1 {
			name = fmt.Sprintf("img%03d.jpg", i)
			jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		} else {
			png.Encode(&buf, img)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func feed(paths []string) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		for _, p := range paths {
			ch <- p
		}
	}()
	return ch
}

func collect(t *testing.T, e *Encoder, paths []string) []Item {
	t.Helper()
	var items []Item
	err := e.Embed(context.Background(), feed(paths), func(it Item) error {
		items = append(items, it)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestEmbedOrderErrorsAndVectors(t *testing.T) {
	dir := t.TempDir()
	good := writeImages(t, dir, 23)
	corrupt := filepath.Join(dir, "corrupt.png")
	data, _ := os.ReadFile(good[0])
	os.WriteFile(corrupt, data[:len(data)/2], 0o644)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not an image"), 0o644)
	missing := filepath.Join(dir, "missing.png")

	var paths []string
	bad := map[string]bool{corrupt: true, text: true, missing: true, dir: true}
	for i, p := range good {
		paths = append(paths, p)
		switch i {
		case 2:
			paths = append(paths, corrupt)
		case 9:
			paths = append(paths, text, missing)
		case 15:
			paths = append(paths, dir)
		}
	}

	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: 4, Workers: 3})
	items := collect(t, e, paths)
	if len(items) != len(paths) {
		t.Fatalf("%d items for %d paths", len(items), len(paths))
	}
	for i, it := range items {
		if it.Index != i || it.Path != paths[i] {
			t.Fatalf("item %d is (%d, %s), want (%d, %s)", i, it.Index, it.Path, i, paths[i])
		}
		if bad[it.Path] {
			if it.Err == nil || it.Vector != nil {
				t.Errorf("%s: err %v, vector %v; want a per-file error", it.Path, it.Err, it.Vector != nil)
			}
			continue
		}
		if it.Err != nil {
			t.Errorf("%s: %v", it.Path, it.Err)
			continue
		}
		data, _ := os.ReadFile(it.Path)
		sum := sha256.Sum256(data)
		if it.Size != int64(len(data)) || it.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: size %d sha %s", it.Path, it.Size, it.SHA256)
		}
		want, info, err := e.EmbedBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		if it.Info.Width != info.Width || it.Info.Format != info.Format || info.Width == 0 {
			t.Errorf("%s: info %+v, want %+v", it.Path, it.Info, info)
		}
		if d := maxAbsDiff(it.Vector, want); d > 1e-6 {
			t.Errorf("%s: pipeline vs EmbedBytes max abs diff %g", it.Path, d)
		}
	}
}

// TestEmbedIndependentOfBatch: the same files embedded one per inference
// call and eight per call give the same vectors.
func TestEmbedIndependentOfBatch(t *testing.T) {
	paths := writeImages(t, t.TempDir(), 19)
	one := collect(t, newTestEncoder(t, "tiny", EncoderOptions{Batch: 1}), paths)
	eight := collect(t, newTestEncoder(t, "tiny", EncoderOptions{Batch: 8, Workers: 4}), paths)
	fixed := collect(t, newTestEncoder(t, "tiny-fixed", EncoderOptions{}), paths)
	for i := range paths {
		if d := maxAbsDiff(one[i].Vector, eight[i].Vector); d > 1e-6 {
			t.Errorf("%s: batch 1 vs 8: max abs diff %g", paths[i], d)
		}
		if d := maxAbsDiff(one[i].Vector, fixed[i].Vector); d > 1e-6 {
			t.Errorf("%s: dynamic vs fixed-batch model: max abs diff %g", paths[i], d)
		}
	}
}

// TestEmbedSlowInput: a partial batch is run when no more input is coming
// yet, so a caller that waits for each result before sending the next path
// is not stuck waiting for a full batch.
func TestEmbedSlowInput(t *testing.T) {
	paths := writeImages(t, t.TempDir(), 4)
	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: 16})
	in := make(chan string)
	got := make(chan Item)
	done := make(chan error, 1)
	go func() { done <- e.Embed(context.Background(), in, func(it Item) error { got <- it; return nil }) }()
	for i, p := range paths {
		in <- p
		select {
		case it := <-got:
			if it.Index != i || it.Err != nil {
				t.Fatalf("item %+v", it)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no result for %s while the input waits", p)
		}
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestEmbedBoundedReadAhead: while emit is blocked, the pipeline takes only
// a bounded number of paths from the input.
func TestEmbedBoundedReadAhead(t *testing.T) {
	paths := writeImages(t, t.TempDir(), 3)
	const batch, workers = 2, 2
	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: batch, Workers: workers})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := make(chan string)
	var taken atomic.Int64
	go func() {
		for i := 0; ; i++ {
			select {
			case in <- paths[i%len(paths)]:
				taken.Add(1)
			case <-ctx.Done():
				return
			}
		}
	}()
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- e.Embed(ctx, in, func(Item) error { <-release; return nil })
	}()
	// Wait until the count stops moving.
	last := int64(-1)
	for last != taken.Load() {
		last = taken.Load()
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("took %d paths while emit was blocked", last)
	// queue (2*batch+workers) + one batch in emit + the path in hand
	if bound := int64(3*batch + workers + 1); last > bound {
		t.Errorf("took %d paths while emit was blocked, want at most %d", last, bound)
	}
	if last < batch {
		t.Errorf("took only %d paths", last)
	}
	cancel()
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Embed after cancel: %v", err)
	}
}

// TestEmbedCancel: cancelling the context stops an endless stream promptly
// and leaves no goroutine behind.
func TestEmbedCancel(t *testing.T) {
	paths := writeImages(t, t.TempDir(), 5)
	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: 4, Workers: 3})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan string)
	producerDone := make(chan struct{})
	go func() {
		defer close(producerDone)
		for i := 0; ; i++ {
			select {
			case in <- paths[i%len(paths)]:
			case <-ctx.Done():
				return
			}
		}
	}()
	var emitted atomic.Int64
	var stoppedAt time.Time
	err := e.Embed(ctx, in, func(it Item) error {
		if it.Index != int(emitted.Load()) {
			t.Errorf("item %d emitted as number %d", it.Index, emitted.Load())
		}
		if emitted.Add(1) == 30 {
			cancel()
			stoppedAt = time.Now()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(stoppedAt); d > 5*time.Second {
		t.Errorf("Embed took %v to stop", d)
	}
	<-producerDone
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Embed, %d before", n, before)
	}
}

func TestEmbedEmitErrorStops(t *testing.T) {
	paths := writeImages(t, t.TempDir(), 12)
	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: 2})
	stop := errors.New("stop here")
	var calls int
	in := make(chan string)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for _, p := range paths {
			select {
			case in <- p:
			case <-ctx.Done():
				return
			}
		}
		close(in)
	}()
	err := e.Embed(ctx, in, func(it Item) error {
		calls++
		if it.Index == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 5 {
		t.Fatalf("err = %v after %d calls; want the emit error after 5", err, calls)
	}
}

// TestEmbedRealImages runs the pipeline over real photos when the shared
// data is present.
func TestEmbedRealImages(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "..", "shared", "data", "caltech101-neardup")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data not found at %s", dir)
	}
	var paths []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".jpg" && len(paths) < 40 {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) == 0 {
		t.Skipf("no .jpg files under %s", dir)
	}
	e := newTestEncoder(t, "tiny", EncoderOptions{Batch: 8})
	for _, it := range collect(t, e, paths) {
		if it.Err != nil {
			t.Errorf("%s: %v", it.Path, it.Err)
			continue
		}
		data, _ := os.ReadFile(it.Path)
		want, _, err := e.EmbedBytes(data)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(it.Vector, want); d > 1e-6 {
			t.Errorf("%s: pipeline vs alone max abs diff %g", it.Path, d)
		}
	}
}

// TestEmbedRefusesHugeFile: a file larger than any image within the pixel
// cap can be is refused before it is read.
func TestEmbedRefusesHugeFile(t *testing.T) {
	dir := t.TempDir()
	good := writeImages(t, dir, 1)[0]
	huge := filepath.Join(dir, "huge.png")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(40 << 20) // sparse: costs no disk
	f.Close()
	e := newTestEncoder(t, "tiny", EncoderOptions{Limits: preprocess.Limits{MaxPixels: 1_000_000}})
	items := collect(t, e, []string{huge, good})
	if !errors.Is(items[0].Err, preprocess.ErrTooLarge) || items[0].Size != 0 {
		t.Errorf("40 MB file with a 1 MP cap: err %v, size %d; want ErrTooLarge before reading", items[0].Err, items[0].Size)
	}
	if items[1].Err != nil {
		t.Errorf("%s: %v", good, items[1].Err)
	}
}

// TestEmbedRefusesNonRegularFiles: a FIFO, a device and a directory are
// each refused at once with inputfile.ErrNotRegular, a link to an image is
// read, and the run goes on with the next file. Before the one opener, the
// FIFO blocked open(2) forever.
func TestEmbedRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeImages(t, dir, 1)[0]
	fifo := filepath.Join(dir, "fifo.jpg")
	testenv.Mkfifo(t, fifo)
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	e := newTestEncoder(t, "tiny", EncoderOptions{})
	done := make(chan []Item)
	go func() { done <- collect(t, e, []string{fifo, "/dev/zero", dir, link, good}) }()
	var items []Item
	select {
	case items = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Embed still running after 20 s")
	}
	for _, it := range items[:3] {
		if !errors.Is(it.Err, inputfile.ErrNotRegular) {
			t.Errorf("%s: err %v; want ErrNotRegular", it.Path, it.Err)
		}
	}
	if items[3].Err != nil {
		t.Errorf("link to an image: %v", items[3].Err)
	}
	if items[4].Err != nil {
		t.Errorf("%s: %v", good, items[4].Err)
	}
}
