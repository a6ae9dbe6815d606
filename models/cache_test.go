package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/models/onnxtest"
)

// repoServer serves files in the zoo's repository layout
// (/<repo>/resolve/<rev>/<path>) with Range support, and can misbehave.
type repoServer struct {
	t     *testing.T
	files map[string][]byte // URL path -> bytes

	mu       sync.Mutex
	requests []string // "path range" per request
	// Behaviour knobs, read under mu.
	dropAfter   int // >0: the first dropCount responses stop after this many body bytes
	dropCount   int
	ignoreRange bool
	failStatus  int // >0: answer failCount requests with this status
	failCount   int
	stall       time.Duration // sleep before answering (every request)
	bodyPrefix  []byte        // served before the real bytes (wrong size)
	corruptAt   int           // >=0: flip this byte in what is served
}

func newRepoServer(t *testing.T) (*repoServer, *httptest.Server) {
	rs := &repoServer{t: t, files: map[string][]byte{}, corruptAt: -1}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	return rs, srv
}

func (rs *repoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	rs.requests = append(rs.requests, r.URL.Path+" "+r.Header.Get("Range"))
	stall := rs.stall
	data, ok := rs.files[r.URL.Path]
	fail := rs.failCount > 0
	if fail {
		rs.failCount--
	}
	status := rs.failStatus
	drop := rs.dropCount > 0
	if drop {
		rs.dropCount--
	}
	dropAfter, ignoreRange, prefix, corruptAt := rs.dropAfter, rs.ignoreRange, rs.bodyPrefix, rs.corruptAt
	rs.mu.Unlock()

	if stall > 0 {
		select {
		case <-time.After(stall):
		case <-r.Context().Done():
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if fail {
		http.Error(w, "try later", status)
		return
	}
	body := append(append([]byte(nil), prefix...), data...)
	if corruptAt >= 0 {
		body[corruptAt] ^= 0xFF
	}
	if ignoreRange {
		r.Header.Del("Range")
	}
	if drop {
		// Announce the whole body, send part of it, then cut the connection.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:dropAfter])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func mustJSON(t *testing.T, m *Manifest) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (rs *repoServer) requestLog() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]string(nil), rs.requests...)
}

func (rs *repoServer) set(f func(rs *repoServer)) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	f(rs)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tinyZooModel publishes a two-file model (ONNX files with the tensors
// the manifest names, which the cache checks when their digests are not
// known in advance; they do not run) and returns its zoo-style manifest.
func tinyZooModel(rs *repoServer, knownDigests bool) *Manifest {
	img := onnxtest.Model([]onnxtest.Tensor{{Name: "pixel_values", Elem: onnxtest.Float, Dims: []int64{-1, 3, 224, 224}}},
		[]onnxtest.Tensor{{Name: "image_embeds", Elem: onnxtest.Float, Dims: []int64{-1, 8}}}, 300_000, 7)
	txt := onnxtest.Model([]onnxtest.Tensor{{Name: "input_ids", Elem: onnxtest.Int64, Dims: []int64{-1, 77}}},
		[]onnxtest.Tensor{{Name: "text_embeds", Elem: onnxtest.Float, Dims: []int64{-1, 8}}}, 120_000, 8)
	const repo, rev = "test/tiny-clip", "0123456789abcdef0123456789abcdef01234567"
	rs.files["/"+repo+"/resolve/"+rev+"/onnx/vision_model.onnx"] = img
	rs.files["/"+repo+"/resolve/"+rev+"/onnx/text_model.onnx"] = txt
	fi := zooFile(repo, rev, "onnx/vision_model.onnx", "", 0)
	ft := zooFile(repo, rev, "onnx/text_model.onnx", "", 0)
	if knownDigests {
		fi.SHA256, fi.Size = sha(img), int64(len(img))
		ft.SHA256, ft.Size = sha(txt), int64(len(txt))
	}
	p := clipPreprocess
	return &Manifest{
		Format: ManifestFormat, ID: "tiny-clip-test", License: "test", Dim: 8,
		Files:      []File{fi, ft},
		Image:      imageTower("vision_model.onnx", "pixel_values", "image_embeds", p),
		Text:       clipTextTower("text_model.onnx"),
		Preprocess: p, Tokenizer: clipTokenizer(), Thresholds: clipThresholds,
		Source: &Source{Repo: repo, Revision: rev},
	}
}

func testOptions(base string) PullOptions {
	return PullOptions{BaseURL: base, Retries: 3, Backoff: time.Millisecond, StallTimeout: 2 * time.Second}
}

func TestPullVerifiesAndCaches(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	c := &Cache{Root: t.TempDir()}
	var progressCalls atomic.Int64
	o := testOptions(srv.URL)
	o.Progress = func(p Progress) {
		progressCalls.Add(1)
		if p.Total != 0 && p.Done > p.Total {
			t.Errorf("progress %d > total %d", p.Done, p.Total)
		}
	}
	m, err := c.PullManifest(context.Background(), "tiny", man, o)
	if err != nil {
		t.Fatal(err)
	}
	if m.Digest() != man.Files[0].SHA256 {
		t.Errorf("digest %s, want %s", m.Digest(), man.Files[0].SHA256)
	}
	if progressCalls.Load() == 0 {
		t.Error("no progress reported")
	}
	for _, f := range man.Files {
		if _, err := os.Stat(c.blobPath(f.SHA256)); err != nil {
			t.Errorf("blob for %s: %v", f.Name, err)
		}
	}
	if got := len(rs.requestLog()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	// The cached model opens by directory like any local model.
	if _, err := Open(c.ModelDir("tiny")); err != nil {
		t.Errorf("open cached dir: %v", err)
	}
	// A second pull is served from the cache.
	if _, err := c.PullManifest(context.Background(), "tiny", man, o); err != nil {
		t.Fatal(err)
	}
	if got := len(rs.requestLog()); got != 2 {
		t.Errorf("second pull made requests: %v", rs.requestLog())
	}
	p, err := c.Provenance("tiny")
	if err != nil || len(p.Files) != 2 || p.Files[0].DigestSource != "registry" {
		t.Errorf("provenance %+v, %v", p, err)
	}
}

func TestPullResumesAfterDroppedConnection(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	rs.set(func(rs *repoServer) { rs.dropAfter, rs.dropCount = 100_000, 1 })
	c := &Cache{Root: t.TempDir()}
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	log := rs.requestLog()
	if len(log) < 2 || !strings.HasSuffix(log[1], "bytes=100000-") {
		t.Errorf("second request should resume at byte 100000: %q", log)
	}
}

func TestPullRestartsWhenServerIgnoresRange(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	rs.set(func(rs *repoServer) { rs.dropAfter, rs.dropCount, rs.ignoreRange = 100_000, 1, true })
	c := &Cache{Root: t.TempDir()}
	m, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if m.Digest() != man.Files[0].SHA256 {
		t.Error("wrong bytes after a restart")
	}
}

func TestPullInterruptedThenResumedByNextPull(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	// Every response breaks off early; with one attempt the pull fails and
	// keeps the partial file.
	rs.set(func(rs *repoServer) { rs.dropAfter, rs.dropCount = 50_000, 1 })
	c := &Cache{Root: t.TempDir()}
	o := testOptions(srv.URL)
	o.Retries = 1
	o.Backoff = time.Hour // the single retry must not happen within the test
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.PullManifest(ctx, "tiny", man, o); err == nil {
		t.Fatal("pull succeeded although it was interrupted")
	}
	partial := filepath.Join(c.Root, "blobs", "sha256-"+man.Files[0].SHA256+".partial")
	if st, err := os.Stat(partial); err != nil || st.Size() != 50_000 {
		t.Fatalf("partial download not kept: %v", err)
	}
	if c.Cached("tiny") {
		t.Fatal("model cached after an interrupted pull")
	}
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	log := rs.requestLog()
	if !strings.HasSuffix(log[1], "bytes=50000-") {
		t.Errorf("next pull did not resume: %q", log)
	}
}

func TestPullRejectsCorruptBytes(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	rs.set(func(rs *repoServer) { rs.corruptAt = 1234 })
	c := &Cache{Root: t.TempDir()}
	_, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL))
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("err = %v, want ErrChecksum saying the download was removed", err)
	}
	if ents, _ := filepath.Glob(filepath.Join(c.Root, "blobs", "*")); len(ents) != 0 {
		t.Errorf("corrupt data left behind: %v", ents)
	}
	if c.Cached("tiny") {
		t.Error("model cached despite a checksum mismatch")
	}
}

func TestPullRejectsWrongSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(rs *repoServer, man *Manifest)
	}{
		{"manifest says more", func(rs *repoServer, man *Manifest) { man.Files[0].Size += 10 }},
		{"server sends more", func(rs *repoServer, man *Manifest) { rs.bodyPrefix = []byte("junk") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, srv := newRepoServer(t)
			man := tinyZooModel(rs, true)
			tc.set(rs, man)
			c := &Cache{Root: t.TempDir()}
			_, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL))
			if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "bytes") {
				t.Fatalf("err = %v, want a size error", err)
			}
			if ents, _ := filepath.Glob(filepath.Join(c.Root, "blobs", "*.partial")); len(ents) != 0 {
				t.Errorf("untrusted partial kept: %v", ents)
			}
		})
	}
}

func TestPullNotFound(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	man.Files[0].URL = "test/tiny-clip/resolve/nope/onnx/vision_model.onnx"
	c := &Cache{Root: t.TempDir()}
	_, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "resolve/nope") {
		t.Fatalf("err = %v, want ErrNotFound naming the URL", err)
	}
	if n := len(rs.requestLog()); n != 1 {
		t.Errorf("404 was retried: %d requests", n)
	}
}

func TestPullStallTimeout(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	rs.set(func(rs *repoServer) { rs.stall = 5 * time.Second })
	c := &Cache{Root: t.TempDir()}
	o := testOptions(srv.URL)
	o.StallTimeout, o.Retries = 50*time.Millisecond, 2
	start := time.Now()
	_, err := c.PullManifest(context.Background(), "tiny", man, o)
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "no data received") {
		t.Fatalf("err = %v, want ErrDownload about a stall", err)
	}
	if n := len(rs.requestLog()); n != 3 {
		t.Errorf("%d requests, want 3 (first try + 2 retries)", n)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("stall detection took %v", time.Since(start))
	}
}

func TestPullRetriesServerErrors(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	rs.set(func(rs *repoServer) { rs.failStatus, rs.failCount = http.StatusServiceUnavailable, 2 })
	c := &Cache{Root: t.TempDir()}
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	rs.set(func(rs *repoServer) { rs.failStatus, rs.failCount = http.StatusBadGateway, 100 })
	c2 := &Cache{Root: t.TempDir()}
	_, err := c2.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL))
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v, want ErrDownload with the status", err)
	}
}

func TestConcurrentPullsOfOneModel(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, false)
	c := &Cache{Root: t.TempDir()}
	var wg sync.WaitGroup
	digests := make([]string, 6)
	for i := range digests {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Separate Cache values, as separate processes would have.
			m, err := (&Cache{Root: c.Root}).PullManifest(context.Background(), "tiny", man, testOptions(srv.URL))
			if err != nil {
				t.Error(err)
				return
			}
			digests[i] = m.Digest()
		}(i)
	}
	wg.Wait()
	for _, d := range digests[1:] {
		if d != digests[0] {
			t.Errorf("pulls disagree: %v", digests)
		}
	}
	if n := len(rs.requestLog()); n != 2 {
		t.Errorf("%d requests for 2 files: concurrent pulls downloaded twice", n)
	}
}

func TestUnknownDigestRecordedAndEnforced(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, false)
	c := &Cache{Root: t.TempDir()}
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	cached, err := c.Manifest("tiny")
	if err != nil {
		t.Fatal(err)
	}
	img := rs.files["/test/tiny-clip/resolve/0123456789abcdef0123456789abcdef01234567/onnx/vision_model.onnx"]
	if cached.Files[0].SHA256 != sha(img) || cached.Files[0].Size != int64(len(img)) {
		t.Errorf("recorded %s/%d, want %s/%d", cached.Files[0].SHA256, cached.Files[0].Size, sha(img), len(img))
	}
	p, _ := c.Provenance("tiny")
	if p.Files[0].DigestSource != "first-download" {
		t.Errorf("digest source %q", p.Files[0].DigestSource)
	}
	// The server now publishes different bytes: a fresh pull into the same
	// cache keeps the recorded digest and refuses them.
	changed := append([]byte(nil), img...)
	changed[10] ^= 1
	rs.files["/test/tiny-clip/resolve/0123456789abcdef0123456789abcdef01234567/onnx/vision_model.onnx"] = changed
	os.Remove(c.blobPath(sha(img)))
	os.Remove(filepath.Join(c.ModelDir("tiny"), ManifestName))
	os.WriteFile(filepath.Join(c.ModelDir("tiny"), ManifestName), mustJSON(t, cached), 0o644)
	os.Remove(filepath.Join(c.ModelDir("tiny"), "vision_model.onnx"))
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); !errors.Is(err, ErrChecksum) {
		t.Fatalf("changed upstream bytes: err = %v, want ErrChecksum", err)
	}
}

func TestVerifyDetectsDamage(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	c := &Cache{Root: t.TempDir()}
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	checks, err := c.Verify("tiny")
	if err != nil || len(checks) != 2 || checks[0].Err != nil || checks[1].Err != nil {
		t.Fatalf("verify of an intact model: %+v, %v", checks, err)
	}
	f, _ := os.OpenFile(filepath.Join(c.ModelDir("tiny"), "text_model.onnx"), os.O_WRONLY, 0)
	f.WriteAt([]byte{0}, 5)
	f.Close()
	checks, _ = c.Verify("tiny")
	if checks[1].Err == nil || !errors.Is(checks[1].Err, ErrChecksum) {
		t.Errorf("damage not detected: %+v", checks[1])
	}
	if _, err := c.Open("tiny"); !errors.Is(err, ErrChecksum) {
		t.Errorf("open of a damaged model: %v", err)
	}
	// A new pull replaces the damaged blob.
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatalf("re-pull after damage: %v", err)
	}
}

func TestOfflineAndRemove(t *testing.T) {
	rs, srv := newRepoServer(t)
	man := tinyZooModel(rs, true)
	c := &Cache{Root: t.TempDir()}
	o := testOptions(srv.URL)
	o.Offline = true
	if _, err := c.PullManifest(context.Background(), "tiny", man, o); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline, nothing cached: %v", err)
	}
	if len(rs.requestLog()) != 0 {
		t.Fatal("offline pull touched the network")
	}
	if _, err := c.PullManifest(context.Background(), "tiny", man, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PullManifest(context.Background(), "tiny", man, o); err != nil {
		t.Fatalf("offline, cached: %v", err)
	}
	// A second model sharing the text file keeps it when the first goes.
	man2 := *man
	man2.ID = "tiny-2"
	if _, err := c.PullManifest(context.Background(), "tiny2", &man2, testOptions(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Remove("tiny"); err != nil {
		t.Fatal(err)
	}
	if c.Cached("tiny") || !c.Cached("tiny2") {
		t.Fatal("remove touched the wrong model")
	}
	if _, err := c.Open("tiny2"); err != nil {
		t.Errorf("shared blobs removed: %v", err)
	}
	freed, err := c.Remove("tiny2")
	if want := man.Files[0].Size + man.Files[1].Size; err != nil || freed != want {
		t.Errorf("freed %d, %v; want %d", freed, err, want)
	}
	if _, err := c.Remove("tiny2"); !errors.Is(err, ErrNotCached) {
		t.Errorf("removing twice: %v", err)
	}
}

func TestModelNamesStayInsideCache(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	for _, name := range []string{"", "..", "../x", "a/b", ".hidden"} {
		if _, err := c.PullManifest(context.Background(), name, &Manifest{}, PullOptions{}); !errors.Is(err, ErrUnknownModel) {
			t.Errorf("name %q: %v", name, err)
		}
	}
}
