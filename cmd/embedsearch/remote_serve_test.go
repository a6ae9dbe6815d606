package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// TestServeRemote: serve on a weaviate:// store answers from the mirror
// (status, query, duplicates), and its actions and undo change the files
// and the collection as dedup does, journalled where dedup keeps them.
func TestServeRemote(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	t.Setenv(envMirror, t.TempDir())
	t.Setenv("XDG_DATA_HOME", t.TempDir()) // the trash and the journals
	url := c.URL("Served")
	l, _ := weaviatestore.ParseLocation(url)
	dir, _ := imageDir(t, 6)
	img0, dup := filepath.Join(dir, "img0.png"), filepath.Join(dir, "copy.png")
	data, _ := os.ReadFile(img0)
	if err := os.WriteFile(dup, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := embedCLI(t, "", "index", dir, "--store", url, "--model", tinyModel); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	base, _ := startServe(t, "--store", url, "--addr", "127.0.0.1:0", "--model", tinyModel)
	csrf := ""
	call := func(method, path string, body any, into any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || json.Unmarshal(raw, into) != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	var session struct{ CSRF string }
	call("GET", "api/session", nil, &session)
	csrf = session.CSRF
	var status struct {
		Store  string
		Images int
	}
	call("GET", "api/status", nil, &status)
	if status.Store != l.String() || status.Images != 6 {
		t.Fatalf("status: %+v; want %s with 6 images", status, l)
	}
	var groups struct {
		Groups []struct {
			Keeper  string
			Members []struct{ Path string }
		}
	}
	call("GET", "api/dedup", nil, &groups)
	if len(groups.Groups) != 1 || len(groups.Groups[0].Members) != 2 {
		t.Fatalf("duplicates: %+v; want img0.png and copy.png", groups)
	}
	keeper := groups.Groups[0].Keeper
	other := img0
	if keeper == img0 {
		other = dup
	}
	var applied struct {
		Done    int
		Journal string
		Error   string
	}
	call("POST", "api/apply", map[string]any{"op": "trash", "groups": []map[string]any{{"keeper": keeper, "act": []string{other}}}}, &applied)
	jdir, _ := journalDir(l)
	if _, err := os.Stat(other); applied.Done != 1 || applied.Error != "" || err == nil {
		t.Fatalf("trash %s: %+v, stat %v", other, applied, err)
	}
	if _, err := os.Stat(filepath.Join(jdir, applied.Journal)); err != nil {
		t.Errorf("journal %s not in %s: %v", applied.Journal, jdir, err)
	}
	if n := objects(t, url); n != 5 {
		t.Errorf("the collection holds %d images after trashing one of 6", n)
	}
	call("GET", "api/status", nil, &status)
	if status.Images != 5 {
		t.Errorf("serve's status after the action: %d images; want 5", status.Images)
	}
	var undone struct{ Restored int }
	call("POST", "api/undo", map[string]any{}, &undone)
	if _, err := os.Stat(other); undone.Restored != 1 || err != nil {
		t.Fatalf("undo: %+v, %s: %v", undone, other, err)
	}
	if n := objects(t, url); n != 6 {
		t.Errorf("the collection holds %d images after undo; want 6", n)
	}
	var answer struct{ Results []struct{ Path string } }
	call("GET", "api/query?k=3&path="+img0, nil, &answer)
	var paths []string
	for _, r := range answer.Results {
		paths = append(paths, r.Path)
	}
	if len(paths) < 2 || !strings.Contains(strings.Join(paths, " "), other) {
		t.Errorf("query after undo: %v; want %s back", paths, other)
	}
}
