package web

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/calibrate"
	"github.com/embedsearch/embedsearch/index"
	"github.com/embedsearch/embedsearch/internal/testenv"
	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"
)

func (f *fixture) groups(query string) dedupAnswer {
	f.t.Helper()
	var ans dedupAnswer
	f.json("GET", "/api/dedup?"+query, nil, &ans, 200)
	return ans
}

// TestDedupApplyUndo: the page's groups are the library's; trash acts
// only on the members chosen, is journalled, and undo brings the files
// back byte for byte, store entries included.
func TestDedupApplyUndo(t *testing.T) {
	f := newFixture(t, Config{})
	before := testenv.FileSums(t, f.root)
	ans := f.groups("preset=near")
	if len(ans.Groups) != 1 || len(ans.Groups[0].Members) != 2 || ans.Preset != "near" || ans.Policy != "best" {
		t.Fatalf("groups %+v", ans)
	}
	g := ans.Groups[0]
	keeper := g.Keeper
	other := f.paths["a.jpg"]
	if keeper == other {
		other = f.paths["sub/a-copy.jpg"]
	}
	if m := g.Members[0]; !(m.Keep == (m.Path == keeper)) || g.Members[1].Check == "" && g.Members[0].Check == "" {
		t.Errorf("members %+v", g.Members)
	}
	for _, c := range []struct {
		name string
		body string
		code int
	}{
		{"a path of no group", `{"op":"trash","groups":[{"keeper":"` + keeper + `","act":["` + f.paths["b.jpg"] + `"]}]}`, http.StatusConflict},
		{"an outside path", `{"op":"trash","groups":[{"keeper":"` + keeper + `","act":["/etc/passwd"]}]}`, http.StatusConflict},
		{"keeper acted on", `{"op":"trash","groups":[{"keeper":"` + keeper + `","act":["` + keeper + `"]}]}`, http.StatusConflict},
		{"nothing chosen", `{"op":"trash","groups":[{"keeper":"` + keeper + `","act":[]}]}`, http.StatusConflict},
		{"delete unconfirmed", `{"op":"delete","groups":[{"keeper":"` + keeper + `","act":["` + other + `"]}]}`, http.StatusBadRequest},
		{"unknown op", `{"op":"shred","groups":[]}`, http.StatusBadRequest},
		{"relative move_to", `{"op":"move","move_to":"x","groups":[]}`, http.StatusBadRequest},
		{"unknown field", `{"op":"trash","force":true}`, http.StatusBadRequest},
		{"bad preset", `{"op":"trash","preset":"fuzzy","groups":[]}`, http.StatusBadRequest},
	} {
		rec := f.do("POST", "/api/apply", strings.NewReader(c.body), nil)
		if rec.Code != c.code {
			t.Errorf("%s: %d %s; want %d", c.name, rec.Code, rec.Body, c.code)
		}
	}
	if got := testenv.FileSums(t, f.root); !maps.Equal(got, before) {
		t.Fatal("a refused request changed files")
	}

	req := map[string]any{"op": "trash", "dry_run": true, "groups": []map[string]any{{"keeper": keeper, "act": []string{other}}}}
	var res applyAnswer
	f.json("POST", "/api/apply", req, &res, 200)
	if len(res.Results) != 1 || res.Results[0].Status != "planned" || res.Journal != "" {
		t.Fatalf("dry run %+v", res)
	}
	if got := testenv.FileSums(t, f.root); !maps.Equal(got, before) {
		t.Fatal("a dry run changed files")
	}
	req["dry_run"] = false
	f.json("POST", "/api/apply", req, &res, 200)
	if res.Done != 1 || res.Results[0].Path != other || res.Journal == "" {
		t.Fatalf("apply %+v", res)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Fatalf("%s still there: %v", other, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(f.trash, "files")); len(ents) != 1 {
		t.Fatalf("trash holds %d files", len(ents))
	}
	if ans := f.groups("preset=near"); len(ans.Groups) != 0 || ans.Images != 5 || ans.Journal != res.Journal {
		t.Fatalf("after trash: %+v", ans)
	}
	var un struct {
		Journal  string
		Restored int
	}
	f.json("POST", "/api/undo", map[string]string{"journal": ""}, &un, 200)
	if un.Restored != 1 || un.Journal != res.Journal {
		t.Fatalf("undo %+v", un)
	}
	if got := testenv.FileSums(t, f.root); !maps.Equal(got, before) {
		t.Fatalf("after undo the files differ:\n%v\n%v", got, before)
	}
	if ans := f.groups("preset=near"); len(ans.Groups) != 1 || ans.Images != 6 {
		t.Fatalf("after undo: %+v", ans)
	}
	for _, bad := range []string{"../../etc/passwd", "/etc/passwd", "dedup-x.json", "dedup-\x00.jsonl"} {
		if rec := f.do("POST", "/api/undo", strings.NewReader(`{"journal":"`+strings.ReplaceAll(bad, "\x00", `\u0000`)+`"}`), nil); rec.Code != http.StatusBadRequest {
			t.Errorf("undo %q: %d %s", bad, rec.Code, rec.Body)
		}
	}
	if rec := f.do("POST", "/api/undo", strings.NewReader(`{"journal":"dedup-none.jsonl"}`), nil); rec.Code != http.StatusNotFound {
		t.Errorf("undo of a missing journal: %d %s", rec.Code, rec.Body)
	}
}

// TestActionsRefusedWhileLocked: another writer (an index run of the CLI)
// or another change of this server holds the store: actions say so.
func TestActionsRefusedWhileLocked(t *testing.T) {
	f := newFixture(t, Config{})
	g := f.groups("").Groups[0]
	var act string
	for _, m := range g.Members {
		if !m.Keep {
			act = m.Path
		}
	}
	body := `{"op":"trash","groups":[{"keeper":"` + g.Keeper + `","act":["` + act + `"]}]}`
	r, _ := store.Open(f.store)
	w, err := store.OpenWriter(f.store, r.Model(), store.WriterOptions{})
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	rec := f.do("POST", "/api/apply", strings.NewReader(body), nil)
	w.Close()
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "locked") {
		t.Errorf("writer lock held: %d %s", rec.Code, rec.Body)
	}
	f.srv.change.Lock()
	for p, b := range map[string]string{"/api/apply": body, "/api/undo": `{"journal":""}`} {
		if rec := f.do("POST", p, strings.NewReader(b), nil); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "in progress") {
			t.Errorf("%s while busy: %d %s", p, rec.Code, rec.Body)
		}
	}
	f.srv.change.Unlock()
	if _, err := os.Stat(act); err != nil {
		t.Fatal("a refused action moved a file")
	}
}

// TestNotDuplicates: a group marked is not proposed again.
func TestNotDuplicates(t *testing.T) {
	f := newFixture(t, Config{})
	g := f.groups("").Groups[0]
	paths := []string{g.Members[0].Path, g.Members[1].Path}
	var n map[string]int
	f.json("POST", "/api/notdup", map[string]any{"paths": paths}, &n, 200)
	if n["pairs"] != 1 || len(f.groups("").Groups) != 0 {
		t.Fatalf("after marking: %v, %+v", n, f.groups(""))
	}
	f.json("POST", "/api/notdup", map[string]any{"paths": paths, "unmark": true}, &n, 200)
	if len(f.groups("").Groups) != 1 {
		t.Fatal("unmarking did not bring the group back")
	}
	f.json("POST", "/api/notdup", map[string]any{"paths": []string{paths[0], "/etc/passwd"}}, nil, http.StatusNotFound)
	f.json("POST", "/api/notdup", map[string]any{"paths": []string{paths[0]}}, nil, http.StatusBadRequest)
}

// TestThumbnails: a JPEG no larger than ThumbSize, an ETag answered with
// 304, a disk cache under the store trimmed to its cap.
func TestThumbnails(t *testing.T) {
	big := jpegOf(5, 1000, 500)
	f := newFixture(t, Config{ThumbCache: 3000})
	os.WriteFile(f.paths["b.jpg"], big, 0o644) // changed: a new thumbnail
	rec := f.do("GET", "/api/thumb?path="+f.paths["b.jpg"], nil, nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/jpeg" || rec.Header().Get("ETag") == "" {
		t.Fatalf("thumb: %d %v", rec.Code, rec.Header())
	}
	cfg, err := decodeConfig(rec.Body.Bytes())
	if err != nil || cfg.Width != ThumbSize || cfg.Height != ThumbSize/2 {
		t.Fatalf("thumb is %+v, %v; want %dx%d", cfg, err, ThumbSize, ThumbSize/2)
	}
	etag := rec.Header().Get("ETag")
	if rec := f.do("GET", "/api/thumb?path="+f.paths["b.jpg"], nil, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
	for _, n := range []string{"a.jpg", "c.jpg", "d.jpg", "e.jpg", "sub/a-copy.jpg"} {
		if rec := f.do("GET", "/api/thumb?path="+f.paths[n], nil, nil); rec.Code != 200 {
			t.Fatalf("thumb %s: %d", n, rec.Code)
		}
	}
	var total int64
	ents, _ := os.ReadDir(filepath.Join(f.store, "thumbs"))
	for _, e := range ents {
		fi, _ := e.Info()
		total += fi.Size()
	}
	if len(ents) == 0 || total > 3000 {
		t.Errorf("thumbs/ holds %d files, %d bytes; want some, at most the cap 3000", len(ents), total)
	}
	// A corrupt file: an error, not a crash.
	os.WriteFile(f.paths["c.jpg"], []byte("\xff\xd8\xff garbage"), 0o644)
	if rec := f.do("GET", "/api/thumb?path="+f.paths["c.jpg"], nil, nil); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("corrupt: %d", rec.Code)
	}
}

// TestIndexEvents: "index now" runs the Indexer in the background, streams
// its progress as server-sent events, refuses a second run, and stops on
// cancel.
func TestIndexEvents(t *testing.T) {
	started := make(chan struct{})
	indexer := func(ctx context.Context, progress func(index.Progress)) (index.Stats, error) {
		progress(index.Progress{Phase: index.PhaseEmbed, Todo: 10, Done: 3})
		close(started)
		<-ctx.Done()
		return index.Stats{Scanned: 10, New: 3}, ctx.Err()
	}
	ts := httptest.NewUnstartedServer(nil)
	f := newFixture(t, Config{Index: indexer, Hosts: []string{ts.Listener.Addr().String()}})
	ts.Config.Handler = f.srv
	ts.Start()
	defer ts.Close()
	post := func(p string) *http.Response {
		req, _ := http.NewRequest("POST", ts.URL+p, nil)
		req.Header.Set("X-CSRF-Token", f.srv.CSRF())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("/api/index"); resp.StatusCode != 200 {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	<-started
	if resp := post("/api/index"); resp.StatusCode != http.StatusConflict {
		t.Errorf("second run: %d", resp.StatusCode)
	}
	resp, err := http.Get(ts.URL + "/api/index/events")
	if err != nil || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %v %v", err, resp)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	if !strings.Contains(string(buf[:n]), `"todo":10`) || !strings.Contains(string(buf[:n]), `"running":true`) {
		t.Fatalf("first event %q", buf[:n])
	}
	time.AfterFunc(50*time.Millisecond, func() { post("/api/index/cancel") })
	var all strings.Builder
	for {
		n, err := resp.Body.Read(buf)
		all.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(all.String(), `"running":false`) || !strings.Contains(all.String(), "context canceled") {
		t.Fatalf("last events %q", all.String())
	}
}

func decodeConfig(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) }

// TestThumbnailBombGuard: the decoder's pixel cap is checked before any
// pixel is decoded; a larger image gets an error, not a thumbnail.
func TestThumbnailBombGuard(t *testing.T) {
	f := newFixture(t, Config{MaxPixels: 1000})
	rec := f.do("GET", "/api/thumb?path="+f.paths["a.jpg"], nil, nil)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "pixels") {
		t.Errorf("64x48 under a 1000-pixel cap: %d %s", rec.Code, rec.Body)
	}
}

// TestImageContentType: /api/image names the type by the file's bytes;
// a stored image replaced by a page is never served as one.
func TestImageContentType(t *testing.T) {
	f := newFixture(t, Config{})
	rec := f.do("GET", "/api/image?path="+f.paths["a.jpg"], nil, nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/jpeg" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("a.jpg: %d %v", rec.Code, rec.Header())
	}
	os.WriteFile(f.paths["b.jpg"], []byte("<html><script>alert(1)</script></html>"), 0o644)
	rec = f.do("GET", "/api/image?path="+f.paths["b.jpg"], nil, nil)
	if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || ct != "application/octet-stream" {
		t.Fatalf("a page where an image was: %d %q", rec.Code, ct)
	}
}

// TestDedupUsesStoreCalibration: the duplicates page groups by the store's
// own calibration (embedsearch calibrate) before the manifest's presets, as
// dedup does, and a new calibration regroups at once.
func TestDedupUsesStoreCalibration(t *testing.T) {
	f := newFixture(t, Config{})
	if ans := f.groups("preset=near"); len(ans.Groups) != 1 {
		t.Fatalf("groups before calibrating: %+v", ans)
	}
	r, err := store.Open(f.store)
	if err != nil {
		t.Fatal(err)
	}
	b := r.Model()
	r.Close()
	tight := models.Thresholds{Exact: 1e-6, Near: 1e-6, Similar: 1e-6}
	if err := calibrate.Save(f.store, &calibrate.Calibration{ModelID: b.ModelID, Digest: b.Digest, Date: time.Now(),
		Photos: 10, Copies: 80, Thresholds: tight}); err != nil {
		t.Fatal(err)
	}
	if ans := f.groups("preset=near"); len(ans.Groups) != 0 {
		t.Errorf("groups with a calibration that admits nothing: %+v", ans)
	}
	// The status page shows the presets dedup groups by.
	var st struct {
		Presets models.Thresholds `json:"presets"`
	}
	f.json("GET", "/api/status", nil, &st, 200)
	if st.Presets != tight {
		t.Errorf("status presets %+v, want the calibration's %+v", st.Presets, tight)
	}
}
