package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/store"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// timings are the parts of index's summary that vary from run to run.
var timings = regexp.MustCompile(`; [0-9.]+(ms|s|m[0-9.]*s), [0-9.]+ images/s`)

// backendScript runs the same commands on the store S over the images in
// dir and returns what a user sees of each (stdout, exit code, stderr),
// with dir, S and the timings taken out.
func backendScript(t *testing.T, dir, s string) []string {
	t.Helper()
	esc := strings.ReplaceAll(dir, "/", `\/`) // dir in a filter
	names := strings.NewReplacer(s, "STORE", esc, "EDIR", dir, "DIR")
	if l, err := weaviatestore.ParseLocation(s); err == nil {
		names = strings.NewReplacer(s, "STORE", l.String(), "STORE", esc, "EDIR", dir, "DIR")
	}
	var seen []string
	run := func(args ...string) {
		t.Helper()
		code, out, errs := embedCLI(t, "", args...)
		out = timings.ReplaceAllString(out, "; TIME")
		text := strings.Join(args, " ") + "\n=> " + strings.TrimSpace(out) + "\n=> exit " + string(rune('0'+code)) + " " + strings.TrimSpace(errs)
		seen = append(seen, names.Replace(text))
	}
	img := filepath.Join(dir, "img0.png")
	if data, err := os.ReadFile(img); err != nil || os.WriteFile(filepath.Join(dir, "copy.png"), data, 0o644) != nil {
		t.Fatal("cannot copy img0.png", err)
	}
	// Folders A and a: a path filter must tell them apart, and keep A
	// (which word tokenization would drop as a stopword).
	for name, from := range map[string]string{"A/x.png": "img5.png", "a/y.png": "img4.png", "A/z.png": "img3.png"} {
		data, err := os.ReadFile(filepath.Join(dir, from))
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err != nil || os.WriteFile(filepath.Join(dir, name), data, 0o644) != nil {
			t.Fatal("cannot copy", from, err)
		}
	}
	stampTimes(t, dir)
	run("index", dir, "--store", s, "--model", tinyModel)
	run("index", dir, "--store", s, "--model", tinyModel)
	rep := statusJSON(t, s)
	if rep.Store != s || rep.LastIndexed == nil || time.Since(*rep.LastIndexed) > time.Hour {
		t.Errorf("status of %s: %+v", s, rep)
	}
	seen = append(seen, names.Replace(strings.Join([]string{rep.Model, string(rune('0' + rep.Images)), strings.Join(rep.Roots, ","), string(rune('0' + rep.Failed)), rep.Search.Mode}, " ")))
	run("query", img, "--store", s, "--model", tinyModel, "--json", "-k", "4")
	run("query", img, "--store", s, "--model", tinyModel, "--csv", "--filter", "width:>41")
	run("query", img, "--store", s, "--model", tinyModel, "--paths", "--in", filepath.Join(dir, "sub"))
	// Where filters on a Weaviate collection (and the clauses that have
	// none, answered from the mirror): the same answers.
	for _, args := range [][]string{
		{"--in", filepath.Join(dir, "A")}, {"--filter", "path:" + esc + `\/A\/*`}, {"--filter", "path:" + esc + `\/?\/*.png -width:45`},
		{"--filter", "path:" + esc + `\/a\/y.png`}, {"--filter", "width:>100000"}, {"--filter", "width:44 size:>10"},
		{"--filter", "name:x.png"}, {"--filter", "make:A"}, {"--exclude-self", "-k", "3", "--in", dir}, {"--exact", "-k", "3"},
		{"--filter", `path:"` + filepath.Join(dir, "A", "x.png") + `"`}, {"--filter", `-path:"` + filepath.Join(dir, "a", "y.png") + `" width:<46`},
		{"--filter", `name:"X.png"`},
		{"--max-distance", "0.5"},
	} {
		run(append([]string{"query", img, "--store", s, "--model", tinyModel, "--csv"}, args...)...)
	}
	run("query", filepath.Join(dir, "A", "x.png"), img, "--mean", "--store", s, "--json", "-k", "2", "--filter", "width:<=44")
	run("dedup", "--store", s, "--model", tinyModel, "--json")
	run("forget", "--store", s, filepath.Join(dir, "sub"))
	run("query", img, "--store", s, "--model", tinyModel, "--csv")
	os.Remove(filepath.Join(dir, "img3.png"))
	run("index", dir, "--store", s, "--model", tinyModel)
	run("query", img, "--store", s, "--model", tinyModel, "--csv")
	// An unmounted drive: its entries are kept, with the same warning.
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	run("index", dir, "--store", s, "--model", tinyModel)
	os.Rename(dir+".away", dir)
	run("index", dir, "--store", s, "--model", "builtin") // another model: refused
	return seen
}

// TestStoreBackends: index, status, query (filters too), dedup (a copy
// found) and forget print the same on a Weaviate collection as on a local
// store, and another model is refused with the same message.
func TestStoreBackends(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	t.Setenv(envMirror, t.TempDir())
	dir, _ := imageDir(t, 6)
	local := backendScript(t, dir, filepath.Join(t.TempDir(), "store"))
	dir, _ = imageDir(t, 6) // the same images afresh
	remote := backendScript(t, dir, c.URL("Library"))
	sameSteps(t, local, remote)
}

// objects counts the images a Weaviate collection holds (each object
// once, whatever the catalogue says).
func objects(t *testing.T, url string) int {
	t.Helper()
	l, err := weaviatestore.ParseLocation(url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := weaviatestore.OpenReader(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.Each(context.Background(), false, func(store.Entry, []float32) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRemoteConcurrentIndex: two index processes write one collection at
// once (each its own folder and a shared one): nothing is lost and
// nothing is stored twice. The same library reached through another path
// (a symbolic link standing for a second mount) is found unchanged, not
// stored again.
func TestRemoteConcurrentIndex(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	t.Setenv(envMirror, t.TempDir())
	url := c.URL("Together")
	// Before anything is indexed, readers and forget say so and create nothing.
	for _, args := range [][]string{{"status"}, {"query", "x.jpg"}, {"forget", "/x"}, {"dedup"}} {
		code, _, errs := embedCLI(t, "", append(args, "--store", url)...)
		if code != 1 || !strings.Contains(errs, "no store at weaviate://") || !strings.Contains(errs, "embedsearch index DIR") {
			t.Errorf("%s on a collection that does not exist: %d %s", args[0], code, errs)
		}
	}
	a, _ := imageDir(t, 6)
	b, _ := imageDir(t, 6) // the same pixels as a, other files
	p1 := startMain(t, nil, "index", a, b, "--store", url, "--model", tinyModel)
	p2 := startMain(t, nil, "index", b, a, "--store", url, "--model", tinyModel)
	for _, p := range []*process{p1, p2} {
		if code := p.wait(t, 3*time.Minute); code != 0 {
			t.Fatalf("index: exit %d\n%s\n%s", code, p.stdout.String(), p.stderr.String())
		}
	}
	if n := objects(t, url); n != 10 {
		t.Errorf("%d objects after two concurrent runs; want 10 (5 images in each folder, once)", n)
	}
	if rep := statusJSON(t, url); rep.Images != 10 || len(rep.Roots) != 2 {
		t.Errorf("status: %+v", rep)
	}

	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Symlink(a, mnt); err != nil {
		t.Fatal(err)
	}
	code, out, errs := embedCLI(t, "", "index", mnt, "--store", url, "--model", tinyModel)
	if code != 0 || !strings.Contains(out, "scanned 5, new 0, changed 0, moved 0, removed 0") {
		t.Fatalf("the library under a second path: %d\n%s\n%s", code, out, errs)
	}
	if n := objects(t, url); n != 10 {
		t.Errorf("%d objects after indexing a library under a second path; want 10", n)
	}

	// Readers read the collection again only when embedsearch changed it
	// (its version): an object deleted behind its back stays in the mirror
	// until the next change through embedsearch.
	statusJSON(t, url) // the mirror in step
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("http://127.0.0.1:%d/v1/objects/Together/%s", c.Nodes[0].HTTP,
		weaviatestore.ObjectID(filepath.Join(a, "img0.png"))), nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete behind embedsearch's back: %v %v", resp, err)
	}
	if rep := statusJSON(t, url); rep.Images != 10 {
		t.Errorf("status read the collection again though its version did not change: %d images", rep.Images)
	}
	if code, out, errs := embedCLI(t, "", "forget", "--store", url, filepath.Join(a, "sub")); code != 0 || !strings.Contains(out, "forgot 1") {
		t.Fatalf("forget: %d %s %s", code, out, errs)
	}
	if rep := statusJSON(t, url); rep.Images != 8 {
		t.Errorf("after forget: %d images; want 8 (10, less the one deleted behind its back, less the forgotten one)", rep.Images)
	}
}

// TestRemoteQueryServer: query on a Weaviate collection is answered by
// Weaviate's search, filters and --in by where filters, with no local
// mirror; only a clause without a where filter (or --exact) brings the
// mirror in. An emptied collection says so as a local store does.
func TestRemoteQueryServer(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	mirrors := t.TempDir()
	t.Setenv(envMirror, mirrors)
	url := c.URL("Served")
	dir, _ := imageDir(t, 6)
	img := filepath.Join(dir, "img0.png")
	if code, out, errs := embedCLI(t, "", "index", dir, "--store", url, "--model", tinyModel); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	mirrored := func() bool {
		ents, _ := os.ReadDir(mirrors)
		return len(ents) > 0
	}
	var served string
	for _, args := range [][]string{{}, {"--filter", "width:>41 -size:1"}, {"--in", filepath.Join(dir, "sub")}, {"--exclude-self"}} {
		code, out, errs := embedCLI(t, "", append([]string{"query", img, "--store", url, "--csv"}, args...)...)
		if code != 0 || !strings.Contains(out, "img0.png,") {
			t.Fatalf("query %v: %d %s %s", args, code, out, errs)
		}
		if mirrored() {
			t.Fatalf("query %v made a mirror; want Weaviate's search", args)
		}
		if len(args) == 0 {
			served = out
		}
	}
	code, out, errs := embedCLI(t, "", "query", img, "--store", url, "--csv", "--exact")
	if code != 0 || out != served || !mirrored() {
		t.Errorf("query --exact: %d, mirror made %v, %s%s; want the mirror's exact answer, the same:\n%s", code, mirrored(), out, errs, served)
	}
	os.RemoveAll(mirrors)
	if code, out, errs := embedCLI(t, "", "query", img, "--store", url, "--csv", "--filter", "name:img*"); code != 0 || !mirrored() {
		t.Errorf("query --filter name:img*: %d, mirror made %v, %s%s", code, mirrored(), out, errs)
	}
	if code, out, errs := embedCLI(t, "", "forget", "--store", url, dir); code != 0 {
		t.Fatalf("forget: %d %s %s", code, out, errs)
	}
	os.RemoveAll(mirrors)
	vf := filepath.Join(t.TempDir(), "v.json")
	os.WriteFile(vf, []byte("[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]"), 0o644)
	code, _, errs = embedCLI(t, "", "query", "--vector", vf, "--store", url)
	if code != 1 || !strings.Contains(errs, "store weaviate://") || !strings.Contains(errs, "/Served holds no images yet") || mirrored() {
		t.Errorf("query on an emptied collection: %d %s", code, errs)
	}
}

// sameSteps fails t where a script's steps on a local store and on
// Weaviate differ, and logs the remote ones.
func sameSteps(t *testing.T, local, remote []string) {
	t.Helper()
	if len(local) != len(remote) {
		t.Fatalf("%d steps against %d", len(local), len(remote))
	}
	for i := range local {
		if local[i] != remote[i] {
			t.Errorf("step %d differs:\nlocal:  %s\nremote: %s", i, local[i], remote[i])
		}
	}
	t.Logf("%s", strings.Join(remote, "\n"))
}

// stampTimes gives the files under dir modification times a minute apart
// in path order, the same in every run: a keeper chosen by age must not
// hang on whether two writes fell within one clock tick.
func stampTimes(t *testing.T, dir string) {
	t.Helper()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	i := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		i++
		at := base.Add(time.Duration(i) * time.Minute)
		return os.Chtimes(p, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}
