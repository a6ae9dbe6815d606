package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/infer"
	"github.com/embedsearch/embedsearch/infer/preprocess"
	"github.com/embedsearch/embedsearch/internal/download"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// TestReportHints: for each library sentinel whose message used to name a
// flag or a command, report prints the error as the library wrote it and
// then, once, what to do, with exit code 1.
func TestReportHints(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want []string
	}{
		{"store damaged", fmt.Errorf("store /s: %w: MANIFEST: checksum mismatch", store.ErrCorrupt),
			[]string{"run `embedsearch index --repair`"}},
		{"catalog damaged", fmt.Errorf("--filter \"ext:png\": %w: catalog/x.zap: checksum mismatch", store.ErrCatalogDamaged),
			[]string{"run `embedsearch index --repair` to rebuild it"}},
		{"catalog stale", fmt.Errorf("%w: /s has no metadata catalog", store.ErrCatalogStale),
			[]string{"`embedsearch index`", "`embedsearch index --repair`"}},
		{"retired built-in", fmt.Errorf("%w: it holds vectors of builtin-v0", models.ErrRetiredBuiltin),
			[]string{"`embedsearch index --store NEW_DIR DIR...`", "`embedsearch status`"}},
		{"model mismatch", fmt.Errorf("%w: /s holds other-v1", store.ErrModelMismatch),
			[]string{"--store NEW_DIR", "--model"}},
		{"read-only store", fmt.Errorf("%w: /s (permission denied)", store.ErrReadOnly),
			[]string{"use --store to pick a writable location"}},
		{"locked store", fmt.Errorf("%w: process 7 is writing /s", store.ErrLocked),
			[]string{"wait for it to finish", "`embedsearch index`"}},
		{"weaviate refused objects", fmt.Errorf("%w (1): /p/a.jpg: tenant not found", weaviatestore.ErrObjects),
			[]string{"run the same `embedsearch index` again"}},

		{"model not pulled", fmt.Errorf("open: %w", &models.NotCachedError{Name: "clip-vit-b32", Cache: "/c"}),
			[]string{"run 'embedsearch models pull clip-vit-b32'", "--model DIR"}},
		{"model pull offline", fmt.Errorf("%w: model x needs y", models.ErrOffline),
			[]string{"run without --offline", "--model DIR"}},
		{"no built-in model", fmt.Errorf("%w: %w", models.ErrUnknownModel, models.ErrNoBuiltin),
			[]string{"pass --model DIR"}},
		{"unregistered model id", fmt.Errorf("%w: %w %q", models.ErrUnknownModel, models.ErrUnregisteredID, "x-v1"),
			[]string{"pass --model with the model directory the store was built with"}},
		{"model server unreachable", fmt.Errorf("%w: %w", models.ErrDownload, download.ErrUnreachable),
			[]string{models.EnvBaseURL, "--model DIR"}},
		{"model file changed since its first download", fmt.Errorf("%w, %w (sha256 x at its first download): y", models.ErrChecksum, models.ErrRecordedDigest),
			[]string{models.EnvBaseURL, "'embedsearch models rm --forget NAME'"}},
		{"model file not its graph", fmt.Errorf("%w: model x: model.onnx: not an ONNX model", models.ErrBadGraph),
			[]string{models.EnvBaseURL, "nothing was kept"}},
		{"model file checksum", fmt.Errorf("%w: model x: y", models.ErrChecksum),
			[]string{"'embedsearch models pull NAME'", models.EnvBaseURL}},

		{"onnxruntime named", fmt.Errorf("%w: /x/libonnxruntime.so: %w", infer.ErrRuntimeLibrary, infer.ErrRuntimeVersion),
			[]string{"--onnxruntime or " + envRuntimeLib + " named it", infer.MinVersion}},
		{"onnxruntime offline", fmt.Errorf("%w (none found) and %w", infer.ErrRuntimeNotFound, infer.ErrOffline),
			[]string{"--onnxruntime PATH", envRuntimeLib, envOffline, infer.DefaultPin.Version}},
		{"onnxruntime not found", fmt.Errorf("%w (none found): no pinned onnxruntime download for plan9/386", infer.ErrRuntimeNotFound),
			[]string{"pass --onnxruntime PATH or set " + envRuntimeLib, infer.MinVersion}},
		{"onnxruntime too old", fmt.Errorf("downloaded onnxruntime /c: %w", infer.ErrRuntimeVersion),
			[]string{"pass --onnxruntime PATH or set " + envRuntimeLib}},
		{"onnxruntime unreachable", fmt.Errorf("%w: %w", infer.ErrDownload, download.ErrUnreachable),
			[]string{"pass --onnxruntime PATH or set " + envRuntimeLib, envORTBaseURL}},
		{"CPU-only onnxruntime", fmt.Errorf("%w: cuda: %w: this build has no CUDA provider", infer.ErrDevice, infer.ErrCPUOnly),
			[]string{"onnxruntime-gpu", "--onnxruntime PATH/lib/libonnxruntime.so"}},

		{"image too large", fmt.Errorf("%w: 9000x9000 is 81.0 megapixels, over the limit of 64.0", preprocess.ErrTooLarge),
			[]string{"--max-megapixels"}},
		{"no libheif", fmt.Errorf("%w: HEIF: %w (libheif.so.1: cannot open shared object file)", preprocess.ErrUnsupported, preprocess.ErrNoLibheif),
			[]string{"apt-get install libheif1", preprocess.LibheifEnv}},
		{"hard link across file systems", fmt.Errorf("%w: /a and /b", dedup.ErrCrossDevice),
			[]string{"use --link sym"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := report(&stderr, c.err, false)
			got := stderr.String()
			if code != exitError || !strings.HasPrefix(got, "embedsearch: "+c.err.Error()+"; ") || strings.Count(got, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want exit %d and one line: the error, then the hint", code, got, exitError)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("stderr %q does not say %q", got, w)
				}
			}
			if h := hint(c.err); strings.Count(got, h) != 1 {
				t.Errorf("stderr %q: hint %q not exactly once", got, h)
			}
		})
	}

	var stderr bytes.Buffer
	if code := report(&stderr, errors.New("no such thing"), false); code != exitError || stderr.String() != "embedsearch: no such thing\n" {
		t.Errorf("an error without a hint: exit %d, stderr %q", code, stderr.String())
	}
}

// TestFileFailureHints: a file that fails in index or embed is reported
// with the same hint as a fatal error would be, on stderr and in the
// --errors list.
func TestFileFailureHints(t *testing.T) {
	dir := t.TempDir()
	img := writePNGs(t, dir, "big", 0, 1)[0] // 32x32: over a limit of 0.0005 megapixels
	code, _, errs := embedCLI(t, "", "embed", "--model", tinyModel, "--max-megapixels", "0.0005", img)
	if code != exitPartial || !strings.Contains(errs, img+": image too large") || !strings.Contains(errs, "; raise the limit with --max-megapixels") {
		t.Errorf("embed: exit %d, stderr %q; want %d and the failure with its hint", code, errs, exitPartial)
	}
	errFile := filepath.Join(t.TempDir(), "errors.tsv")
	code, _, errs = embedCLI(t, "", "index", "--store", filepath.Join(t.TempDir(), "store"), "--model", tinyModel,
		"--max-megapixels", "0.0005", "--errors", errFile, dir)
	list, _ := os.ReadFile(errFile)
	if code != exitPartial || !strings.Contains(errs, img+": image too large") || !strings.Contains(errs, "; raise the limit with --max-megapixels") ||
		!strings.Contains(string(list), "image too large") || !strings.Contains(string(list), "--max-megapixels") {
		t.Errorf("index: exit %d, stderr %q, --errors %q; want %d and the failure with its hint in both", code, errs, list, exitPartial)
	}
}
