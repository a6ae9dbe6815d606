package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/dedup"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

const testHost = "127.0.0.1:7878"

// fixture is a store bound to the tiny test model over real JPEG files
// in photos/: "a.jpg" and its copy "sub/a-copy.jpg" (nearly the same
// vector), and "b.jpg" .. "e.jpg" far apart. The embedder knows every
// file's bytes and answers with its stored vector.
type fixture struct {
	t       *testing.T
	root    string // photos
	store   string
	trash   string
	paths   map[string]string // name: absolute path
	vectors map[string][]float32
	srv     *Server
	// spill, when set, is a folder the embedder checks is empty (uploads
	// are never written to disk).
	spill string
}

func jpegOf(seed int, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*seed + y), uint8(y * 3 * seed), uint8(seed * 40), 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	return b.Bytes()
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	tmp := t.TempDir()
	f := &fixture{t: t, root: filepath.Join(tmp, "photos"), store: filepath.Join(tmp, "store"), trash: filepath.Join(tmp, "Trash"),
		paths: map[string]string{}, vectors: map[string][]float32{}}
	tiny, _ := filepath.Abs(filepath.Join("..", "testdata", "models", "tiny"))
	m, err := models.Open(tiny)
	if err != nil {
		t.Fatal(err)
	}
	dim := m.Manifest.Dim
	w, err := store.OpenWriter(f.store, store.Binding{ModelID: m.Manifest.ID, Digest: m.Digest(), Preprocess: m.Manifest.Preprocess.Fingerprint(), Dim: dim},
		store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.SetModelSource(tiny)
	rng := rand.New(rand.NewPCG(3, 4))
	unit := func(v []float32) []float32 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(s))
		}
		return v
	}
	random := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return unit(v)
	}
	names := []string{"a.jpg", "sub/a-copy.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"}
	for i, name := range names {
		p := filepath.Join(f.root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		seed := i + 1
		if name == "sub/a-copy.jpg" {
			seed = 1
		}
		data := jpegOf(seed, 64+i, 48)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		v := random()
		if name == "sub/a-copy.jpg" {
			v = append([]float32(nil), f.vectors["a.jpg"]...)
			v[0] += 0.001
			unit(v)
		}
		sum := sha256.Sum256(data)
		e := store.Entry{Path: p, Size: fi.Size(), ModTime: fi.ModTime(), SHA256: hex.EncodeToString(sum[:]), Width: 64 + i, Height: 48, Format: "jpeg"}
		if err := w.Put(e, v); err != nil {
			t.Fatal(err)
		}
		f.paths[name], f.vectors[name] = p, v
	}
	w.AddRoots(f.root)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	cfg.Store = f.store
	if cfg.Embed == nil {
		cfg.Embed = fakeEmbedder{f}
	}
	if cfg.Hosts == nil {
		cfg.Hosts = []string{testHost}
	}
	cfg.Trash = dedup.Trash{Home: f.trash}
	f.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.srv.Close() })
	return f
}

type fakeEmbedder struct{ f *fixture }

func (e fakeEmbedder) Image(ctx context.Context, data []byte) ([]float32, error) {
	if e.f.spill != "" {
		if ents, _ := os.ReadDir(e.f.spill); len(ents) > 0 {
			return nil, fmt.Errorf("the upload was written to disk: %s", ents[0].Name())
		}
	}
	for name, p := range e.f.paths {
		if b, _ := os.ReadFile(p); bytes.Equal(b, data) {
			return e.f.vectors[name], nil
		}
	}
	return nil, errors.New("unknown image")
}

func (fakeEmbedder) Text(context.Context, string) ([]float32, error) { return nil, ErrNoText }
func (fakeEmbedder) HasText() bool                                   { return false }

// do serves one request; a POST gets the CSRF token unless noCSRF.
func (f *fixture) do(method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, target, body)
	req.Host = testHost
	if method == http.MethodPost {
		req.Header.Set("X-CSRF-Token", f.srv.CSRF())
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	if k := hdr["Host"]; k != "" {
		req.Host = k
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) json(method, target string, in, out any, wantCode int) {
	f.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	rec := f.do(method, target, body, nil)
	if rec.Code != wantCode {
		f.t.Fatalf("%s %s: %d %s; want %d", method, target, rec.Code, rec.Body, wantCode)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			f.t.Fatalf("%s %s: %v in %s", method, target, err, rec.Body)
		}
	}
}

func upload(t *testing.T, field, name string, data []byte, extra map[string]string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(data)
	for k, v := range extra {
		mw.WriteField(k, v)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func TestPagesAndStatus(t *testing.T) {
	f := newFixture(t, Config{})
	for _, p := range []string{"/", "/dups", "/status", "/static/app.js", "/static/app.css"} {
		if rec := f.do("GET", p, nil, nil); rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
	for _, p := range []string{"/nope", "/static/", "/static/../server.go", "/static/%2e%2e/server.go", "/static/..%2fserver.go"} {
		if rec := f.do("GET", p, nil, nil); rec.Code == 200 || strings.Contains(rec.Body.String(), "package web") {
			t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
	}
	var st statusAnswer
	f.json("GET", "/api/status", nil, &st, 200)
	if !st.Exists || st.Images != 6 || st.Model != "tiny-test-v1" || len(st.Roots) != 1 || st.CanIndex || st.Text {
		t.Errorf("status %+v", st)
	}
	var sess map[string]string
	f.json("GET", "/api/session", nil, &sess, 200)
	if sess["csrf"] != f.srv.CSRF() || len(sess["csrf"]) != 64 {
		t.Errorf("session %v", sess)
	}
}

// TestQuery: more like an indexed image, an upload (its copy first), text
// without a text tower, filters, and the refusals.
func TestQuery(t *testing.T) {
	f := newFixture(t, Config{MaxUpload: 1 << 20})
	var ans queryAnswer
	f.json("GET", "/api/query?k=3&path="+f.paths["a.jpg"], nil, &ans, 200)
	if len(ans.Results) != 3 || ans.Results[0].Path != f.paths["a.jpg"] || ans.Results[1].Path != f.paths["sub/a-copy.jpg"] || ans.Similar != 0.6 {
		t.Fatalf("more like a.jpg: %+v", ans)
	}
	if ans.Close != 2 {
		t.Errorf("close = %d; want 2 (a and its copy; random vectors are far)", ans.Close)
	}
	f.json("GET", "/api/query?k=3&exclude_self=1&in="+filepath.Join(f.root, "sub")+"&path="+f.paths["a.jpg"], nil, &ans, 200)
	if len(ans.Results) != 1 || ans.Results[0].Path != f.paths["sub/a-copy.jpg"] {
		t.Fatalf("in sub/: %+v", ans.Results)
	}
	data, _ := os.ReadFile(f.paths["b.jpg"])
	body, ct := upload(t, "image", "b.jpg", data, map[string]string{"k": "2"})
	rec := f.do("POST", "/api/query", body, map[string]string{"Content-Type": ct})
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &ans) != nil || ans.Results[0].Path != f.paths["b.jpg"] || ans.Query != "b.jpg" {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	// A large upload stays in memory (the multipart parser would write
	// what is over 8 MiB to the temporary folder).
	f.spill = t.TempDir()
	t.Setenv("TMPDIR", f.spill)
	f.srv.cfg.MaxUpload = 16 << 20
	body, ct = upload(t, "image", "big.jpg", append(data, make([]byte, 10<<20)...), nil)
	rec = f.do("POST", "/api/query", body, map[string]string{"Content-Type": ct})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "unknown image") {
		t.Errorf("a 10 MiB upload: %d %s", rec.Code, rec.Body)
	}
	f.srv.cfg.MaxUpload = 1 << 20
	for _, c := range []struct {
		name, method, target string
		body                 []byte
		code                 int
	}{
		{"oversize upload", "POST", "", make([]byte, 2<<20), http.StatusRequestEntityTooLarge},
		{"not an image", "POST", "", []byte("hello"), http.StatusUnprocessableEntity},
		{"text without a text tower", "GET", "/api/query?text=a+dog", nil, http.StatusUnprocessableEntity},
		{"nothing asked", "GET", "/api/query", nil, http.StatusBadRequest},
		{"bad k", "GET", "/api/query?k=0&path=" + f.paths["a.jpg"], nil, http.StatusBadRequest},
		{"bad filter", "GET", "/api/query?filter=%28%28&path=" + f.paths["a.jpg"], nil, http.StatusBadRequest},
		{"relative in", "GET", "/api/query?in=photos&path=" + f.paths["a.jpg"], nil, http.StatusBadRequest},
		{"path not in store", "GET", "/api/query?path=/etc/passwd", nil, http.StatusNotFound},
	} {
		var rec *httptest.ResponseRecorder
		if c.method == "POST" {
			body, ct := upload(t, "image", "x.jpg", c.body, nil)
			rec = f.do("POST", "/api/query", body, map[string]string{"Content-Type": ct})
		} else {
			rec = f.do("GET", c.target, nil, nil)
		}
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s; want %d with an error", c.name, rec.Code, rec.Body, c.code)
		}
	}
}

// TestImagePathsRefused: no request path reaches the file system
// unchecked, for thumbnails and images alike.
func TestImagePathsRefused(t *testing.T) {
	f := newFixture(t, Config{})
	outside := filepath.Join(t.TempDir(), "secret.jpg")
	os.WriteFile(outside, jpegOf(9, 20, 20), 0o644)
	// A stored image replaced by a link to a file outside the roots.
	os.Remove(f.paths["e.jpg"])
	if err := os.Symlink(outside, f.paths["e.jpg"]); err != nil {
		t.Fatal(err)
	}
	a := f.paths["a.jpg"]
	dir, base := filepath.Dir(a), filepath.Base(a)
	cases := map[string]int{
		"":                                      http.StatusBadRequest, // no path
		"photos/a.jpg":                          http.StatusBadRequest, // relative
		dir + "/../photos/" + base:              http.StatusBadRequest, // ..
		dir + "/%2e%2e/photos/" + base:          http.StatusBadRequest, // encoded ..
		dir + "/%252e%252e/photos/" + base:      http.StatusNotFound,   // double-encoded: a literal name, not stored
		dir + "/./" + base:                      http.StatusBadRequest,
		dir + "//" + base:                       http.StatusBadRequest,
		a + "%00.png":                           http.StatusBadRequest, // NUL
		"/etc/passwd":                           http.StatusNotFound,   // absolute, not in the store
		outside:                                 http.StatusNotFound,
		f.paths["e.jpg"]:                        http.StatusForbidden, // link out of the roots
		"%2Fetc%2Fpasswd":                       http.StatusNotFound,
		"%252Fetc%252Fpasswd":                   http.StatusBadRequest, // "%2Fetc..." is relative
		strings.ReplaceAll(a, "/", "%2F"):       http.StatusOK,         // one encoding is the path itself
		strings.ReplaceAll(a, "/", "%252F"):     http.StatusBadRequest,
		strings.ReplaceAll(dir, "/", "\\") + "": http.StatusBadRequest,
	}
	for _, api := range []string{"/api/thumb", "/api/image"} {
		for p, code := range cases {
			rec := f.do("GET", api+"?path="+p, nil, nil)
			if rec.Code != code {
				t.Errorf("GET %s?path=%s: %d %s; want %d", api, p, rec.Code, rec.Body, code)
			}
			if code != 200 && bytes.Contains(rec.Body.Bytes(), []byte("\xff\xd8")) {
				t.Errorf("GET %s?path=%s: served image bytes", api, p)
			}
		}
	}
	// A symbolic link inside the roots is followed; the file is served.
	os.Remove(f.paths["d.jpg"])
	os.Symlink(f.paths["c.jpg"], f.paths["d.jpg"])
	if rec := f.do("GET", "/api/image?path="+f.paths["d.jpg"], nil, nil); rec.Code != 200 {
		t.Errorf("link inside the roots: %d %s", rec.Code, rec.Body)
	}
	// A folder where a stored file was.
	os.Remove(f.paths["c.jpg"])
	os.Mkdir(f.paths["c.jpg"], 0o755)
	if rec := f.do("GET", "/api/image?path="+f.paths["c.jpg"], nil, nil); rec.Code != http.StatusForbidden {
		t.Errorf("a folder: %d %s", rec.Code, rec.Body)
	}
}

// TestRequestChecks: Host (DNS rebinding), CSRF, Origin, Sec-Fetch-Site.
func TestRequestChecks(t *testing.T) {
	f := newFixture(t, Config{})
	undo := strings.NewReader(`{"journal":""}`)
	for _, c := range []struct {
		name, method, target string
		hdr                  map[string]string
		code                 int
	}{
		{"rebound host", "GET", "/api/status", map[string]string{"Host": "evil.example:7878"}, http.StatusMisdirectedRequest},
		{"other port", "GET", "/", map[string]string{"Host": "127.0.0.1:80"}, http.StatusMisdirectedRequest},
		{"no CSRF", "POST", "/api/undo", map[string]string{"X-CSRF-Token": ""}, http.StatusForbidden},
		{"wrong CSRF", "POST", "/api/undo", map[string]string{"X-CSRF-Token": strings.Repeat("0", 64)}, http.StatusForbidden},
		{"foreign origin", "POST", "/api/undo", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"origin other port", "POST", "/api/undo", map[string]string{"Origin": "http://127.0.0.1:9999"}, http.StatusForbidden},
		{"null origin", "POST", "/api/undo", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"cross-site fetch", "POST", "/api/undo", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"GET of a POST endpoint", "GET", "/api/apply", nil, http.StatusNotFound},
		{"same origin", "POST", "/api/undo", map[string]string{"Origin": "http://" + testHost, "Sec-Fetch-Site": "same-origin"}, http.StatusBadRequest},
	} {
		var body io.Reader
		if c.method == "POST" {
			body = undo
		}
		rec := f.do(c.method, c.target, body, c.hdr)
		if rec.Code != c.code {
			t.Errorf("%s: %d %s; want %d", c.name, rec.Code, rec.Body, c.code)
		}
	}
}

// TestToken: off loopback every request needs the token: a bearer
// header, or a first ?token= visit that sets a cookie.
func TestToken(t *testing.T) {
	f := newFixture(t, Config{Token: "s3cret", Hosts: []string{}})
	if rec := f.do("GET", "/api/status", nil, map[string]string{"Host": "192.168.1.5:7878"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", rec.Code)
	}
	if rec := f.do("GET", "/api/status", nil, map[string]string{"Authorization": "Bearer wrong"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", rec.Code)
	}
	if rec := f.do("GET", "/api/status", nil, map[string]string{"Authorization": "Bearer s3cret"}); rec.Code != 200 {
		t.Errorf("bearer: %d", rec.Code)
	}
	rec := f.do("GET", "/dups?token=s3cret", nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dups" {
		t.Fatalf("?token=: %d %v", rec.Code, rec.Header())
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie %+v", cookie)
	}
	if rec := f.do("GET", "/api/status", nil, map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}); rec.Code != 200 {
		t.Errorf("cookie: %d", rec.Code)
	}
	if rec := f.do("POST", "/api/undo?token=s3cret", strings.NewReader("{}"), nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("?token= on a POST: %d", rec.Code)
	}
}
