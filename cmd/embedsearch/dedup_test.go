package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedsearch/embedsearch/models"
	"github.com/embedsearch/embedsearch/store"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// dedupFixture is a store bound to the tiny test model, holding real files
// whose vectors are planted: groups of near-identical vectors among random
// ones.
type dedupFixture struct {
	root, storeDir string
	model          string // --model for the tiny test model
	paths          map[string]string
}

type dedupPlant struct {
	name          string // relative path
	group         int    // -1: random vector
	noise         float64
	width, height int
}

func newDedupFixture(t *testing.T, plants []dedupPlant) *dedupFixture {
	t.Helper()
	tmp := t.TempDir()
	f := &dedupFixture{root: filepath.Join(tmp, "photos"), storeDir: filepath.Join(tmp, "store"),
		model: filepath.Join(testenv.RepoRoot(t), "testdata", "models", "tiny"), paths: map[string]string{}}
	m, err := models.Open(f.model)
	if err != nil {
		t.Fatal(err)
	}
	dim := m.Manifest.Dim
	b := store.Binding{ModelID: m.Manifest.ID, Digest: m.Digest(), Preprocess: m.Manifest.Preprocess.Fingerprint(), Dim: dim}
	w, err := store.OpenWriter(f.storeDir, b, store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	randVec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	centres := map[int][]float32{}
	for i, p := range plants {
		path := filepath.Join(f.root, p.name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte("image bytes of "+p.name), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Date(2022, 1, 1, 0, 0, i, 0, time.UTC)
		os.Chtimes(path, mt, mt)
		fi, _ := os.Stat(path)
		var v []float32
		if p.group < 0 {
			v = randVec()
		} else {
			c, ok := centres[p.group]
			if !ok {
				c = randVec()
				dedupNormalize(c)
				centres[p.group] = c
			}
			v = append([]float32(nil), c...)
			for i := range v {
				v[i] += float32(p.noise * rng.NormFloat64() / math.Sqrt(float64(dim)))
			}
		}
		dedupNormalize(v)
		e := store.Entry{Path: path, Size: fi.Size(), ModTime: fi.ModTime(), Width: p.width, Height: p.height, Format: "jpeg"}
		if err := w.Put(e, v); err != nil {
			t.Fatal(err)
		}
		f.paths[p.name] = path
	}
	w.AddRoots(f.root)
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	return f
}

func dedupNormalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	for i := range v {
		v[i] /= n
	}
}

// dedupFiles lists every file under dir with its bytes' hash, mode and
// modification time, or its link target.
func dedupFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			m[p] = "-> " + target
			return err
		}
		data, err := os.ReadFile(p)
		m[p] = fmt.Sprintf("%x %v %v", sha256.Sum256(data), fi.Mode(), fi.ModTime().UnixNano())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// entries returns the store's entries, with their vectors, as text by path.
func (f *dedupFixture) entries(t *testing.T) map[string]string {
	t.Helper()
	r, err := store.Open(f.storeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := map[string]string{}
	for id := 0; id < r.Len(); id++ {
		e := r.Entry(id)
		m[e.Path] = fmt.Sprintf("%+v %v", e, r.Vector(id))
	}
	return m
}

// copyBytes gives the file to the bytes (and modification time) of from,
// and its store entry the new size and time: a byte-identical duplicate.
func (f *dedupFixture) copyBytes(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(f.paths[from])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.paths[to], data, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(f.paths[from])
	os.Chtimes(f.paths[to], fi.ModTime(), fi.ModTime())
	r, err := store.Open(f.storeDir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	id, _ := r.Lookup(f.paths[to])
	e, vec := r.Entry(id), append([]float32(nil), r.Vector(id)...)
	e.Size, e.ModTime = fi.Size(), fi.ModTime()
	w, err := store.OpenWriter(f.storeDir, r.Model(), store.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Put(e, vec); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// run runs the CLI with the fixture's store and model.
func (f *dedupFixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"embedsearch", "dedup", "--store", f.storeDir, "--model", f.model}, args...)
	code := run(context.Background(), full, &out, &errb)
	return code, out.String(), errb.String()
}

var dedupStandard = []dedupPlant{
	{"a/one.jpg", 1, 0.02, 800, 600},
	{"b/one-copy.jpg", 1, 0.02, 1600, 1200}, // largest resolution: keeper
	{"c/one-small.jpg", 1, 0.02, 200, 150},
	{"a/two.jpg", 2, 0.02, 640, 480}, // tie on resolution: path decides
	{"b/two.jpg", 2, 0.02, 640, 480},
	{"a/lonely.jpg", -1, 0, 100, 100},
	{"b/other.jpg", -1, 0, 100, 100},
	{"c/third.jpg", -1, 0, 100, 100},
}

type dedupOut struct {
	Version      int     `json:"version"`
	Model        string  `json:"model"`
	Preset       string  `json:"preset"`
	PresetSource string  `json:"preset_source"`
	Threshold    float64 `json:"threshold"`
	Criterion    *struct {
		Exact float64 `json:"exact"`
		models.Dedup
	} `json:"criterion"`
	Journal string `json:"journal"`
	Policy  string `json:"keep_policy"`
	Method  string `json:"method"`
	Action  string `json:"action"`
	DryRun  bool   `json:"dry_run"`
	Groups  []struct {
		Keep       string   `json:"keep"`
		KeepReason []string `json:"keep_reason"`
		Members    []struct {
			Path     string   `json:"path"`
			Distance *float64 `json:"distance"`
			Score    float64  `json:"score"`
			Check    string   `json:"check"`
			Match    float64  `json:"match"`
			Width    *int     `json:"width"`
			Height   *int     `json:"height"`
			Size     *int64   `json:"size"`
			Keep     bool     `json:"keep"`
			Ref      bool     `json:"reference"`
			Action   *struct {
				Op, Dest, Status, Reason, Held string
				Differs                        bool
			} `json:"action"`
		} `json:"members"`
		MaxDistance *float64 `json:"max_distance"`
	} `json:"groups"`
	Stats map[string]float64 `json:"stats"`
}

func parseDedup(t *testing.T, s string) dedupOut {
	t.Helper()
	var o dedupOut
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil || o.Version != 2 {
		t.Fatalf("parse JSON: %v (version %d)\n%s", err, o.Version, s)
	}
	return o
}

func TestDedupReportJSON(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	code, out, errs := f.run(t, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	o := parseDedup(t, out)
	if o.Model != "tiny-test-v1" || o.Threshold != 0.2 || o.PresetSource != "the model manifest" {
		t.Errorf("model %q threshold %v from %q, want tiny-test-v1 and the manifest's near threshold 0.2", o.Model, o.Threshold, o.PresetSource)
	}
	if len(o.Groups) != 2 {
		t.Fatalf("%d groups, want 2: %s", len(o.Groups), out)
	}
	wantKeep := []string{f.paths["b/one-copy.jpg"], f.paths["a/two.jpg"]}
	wantN := []int{3, 2}
	for i, g := range o.Groups {
		if g.Keep != wantKeep[i] || len(g.Members) != wantN[i] {
			t.Errorf("group %d: keep %s with %d members, want %s with %d", i, g.Keep, len(g.Members), wantKeep[i], wantN[i])
		}
		var maxD float64
		for _, m := range g.Members {
			if m.Distance == nil || m.Width == nil || m.Height == nil || m.Size == nil {
				t.Fatalf("member fields missing: %s", out)
			}
			if (m.Path == g.Keep) != m.Keep || (m.Keep && *m.Distance != 0) {
				t.Errorf("member %s keep %v distance %v", m.Path, m.Keep, *m.Distance)
			}
			if *m.Distance > 0.2 || (!m.Keep && *m.Distance <= 0) {
				t.Errorf("distance %v of %s", *m.Distance, m.Path)
			}
			maxD = math.Max(maxD, *m.Distance)
		}
		if g.MaxDistance == nil || *g.MaxDistance < maxD-1e-6 {
			t.Errorf("max_distance %v below a member distance %v", g.MaxDistance, maxD)
		}
	}
	if o.Stats["groups"] != 2 || o.Stats["duplicates"] != 3 || o.Stats["images"] != 8 {
		t.Errorf("stats %v", o.Stats)
	}
	// Same answer twice (deterministic).
	if _, out2, _ := f.run(t, "--json"); out2 != out {
		t.Error("second run differs")
	}
}

func TestDedupThresholdsAndPresets(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	_, out, _ := f.run(t, "--json", "--preset", "exact") // 0.01: noise 0.02 is above it
	if o := parseDedup(t, out); o.Threshold != 0.01 || len(o.Groups) != 0 {
		t.Errorf("exact preset: threshold %v, %d groups", o.Threshold, len(o.Groups))
	}
	_, out, _ = f.run(t, "--json", "--threshold", "0.5")
	if o := parseDedup(t, out); o.Threshold != 0.5 || len(o.Groups) != 2 {
		t.Errorf("--threshold 0.5: %v, %d groups", o.Threshold, len(o.Groups))
	}
	for _, bad := range [][]string{{"--threshold", "3"}, {"--threshold", "0"}, {"--preset", "fuzzy"},
		{"--threshold", "0.2", "--preset", "near"}, {"--keep", "biggest"}, {"--json", "--csv"}} {
		if code, _, errs := f.run(t, bad...); code != exitUsage || !strings.Contains(errs, "embedsearch: ") {
			t.Errorf("%v: exit %d, stderr %q; want usage error", bad, code, errs)
		}
	}
	// Another model than the store's: a clear error, unless --threshold.
	var out2, errb bytes.Buffer
	code := run(context.Background(), []string{"embedsearch", "dedup", "--store", f.storeDir, "--model",
		filepath.Join(testenv.RepoRoot(t), "testdata", "models", "tiny-fixed")}, &out2, &errb)
	if code != exitError || !strings.Contains(errb.String(), "tiny-test-v1") {
		t.Errorf("model mismatch: exit %d, %q", code, errb.String())
	}
}

func TestDedupCSVAndText(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	_, out, _ := f.run(t, "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || strings.Join(rows[0][:4], ",") != "group,path,keep,distance" {
		t.Fatalf("csv rows %q", rows)
	}
	keeps := 0
	for _, r := range rows[1:] {
		if r[2] == "true" {
			keeps++
			if r[3] != "0.0000" {
				t.Errorf("keeper distance %s", r[3])
			}
		}
	}
	if keeps != 2 {
		t.Errorf("%d keepers in csv", keeps)
	}
	_, text, _ := f.run(t)
	if !strings.Contains(text, "group 1: 3 images") || !regexp.MustCompile(`keep\s+\S+one-copy.jpg\s+1600x1200`).MatchString(text) ||
		!strings.Contains(text, "2 groups, 3 duplicates") || !strings.Contains(text, "by the near test (distance ≤ 0.2") {
		t.Errorf("text output:\n%s", text)
	}
}

func TestDedupExitCode(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	if code, _, _ := f.run(t); code != exitOK {
		t.Errorf("without --exit-code: %d", code)
	}
	// The fixture's images have no signatures: the one line on stderr says so.
	if code, _, errs := f.run(t, "--exit-code"); code != exitDuplicates || !onlySignatureNote(errs) {
		t.Errorf("--exit-code with duplicates: %d %q", code, errs)
	}
	if code, _, _ := f.run(t, "--exit-code", "--in", filepath.Join(f.root, "c")); code != exitOK {
		t.Errorf("--exit-code without duplicates: %d", code)
	}
}

func TestDedupInAndKeep(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	_, out, _ := f.run(t, "--json", "--in", filepath.Join(f.root, "a"), "--in", filepath.Join(f.root, "c"))
	o := parseDedup(t, out)
	if len(o.Groups) != 1 || o.Groups[0].Keep != f.paths["a/one.jpg"] || len(o.Groups[0].Members) != 2 {
		t.Errorf("--in a --in c: %s", out)
	}
	_, out, _ = f.run(t, "--json", "--keep", "prefer:"+filepath.Join(f.root, "c"))
	if o := parseDedup(t, out); o.Groups[0].Keep != f.paths["c/one-small.jpg"] || o.Groups[1].Keep != f.paths["a/two.jpg"] {
		t.Errorf("prefer c: keeps %s %s", o.Groups[0].Keep, o.Groups[1].Keep)
	}
	_, out, _ = f.run(t, "--json", "--keep", "newest") // mtimes increase with plant order
	if o := parseDedup(t, out); o.Groups[0].Keep != f.paths["c/one-small.jpg"] || o.Groups[1].Keep != f.paths["b/two.jpg"] {
		t.Errorf("newest: keeps %s %s", o.Groups[0].Keep, o.Groups[1].Keep)
	}
}

func TestDedupMoveUndo(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	dest := filepath.Join(filepath.Dir(f.root), "dups")
	// Dry run first: changes nothing.
	code, out, errs := f.run(t, "--json", "--move-to", dest, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run exit %d: %s", code, errs)
	}
	o := parseDedup(t, out)
	for _, g := range o.Groups {
		for _, m := range g.Members {
			if !m.Keep && (m.Action == nil || m.Action.Status != "planned" || m.Action.Op != "move") {
				t.Errorf("dry run action %+v", m.Action)
			}
			if _, err := os.Stat(m.Path); err != nil {
				t.Errorf("dry run touched %s", m.Path)
			}
		}
	}
	if _, err := os.Stat(dest); err == nil {
		t.Error("dry run created the destination")
	}

	before := f.entries(t)
	code, out, errs = f.run(t, "--json", "--move-to", dest)
	if code != 0 {
		t.Fatalf("move exit %d: %s", code, errs)
	}
	o = parseDedup(t, out)
	if o.Journal == "" || !strings.Contains(errs, o.Journal) || !strings.HasPrefix(o.Journal, filepath.Join(f.storeDir, "journals")) {
		t.Errorf("journal %q not under the store or not on stderr %q", o.Journal, errs)
	}
	moved := filepath.Join(dest, "a", "one.jpg")
	if _, err := os.Stat(moved); err != nil {
		t.Errorf("not moved: %v", err)
	}
	r, err := store.Open(f.storeDir)
	if err != nil {
		t.Fatal(err)
	}
	_, oldThere := r.Lookup(f.paths["a/one.jpg"])
	_, newThere := r.Lookup(moved)
	n := r.Len()
	r.Close()
	// Moved files leave the store: they are outside the folders dedup acts
	// on, and would be reported (and refused) again by every later run.
	if oldThere || newThere || n != 5 {
		t.Errorf("store after move: old %v new %v len %d, want neither and 5 entries", oldThere, newThere, n)
	}
	if _, out, _ := f.run(t, "--json"); len(parseDedup(t, out).Groups) != 0 {
		t.Errorf("moved files reported again: %s", out)
	}
	if code, out, errs := f.run(t, "--json", "--trash", "--dry-run"); code != 0 || parseDedup(t, out).Stats["refused"] != 0 {
		t.Errorf("action after the move: exit %d %s %s", code, out, errs)
	}

	// Without --store, undo updates the store the journal names.
	t.Setenv(envStore, "")
	code, out, errs = embedCLI(t, "", "dedup", "--undo", o.Journal)
	if code != 0 || strings.Count(out, "restored") != 3 {
		t.Fatalf("undo exit %d: %s %s", code, out, errs)
	}
	for _, p := range []string{"a/one.jpg", "c/one-small.jpg", "b/two.jpg"} {
		if _, err := os.Stat(f.paths[p]); err != nil {
			t.Errorf("not restored: %s", p)
		}
	}
	// Undo puts the entries back as they were.
	after := f.entries(t)
	for p, e := range before {
		if after[p] != e {
			t.Errorf("store entry of %s after undo: %+v, want %+v", p, after[p], e)
		}
	}
	if len(after) != len(before) {
		t.Errorf("store after undo: %d entries, want %d", len(after), len(before))
	}
	_, out, _ = f.run(t, "--json")
	if o := parseDedup(t, out); len(o.Groups) != 2 {
		t.Errorf("groups after undo: %d", len(o.Groups))
	}
}

func TestDedupDeleteNeedsYes(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	code, _, errs := f.run(t, "--delete")
	if code != exitUsage || !strings.Contains(errs, "--yes") {
		t.Errorf("--delete without --yes: %d %q", code, errs)
	}
	for _, p := range f.paths {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s gone after refused --delete", p)
		}
	}
	code, _, errs = f.run(t, "--delete", "--yes", "--reference", filepath.Join(f.root, "c"))
	if code != 0 {
		t.Fatalf("delete: %d %s", code, errs)
	}
	// c/one-small.jpg is a reference: it is the keeper now, and b/one-copy
	// and a/one are deleted; in group 2, b/two.jpg goes.
	for name, want := range map[string]bool{"c/one-small.jpg": true, "b/one-copy.jpg": false, "a/one.jpg": false,
		"a/two.jpg": true, "b/two.jpg": false, "a/lonely.jpg": true} {
		_, err := os.Stat(f.paths[name])
		if (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", name, err == nil, want)
		}
	}
	r, _ := store.Open(f.storeDir)
	defer r.Close()
	if r.Len() != 5 {
		t.Errorf("store holds %d entries after deleting 3 of 8", r.Len())
	}
}

func TestDedupTrashAndRefusal(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	t.Setenv("XDG_DATA_HOME", filepath.Join(filepath.Dir(f.root), "xdg"))
	// b/two.jpg changes after indexing: refused, exit 5, named on stderr.
	os.WriteFile(f.paths["b/two.jpg"], []byte("edited since"), 0o644)
	code, out, errs := f.run(t, "--trash", "--json")
	if code != exitRefused || !strings.Contains(errs, "refused "+f.paths["b/two.jpg"]) {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	o := parseDedup(t, out)
	if o.Stats["done"] != 2 || o.Stats["refused"] != 1 {
		t.Errorf("stats %v", o.Stats)
	}
	trashed := filepath.Join(filepath.Dir(f.root), "xdg", "Trash", "files", "one.jpg")
	if _, err := os.Stat(trashed); err != nil {
		t.Errorf("not in the trash: %v", err)
	}
	if _, err := os.Stat(f.paths["b/two.jpg"]); err != nil {
		t.Error("refused file was trashed")
	}
	// Without --store, undo uses the store the journal names.
	t.Setenv(envStore, "")
	code, out, _ = embedCLI(t, "", "dedup", "--undo", o.Journal, "--json")
	if code != 0 || strings.Count(out, `"restored"`) != 2 {
		t.Errorf("undo trash: %d %s", code, out)
	}
}

func TestDedupActionUsage(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	for _, args := range [][]string{
		{"--trash", "--delete", "--yes"}, {"--link", "soft-ish"}, {"--dry-run"}, {"--undo", "x", "--trash"},
	} {
		if code, _, _ := f.run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, _, errs := f.run(t, "--undo", filepath.Join(f.root, "a", "one.jpg")); code != exitError || !strings.Contains(errs, "not a dedup journal") {
		t.Errorf("undo of a non-journal: %d %q", code, errs)
	}
}

// dedup DIR indexes the folder with a real model first, then groups; a file
// that cannot be decoded is named on stderr and makes the exit status 3, but
// the groups are still printed.
func TestDedupIndexesDirs(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "imgs")
	imgs, _ := imageDir(t, 3)
	os.MkdirAll(filepath.Join(dir, "copies"), 0o755)
	data, err := os.ReadFile(filepath.Join(imgs, "img0.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "a.png"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "copies", "a-copy.png"), data, 0o644)
	other, _ := os.ReadFile(filepath.Join(imgs, "sub", "b.png"))
	os.WriteFile(filepath.Join(dir, "b.png"), other, 0o644)
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	storeDir := filepath.Join(tmp, "store")

	code, out, errs := embedCLI(t, "", "dedup", dir, "--store", storeDir, "--model", tinyModel, "--json", "--threshold", "0.001")
	if code != exitPartial || !strings.Contains(errs, "broken.png") {
		t.Fatalf("exit %d (want %d), stderr %q", code, exitPartial, errs)
	}
	o := parseDedup(t, out)
	if len(o.Groups) != 1 || len(o.Groups[0].Members) != 2 || o.Stats["images"] != 3 {
		t.Fatalf("groups: %s", out)
	}
	// Ties on resolution and size: the first path keeps.
	if o.Groups[0].Keep != filepath.Join(dir, "a.png") {
		t.Errorf("keep %s", o.Groups[0].Keep)
	}

	// Replace the copy by a hard link, then undo (possible: same bytes).
	os.Remove(filepath.Join(dir, "broken.png"))
	code, out, errs = embedCLI(t, "", "dedup", dir, "--store", storeDir, "--model", tinyModel, "--json", "--threshold", "0.001", "--link", "hard")
	if code != 0 {
		t.Fatalf("link: exit %d %s", code, errs)
	}
	o = parseDedup(t, out)
	a, _ := os.Stat(filepath.Join(dir, "a.png"))
	c, _ := os.Stat(filepath.Join(dir, "copies", "a-copy.png"))
	if !os.SameFile(a, c) {
		t.Fatal("not hard-linked")
	}
	if code, _, errs := embedCLI(t, "", "dedup", "--store", storeDir, "--undo", o.Journal); code != 0 {
		t.Fatalf("undo: exit %d %s", code, errs)
	}
	a, _ = os.Stat(filepath.Join(dir, "a.png"))
	c, _ = os.Stat(filepath.Join(dir, "copies", "a-copy.png"))
	if os.SameFile(a, c) {
		t.Error("still linked after undo")
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "copies", "a-copy.png")); !bytes.Equal(got, data) {
		t.Error("restored bytes differ")
	}
}

// Files already moved aside (into a --move-to folder inside the root) are
// not grouped again by the next run with the same --move-to.
func TestDedupMoveToInsideRoot(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	dest := filepath.Join(f.root, "dups")
	if code, _, errs := f.run(t, "--move-to", dest); code != 0 {
		t.Fatalf("move: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dest, "a", "one.jpg")); err != nil {
		t.Fatal(err)
	}
	code, out, errs := f.run(t, "--json", "--move-to", dest)
	if o := parseDedup(t, out); code != 0 || len(o.Groups) != 0 {
		t.Errorf("second run: exit %d, %d groups %s", code, len(o.Groups), errs)
	}
	// The moved copies left the store: no run reports them again.
	if _, out, _ := f.run(t, "--json"); len(parseDedup(t, out).Groups) != 0 {
		t.Errorf("without --move-to the moved copies group with their keepers again: %s", out)
	}
}

func TestDedupFilter(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	code, out, errs := f.run(t, "--json", "--filter", "width:>700")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	o := parseDedup(t, out)
	if len(o.Groups) != 1 || len(o.Groups[0].Members) != 2 || o.Groups[0].Keep != f.paths["b/one-copy.jpg"] || o.Stats["images"] != 2 {
		t.Errorf("--filter width:>700: %s", out)
	}
	if code, _, errs := f.run(t, "--filter", "width:>>"); code != exitUsage {
		t.Errorf("bad filter: exit %d %q", code, errs)
	}
}

// Linking near-duplicates (bytes differ from the keeper) needs --yes; a dry
// run shows them without it; nothing changes when refused.
func TestDedupLinkNeedsYes(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	before := dedupFiles(t, f.root)
	code, _, errs := f.run(t, "--link", "hard")
	if code != exitUsage || !strings.Contains(errs, "3 of the files to link") || !strings.Contains(errs, "--yes") {
		t.Errorf("--link without --yes: exit %d %q", code, errs)
	}
	code, out, errs := f.run(t, "--link", "sym", "--dry-run", "--json")
	o := parseDedup(t, out)
	if code != 0 || o.Stats["held"] != 3 || o.Stats["held_bytes"] <= 0 || !strings.Contains(errs, "--yes") {
		t.Errorf("dry run: exit %d stats %v %q", code, o.Stats, errs)
	}
	if _, text, _ := f.run(t, "--link", "sym", "--dry-run"); !strings.Contains(text, "own bytes held for undo") {
		t.Errorf("dry run text does not say the bytes are held:\n%s", text)
	}
	if after := dedupFiles(t, f.root); !maps.Equal(before, after) {
		t.Errorf("files changed: %v\n%v", before, after)
	}
	if entries, _ := os.ReadDir(filepath.Join(f.storeDir, "journals")); len(entries) != 0 {
		t.Errorf("refused run left a journal: %v", entries)
	}
}

// A byte-identical copy links without --yes and holds nothing.
func TestDedupLinkIdenticalWithoutYes(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	f.copyBytes(t, "b/one-copy.jpg", "a/one.jpg")
	f.copyBytes(t, "b/one-copy.jpg", "c/one-small.jpg")
	f.copyBytes(t, "a/two.jpg", "b/two.jpg")
	code, out, errs := f.run(t, "--link", "hard", "--json")
	o := parseDedup(t, out)
	if code != 0 || o.Stats["done"] != 3 || o.Stats["held"] != 0 {
		t.Fatalf("exit %d stats %v %s", code, o.Stats, errs)
	}
	for dup, keep := range map[string]string{"a/one.jpg": "b/one-copy.jpg", "c/one-small.jpg": "b/one-copy.jpg", "b/two.jpg": "a/two.jpg"} {
		a, _ := os.Stat(f.paths[dup])
		b, _ := os.Stat(f.paths[keep])
		if !os.SameFile(a, b) {
			t.Errorf("%s not linked to %s", dup, keep)
		}
	}
	if _, err := os.Stat(strings.TrimSuffix(o.Journal, ".jsonl") + ".held"); err == nil {
		t.Error("a holding folder for identical files")
	}
	// Linked files are one file: the next run proposes nothing and says
	// how many it left out.
	code, out, errs = f.run(t, "--json")
	if o := parseDedup(t, out); code != 0 || len(o.Groups) != 0 || o.Stats["linked"] != 3 {
		t.Errorf("after linking: exit %d, %d groups, stats %v %s", code, len(o.Groups), o.Stats, errs)
	}
}

// --link --yes on near-duplicates holds their own bytes; undo puts every
// file back byte for byte (mode and time too) and the store as it was.
func TestDedupLinkUndoNearDuplicates(t *testing.T) {
	for _, kind := range []string{"hard", "sym"} {
		t.Run(kind, func(t *testing.T) {
			f := newDedupFixture(t, dedupStandard)
			os.Chmod(f.paths["a/one.jpg"], 0o600)
			files, entries := dedupFiles(t, f.root), f.entries(t)
			var size float64
			for _, p := range []string{"a/one.jpg", "c/one-small.jpg", "b/two.jpg"} {
				fi, _ := os.Stat(f.paths[p])
				size += float64(fi.Size())
			}
			code, out, errs := f.run(t, "--link", kind, "--yes", "--json")
			if code != 0 {
				t.Fatalf("link: exit %d %s", code, errs)
			}
			o := parseDedup(t, out)
			held := strings.TrimSuffix(o.Journal, ".jsonl") + ".held"
			if o.Stats["done"] != 3 || o.Stats["held"] != 3 || o.Stats["held_bytes"] != size ||
				!strings.Contains(errs, held) || !strings.Contains(errs, "--purge") {
				t.Errorf("stats %v, stderr %q", o.Stats, errs)
			}
			for _, g := range o.Groups {
				for _, m := range g.Members {
					if !m.Keep && (m.Action.Held == "" || filepath.Dir(m.Action.Held) != held || !m.Action.Differs) {
						t.Errorf("%s: action %+v", m.Path, m.Action)
					}
				}
			}
			if got, _ := os.ReadFile(f.paths["a/one.jpg"]); string(got) != "image bytes of b/one-copy.jpg" {
				t.Errorf("a/one.jpg reads %q, want the keeper", got)
			}
			code, out, errs = f.run(t, "--undo", o.Journal)
			if code != 0 || strings.Count(out, "restored") != 3 {
				t.Fatalf("undo: exit %d %s %s", code, out, errs)
			}
			if after := dedupFiles(t, f.root); !maps.Equal(files, after) {
				t.Errorf("files after undo:\n%v\nwant\n%v", after, files)
			}
			if after := f.entries(t); !maps.Equal(entries, after) {
				t.Errorf("store after undo:\n%v\nwant\n%v", after, entries)
			}
			if _, err := os.Stat(held); err == nil {
				t.Error("holding folder left after undo")
			}
		})
	}
}

// --purge frees the held bytes; undo then restores the byte-identical
// copy, refuses the near-duplicates with the reason, and exits 5.
func TestDedupPurgeThenUndo(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	f.copyBytes(t, "a/two.jpg", "b/two.jpg")
	code, out, errs := f.run(t, "--link", "sym", "--yes", "--json")
	if code != 0 {
		t.Fatalf("link: exit %d %s", code, errs)
	}
	o := parseDedup(t, out)
	held := strings.TrimSuffix(o.Journal, ".jsonl") + ".held"
	if o.Stats["held"] != 2 {
		t.Errorf("stats %v", o.Stats)
	}
	code, out, errs = f.run(t, "--purge", o.Journal, "--json")
	var p struct {
		Released []struct{ Path string } `json:"released"`
		Bytes    float64                 `json:"released_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &p); code != 0 || err != nil || len(p.Released) != 2 || p.Bytes != o.Stats["held_bytes"] ||
		!strings.Contains(errs, "no longer be restored") {
		t.Fatalf("purge: exit %d %v %s %s", code, err, out, errs)
	}
	if _, err := os.Stat(held); err == nil {
		t.Error("holding folder left after purge")
	}
	code, out, errs = f.run(t, "--undo", o.Journal)
	if code != exitRefused || len(regexp.MustCompile(`(?m)^restored `).FindAllString(out, -1)) != 1 ||
		strings.Count(out, "released by a purge of the journal") != 2 {
		t.Errorf("undo after purge: exit %d %s %s", code, out, errs)
	}
	if fi, err := os.Lstat(f.paths["b/two.jpg"]); err != nil || !fi.Mode().IsRegular() {
		t.Error("identical copy not restored")
	}
	if target, _ := os.Readlink(f.paths["a/one.jpg"]); target != f.paths["b/one-copy.jpg"] {
		t.Errorf("purged file: link to %q", target)
	}
	if code, _, _ := f.run(t, "--purge", o.Journal, "--link", "sym"); code != exitUsage {
		t.Errorf("--purge with an action: exit %d", code)
	}
}

// onlySignatureNote: stderr holds nothing but the note that images without
// signatures were judged by their vectors alone.
func onlySignatureNote(errs string) bool {
	return regexp.MustCompile(`^embedsearch: \d+ of \d+ images have no signature yet: [^\n]*\n$`).MatchString(errs)
}
