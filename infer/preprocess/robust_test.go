package preprocess

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestCorpora decodes every file of the decoder-robustness corpora: each is
// either decoded or refused with one of the package's errors and a reason;
// none may panic, hang or allocate far beyond its pixel count. Bomb files
// must be refused by the pixel cap; PngSuite's invalid files must fail.
func TestCorpora(t *testing.T) {
	data := sharedData(t)
	// A hang guard, not a speed test (speed is in the benchmarks): -race
	// slows decoders ~10x, and a loaded machine more (g4-multi.tiff passed
	// 20 s in one CI run on a busy machine). A file past it fails the test
	// while its decoder still runs, which then spoils the allocation
	// figures of the files after it.
	const perFile = 90 * time.Second
	lim := Limits{MaxPixels: 40_000_000}
	type outcome struct {
		decoded, refused int
		reasons          map[string]int
	}
	for _, corpus := range []string{"pillow-test-images", "pngsuite"} {
		t.Run(corpus, func(t *testing.T) {
			labels := readLabels(t, filepath.Join(data, corpus, "labels.tsv"))
			out := outcome{reasons: map[string]int{}}
			root := filepath.Join(data, corpus)
			for rel, label := range labels {
				file, err := os.ReadFile(filepath.Join(root, rel))
				if err != nil {
					t.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				type result struct {
					info Info
					err  error
				}
				done := make(chan result, 1)
				go func() {
					_, info, err := Decode(file, lim)
					done <- result{info, err}
				}()
				var res result
				select {
				case res = <-done:
				case <-time.After(perFile):
					t.Fatalf("%s: decoding took over %v", rel, perFile)
				}
				runtime.ReadMemStats(&after)
				pixels := uint64(res.info.Width * res.info.Height)
				// Decoders hold the image at up to 8 bytes per pixel, the RGBA
				// copy and an oriented copy 4 more each, plus small fixed costs.
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64*pixels+32<<20 {
					t.Errorf("%s: allocated %d MiB for %d pixels", rel, alloc>>20, pixels)
				}
				switch {
				case res.err == nil:
					out.decoded++
					if res.info.Width <= 0 || res.info.Height <= 0 || res.info.Format == "" {
						t.Errorf("%s: decoded with info %+v", rel, res.info)
					}
				case errors.Is(res.err, ErrUnsupported), errors.Is(res.err, ErrCorrupt), errors.Is(res.err, ErrTooLarge):
					out.refused++
					reason := res.err.Error()
					if strings.Contains(reason, "internal error") {
						t.Errorf("%s: our own code panicked: %v", rel, res.err)
					}
					if i := strings.IndexByte(reason, ':'); i < 0 || len(reason) < i+4 {
						t.Errorf("%s: error without a reason: %q", rel, reason)
					}
					out.reasons[reason]++
					t.Logf("%-60s %-18s %v", rel, label, res.err)
				default:
					t.Errorf("%s: error outside the package's sentinels: %v", rel, res.err)
				}
				switch label {
				case "decompression-bomb":
					// A bomb is refused by the cap, unless (as in
					// decompression_bomb_extents.gif, whose later frames
					// are the bomb) the first frame is small.
					if !errors.Is(res.err, ErrTooLarge) && !(res.err == nil && pixels <= 1<<20) {
						t.Errorf("%s: bomb not refused by the pixel cap: %v (%dx%d)", rel, res.err, res.info.Width, res.info.Height)
					}
				case "invalid":
					if corpus == "pngsuite" && res.err == nil {
						t.Errorf("%s: invalid PNG decoded", rel)
					}
				case "valid":
					if res.err != nil {
						t.Errorf("%s: valid PNG refused: %v", rel, res.err)
					}
				}
			}
			t.Logf("%s: %d decoded, %d refused", corpus, out.decoded, out.refused)
			if out.decoded < len(labels)/2 {
				t.Errorf("only %d of %d files decoded", out.decoded, len(labels))
			}
		})
	}
}

func readLabels(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rel, label, ok := strings.Cut(sc.Text(), "\t")
		if ok {
			out[rel] = label
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no labels", path)
	}
	return out
}
