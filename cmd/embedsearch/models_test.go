package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/models/onnxtest"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"embedsearch"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// zooMirror serves, in the zoo layout: dinov2-small's file (its digest is
// not known in advance: an ONNX graph with the manifest's tensors, which
// the first download checks and records), dinov2-base's as 2 MB of random
// bytes, and mobileclip-s0's files with the wrong bytes. flip changes one
// byte of dinov2-small's file in the middle (inside its weights).
func zooMirror(t *testing.T) (srv *httptest.Server, flip func()) {
	small, _ := models.LookupZoo("dinov2-small")
	base, _ := models.LookupZoo("dinov2-base")
	m0, _ := models.LookupZoo("mobileclip-s0")
	var mu sync.Mutex
	graph := onnxtest.Model([]onnxtest.Tensor{{Name: "pixel_values", Elem: onnxtest.Float, Dims: []int64{-1, 3, 224, 224}}},
		[]onnxtest.Tensor{{Name: "pooler_output", Elem: onnxtest.Float, Dims: []int64{-1, 384}}}, 200_000, 1)
	random := make([]byte, 2<<20)
	rand.New(rand.NewSource(1)).Read(random)
	serve := func(data func() []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			b := data()
			mu.Unlock()
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/"+small.Manifest.Files[0].URL, serve(func() []byte { return graph }))
	mux.HandleFunc("/"+base.Manifest.Files[0].URL, serve(func() []byte { return random }))
	for _, f := range m0.Manifest.Files {
		mux.HandleFunc("/"+f.URL, serve(func() []byte { return make([]byte, f.Size) }))
	}
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func() {
		mu.Lock()
		defer mu.Unlock()
		graph = append([]byte(nil), graph...)
		graph[len(graph)/2] ^= 1
	}
}

func TestModelsCommands(t *testing.T) {
	t.Setenv(models.EnvCacheDir, t.TempDir())
	srv, flip := zooMirror(t)
	t.Setenv(models.EnvBaseURL, srv.URL)

	code, out, errs := runCLI(t, "models", "list", "--json")
	if code != exitOK {
		t.Fatalf("list: exit %d: %s", code, errs)
	}
	var rows []modelRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	seen := map[string]modelRow{}
	for _, r := range rows {
		seen[r.Name] = r
	}
	if r := seen["clip-vit-b32"]; r.Dim != 512 || !r.Text || r.Cached {
		t.Errorf("clip-vit-b32 row %+v", r)
	}
	if r := seen["dinov2-small"]; r.Dim != 384 || r.Text || r.Cached {
		t.Errorf("dinov2-small row %+v", r)
	}
	// Every built-in model is listed, the default and the others the
	// binary carries by name (builtin-v4).
	if r := seen[models.BuiltinName]; !r.Builtin || !r.Cached || r.Dim != 128 {
		t.Errorf("builtin row %+v", r)
	}
	for _, id := range models.OtherBuiltins() {
		if r := seen[id]; r.ID != id || !r.Builtin || !r.Cached || r.Dim != 128 {
			t.Errorf("%s row %+v", id, r)
		}
	}
	if len(models.OtherBuiltins()) == 0 {
		t.Error("no other built-in model carried")
	}

	code, out, _ = runCLI(t, "models", "info", "siglip-b16-224")
	if code != exitOK || !strings.Contains(out, "SentencePiece") || !strings.Contains(out, "recorded at first download") || !strings.Contains(out, "unverified:") {
		t.Errorf("info siglip: exit %d\n%s", code, out)
	}

	code, out, errs = runCLI(t, "models", "pull", "dinov2-small")
	if code != exitOK || !strings.Contains(out, "dinov2-small: ready") {
		t.Fatalf("pull: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "models", "list")
	if code != exitOK || !regexpLine(out, `dinov2-small\s+384\s+no\s+yes`) {
		t.Errorf("list after pull:\n%s", out)
	}
	code, out, _ = runCLI(t, "models", "info", "dinov2-small")
	if code != exitOK || !strings.Contains(out, "unverified: digest not published; the first download's structure was checked") {
		t.Errorf("info after pull:\n%s", out)
	}
	code, out, _ = runCLI(t, "models", "verify")
	if code != exitOK || !strings.Contains(out, "dinov2-small: ok (1 files)") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
	// Offline pulls of cached models work; of others they fail clearly.
	if code, _, errs = runCLI(t, "models", "pull", "--offline", "dinov2-small"); code != exitOK {
		t.Errorf("offline pull of a cached model: %d %s", code, errs)
	}
	code, _, errs = runCLI(t, "models", "pull", "dinov2-base", "--offline")
	if code != exitError || !strings.Contains(errs, "offline") {
		t.Errorf("offline pull of a missing model: %d %s", code, errs)
	}
	// Wrong bytes for a file with a published digest: refused.
	code, _, errs = runCLI(t, "models", "pull", "mobileclip-s0")
	if code != exitError || !strings.Contains(errs, "checksum mismatch") {
		t.Errorf("corrupt mirror: %d %s", code, errs)
	}
	// Not on the mirror: 404 named.
	code, _, errs = runCLI(t, "models", "pull", "siglip-b16-224")
	if code != exitError || !strings.Contains(errs, "404") {
		t.Errorf("missing file: %d %s", code, errs)
	}
	if code, _, errs = runCLI(t, "models", "pull", "no-such-model"); code != exitUsage {
		t.Errorf("unknown model: %d %s", code, errs)
	}
	code, out, _ = runCLI(t, "models", "rm", "dinov2-small")
	if code != exitOK || !strings.Contains(out, "freed 195.1 KiB") {
		t.Errorf("rm: %d %s", code, out)
	}
	if code, _, errs = runCLI(t, "models", "rm", "dinov2-small"); code != exitError || !strings.Contains(errs, "not in the cache") {
		t.Errorf("rm twice: %d %s", code, errs)
	}

	// Random bytes for a file without a published digest: not a graph,
	// refused on the first download, nothing kept.
	code, out, errs = runCLI(t, "models", "pull", "dinov2-base")
	if code != exitError || out != "" || !strings.Contains(errs, "not the graph its manifest describes") || !strings.Contains(errs, "nothing was kept") {
		t.Errorf("random bytes as dinov2-base: exit %d %q %q", code, out, errs)
	}
	// One changed byte after rm: the digest recorded at the first download
	// still holds; rm --forget lets the new bytes in.
	flip()
	code, _, errs = runCLI(t, "models", "pull", "dinov2-small")
	if code != exitError || !strings.Contains(errs, "differs from its first download") || !strings.Contains(errs, "models rm --forget NAME") {
		t.Errorf("one changed byte after rm: exit %d %q", code, errs)
	}
	code, out, _ = runCLI(t, "models", "info", "dinov2-small")
	if code != exitOK || !strings.Contains(out, "digest recorded at its first download on") {
		t.Errorf("info of a removed model with a recorded digest:\n%s", out)
	}
	if code, out, errs = runCLI(t, "models", "rm", "--forget", "dinov2-small"); code != exitOK || !strings.Contains(out, "forgot 1 recorded digest(s) of dinov2-small") {
		t.Errorf("rm --forget: %d %q %q", code, out, errs)
	}
	if code, out, errs = runCLI(t, "models", "pull", "dinov2-small"); code != exitOK {
		t.Errorf("pull after rm --forget: %d %q %q", code, out, errs)
	}
}

func regexpLine(s, pattern string) bool {
	for _, l := range strings.Split(s, "\n") {
		if ok, _ := regexpMatch(pattern, l); ok {
			return true
		}
	}
	return false
}

func regexpMatch(pattern, s string) (bool, error) { return regexp.MatchString(pattern, s) }

// TestModelsPullUnreachable: offline, or with a mirror that refuses
// connections, pull fails at once in one line naming the mirror variable
// (it used to retry six times over 15 s).
func TestModelsPullUnreachable(t *testing.T) {
	t.Setenv(models.EnvCacheDir, t.TempDir())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(models.EnvBaseURL, "http://"+l.Addr().String())
	l.Close()
	start := time.Now()
	code, _, errs := runCLI(t, "models", "pull", "dinov2-small")
	if code != exitError || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, models.EnvBaseURL) {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line naming %s", code, errs, models.EnvBaseURL)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v; want no retries", d)
	}
}
