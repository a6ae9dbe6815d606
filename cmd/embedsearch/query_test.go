package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// queryFixture indexes imageDir plus an identical copy of img0.png (an exact
// tie) into a fresh store and keeps each file's embedding for reference.
type queryFixture struct {
	dir, store string
	vecs       map[string][]float32 // path -> embedding, from `embed`
}

func newQueryFixture(t *testing.T) *queryFixture {
	t.Helper()
	dir, _ := imageDir(t, 6)
	os.Remove(filepath.Join(dir, "picture.dat")) // not walked by index (no image extension)
	data, err := os.ReadFile(filepath.Join(dir, "img0.png"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "copy.png"), data, 0o644)
	f := &queryFixture{dir: dir, store: filepath.Join(t.TempDir(), "store"), vecs: map[string][]float32{}}
	if code, out, errs := embedCLI(t, "", "index", "--store", f.store, "--model", tinyModel, dir); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	code, out, errs := embedCLI(t, "", "embed", "--model", tinyModel, dir)
	if code != 0 {
		t.Fatalf("embed: %d %s", code, errs)
	}
	for _, r := range parseJSONL(t, out) {
		f.vecs[r.Path] = r.Vector
	}
	if len(f.vecs) != 6 {
		t.Fatalf("embedded %d files, want 6: %v", len(f.vecs), f.vecs)
	}
	return f
}

func (f *queryFixture) query(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return embedCLI(t, stdin, append([]string{"query", "--store", f.store}, args...)...)
}

// naive ranks every embedded file by distance to q, ties by path.
func (f *queryFixture) naive(q []float32) []queryResult {
	var res []queryResult
	for p, v := range f.vecs {
		var d float64
		for i := range v {
			x := float64(v[i] - q[i])
			d += x * x
		}
		res = append(res, queryResult{Path: p, Distance: float32(math.Sqrt(d))})
	}
	sort.Slice(res, func(i, j int) bool {
		if math.Abs(float64(res[i].Distance-res[j].Distance)) > 1e-6 {
			return res[i].Distance < res[j].Distance
		}
		return res[i].Path < res[j].Path
	})
	for i := range res {
		res[i].Rank = i + 1
	}
	return res
}

// parseAnswer reads query --json of one query.
func parseAnswer(t *testing.T, s string) queryAnswer {
	t.Helper()
	rep := parseReport(t, s)
	if len(rep.Queries) != 1 {
		t.Fatalf("query --json: %d answers, want 1\n%s", len(rep.Queries), s)
	}
	return rep.Queries[0]
}

// parseReport reads query --json, which has one shape (schema 2) whatever
// the number of queries.
func parseReport(t *testing.T, s string) queryReport {
	t.Helper()
	var rep queryReport
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil || rep.Version != 2 || rep.Model == "" {
		t.Fatalf("query --json: %v (version %d, model %q)\n%s", err, rep.Version, rep.Model, s)
	}
	return rep
}

func samePaths(t *testing.T, what string, got []queryResult, want []queryResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d\ngot  %+v\nwant %+v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i].Path != want[i].Path || got[i].Rank != i+1 || math.Abs(float64(got[i].Distance-want[i].Distance)) > 1e-4 {
			t.Fatalf("%s: result %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func TestQueryMatchesNaiveRanking(t *testing.T) {
	f := newQueryFixture(t)
	img0 := filepath.Join(f.dir, "img0.png")
	code, out, errs := f.query(t, "", "-k", "4", "--json", img0)
	if code != 0 {
		t.Fatalf("query: %d %s", code, errs)
	}
	if rep := parseReport(t, out); rep.Model != "tiny-test-v1" {
		t.Fatalf("report header: %+v", rep)
	}
	a := parseAnswer(t, out)
	if a.Query != img0 {
		t.Fatalf("answer header: %+v", a)
	}
	want := f.naive(f.vecs[img0])[:4]
	samePaths(t, "json", a.Results, want)
	// The exact tie (identical files) is broken by path: copy.png first.
	if a.Results[0].Distance != 0 || a.Results[1].Distance != 0 ||
		a.Results[0].Path != filepath.Join(f.dir, "copy.png") || a.Results[1].Path != img0 {
		t.Fatalf("tie order: %+v", a.Results[:2])
	}

	// Every output format says the same.
	_, out, _ = f.query(t, "", "-k", "4", "--jsonl", img0)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("--jsonl: %q", out)
	}
	for i, line := range lines {
		var r queryLine
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Version != 2 || r.Query != img0 || r.Path != want[i].Path || r.Rank != i+1 {
			t.Fatalf("--jsonl line %d: %q (%v)", i, line, err)
		}
	}
	_, out, _ = f.query(t, "", "-k", "4", "--csv", img0)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 5 || strings.Join(rows[0], ",") != "query,rank,distance,path" {
		t.Fatalf("--csv: %v %q", err, out)
	}
	for i, row := range rows[1:] {
		d, _ := strconv.ParseFloat(row[2], 64)
		if row[0] != img0 || row[1] != strconv.Itoa(i+1) || row[3] != want[i].Path || math.Abs(d-float64(want[i].Distance)) > 1e-3 {
			t.Fatalf("--csv row %d: %q", i, row)
		}
	}
	_, out, _ = f.query(t, "", "-k", "4", "--paths", "-0", img0)
	paths := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	for i := range want {
		if paths[i] != want[i].Path {
			t.Fatalf("--paths -0: %q", out)
		}
	}
	_, out, _ = f.query(t, "", "-k", "2", img0)
	if !strings.Contains(out, "1  0.0000  "+filepath.Join(f.dir, "copy.png")) {
		t.Fatalf("table output: %q", out)
	}
}

func TestQueryRestrictions(t *testing.T) {
	f := newQueryFixture(t)
	img0 := filepath.Join(f.dir, "img0.png")
	all := f.naive(f.vecs[img0])

	_, out, _ := f.query(t, "", "--json", "--exclude-self", img0)
	a := parseAnswer(t, out)
	for _, r := range a.Results {
		if r.Path == img0 {
			t.Fatalf("--exclude-self kept the query: %+v", a.Results)
		}
	}
	if len(a.Results) != len(all)-1 || a.Results[0].Path != filepath.Join(f.dir, "copy.png") {
		t.Fatalf("--exclude-self: %+v", a.Results)
	}

	_, out, _ = f.query(t, "", "--json", "--in", filepath.Join(f.dir, "sub"), img0)
	if a := parseAnswer(t, out); len(a.Results) != 1 || a.Results[0].Path != filepath.Join(f.dir, "sub", "b.png") {
		t.Fatalf("--in: %+v", a.Results)
	}

	_, out, _ = f.query(t, "", "--json", "--max-distance", "0.000001", img0)
	if a := parseAnswer(t, out); len(a.Results) != 2 {
		t.Fatalf("--max-distance: %+v", a.Results)
	}

	// The filter is applied before ranking (every clause must hold): k
	// results come back when k rows match, however far they are.
	_, out, _ = f.query(t, "", "--json", "-k", "2", "--filter", "ext:png -name:copy.png -name:img0.png", img0)
	got := parseAnswer(t, out).Results
	var want []queryResult
	for _, r := range all {
		if b := filepath.Base(r.Path); b != "copy.png" && b != "img0.png" && len(want) < 2 {
			r.Rank = len(want) + 1
			want = append(want, r)
		}
	}
	samePaths(t, "--filter", got, want)
	code, _, errs := f.query(t, "", "--filter", "width:>>", img0)
	if code != exitUsage || !strings.Contains(errs, "--filter") {
		t.Fatalf("bad --filter: %d %s", code, errs)
	}
}

func TestQueryInputs(t *testing.T) {
	f := newQueryFixture(t)
	img0, img3 := filepath.Join(f.dir, "img0.png"), filepath.Join(f.dir, "img3.png")

	// Several queries: the same shape as one, an answer each, in argument order.
	_, out, _ := f.query(t, "", "--json", "-k", "3", img0, img3)
	many := parseReport(t, out).Queries
	if len(many) != 2 || many[0].Query != img0 || many[1].Query != img3 {
		t.Fatalf("two queries: %s", out)
	}
	samePaths(t, "second query", many[1].Results, f.naive(f.vecs[img3])[:3])

	// --mean: one search with the normalised mean.
	mean := make([]float32, len(f.vecs[img0]))
	var n float64
	for i := range mean {
		mean[i] = f.vecs[img0][i] + f.vecs[img3][i]
		n += float64(mean[i]) * float64(mean[i])
	}
	for i := range mean {
		mean[i] /= float32(math.Sqrt(n))
	}
	_, out, _ = f.query(t, "", "--json", "--mean", "-k", "3", img0, img3)
	samePaths(t, "--mean", parseAnswer(t, out).Results, f.naive(mean)[:3])

	// --vector FILE: the same as querying by the file.
	vf := filepath.Join(t.TempDir(), "v.json")
	vb, _ := json.Marshal(map[string]any{"vector": f.vecs[img3]})
	os.WriteFile(vf, vb, 0o644)
	_, out, errs := f.query(t, "", "--json", "-k", "3", "--vector", vf)
	samePaths(t, "--vector", parseAnswer(t, out).Results, f.naive(f.vecs[img3])[:3])
	os.WriteFile(vf, []byte("[1, 2]"), 0o644)
	if code, _, errs := f.query(t, "", "--vector", vf); code != exitError || !strings.Contains(errs, "dim 16") {
		t.Fatalf("short --vector: %d %s", code, errs)
	}

	// An image on stdin, and an unindexed copy of an indexed file: embedded
	// with the store's model (named with --model: the tiny model is not registered).
	data, _ := os.ReadFile(img3)
	code, out, errs := f.query(t, string(data), "--json", "-k", "3", "--model", tinyModel, "-")
	if code != 0 {
		t.Fatalf("stdin query: %d %s", code, errs)
	}
	samePaths(t, "stdin", parseAnswer(t, out).Results, f.naive(f.vecs[img3])[:3])
	outside := filepath.Join(t.TempDir(), "elsewhere.png")
	os.WriteFile(outside, data, 0o644)
	_, out, _ = f.query(t, "", "--json", "-k", "3", "--model", tinyModel, outside)
	samePaths(t, "unindexed file", parseAnswer(t, out).Results, f.naive(f.vecs[img3])[:3])
	// Without --model: the store remembers the model folder it was built
	// with (it used to need --model again, the folder being unregistered).
	code, out, errs = f.query(t, "", "--json", "-k", "3", outside)
	if code != 0 {
		t.Fatalf("unindexed file without --model: %d %s", code, errs)
	}
	samePaths(t, "unindexed file, the store's model", parseAnswer(t, out).Results, f.naive(f.vecs[img3])[:3])
}

func TestQueryErrors(t *testing.T) {
	f := newQueryFixture(t)
	img0 := filepath.Join(f.dir, "img0.png")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"k zero", []string{"-k", "0", img0}, exitUsage, "-k must be at least 1"},
		{"two formats", []string{"--json", "--csv", img0}, exitUsage, "choose one of"},
		{"null without paths", []string{"-0", img0}, exitUsage, "-0 only goes with --paths"},
		{"nothing to query", nil, exitUsage, "query needs"},
		{"missing file", []string{filepath.Join(f.dir, "nosuch.jpg")}, exitError, "no such file"},
		{"text without text tower", []string{"--model", tinyModel, "a dog on the beach"}, exitError, "text tower"},
		// --model is checked against the store first, even for a missing file.
		{"wrong model", []string{"--model", "../../testdata/models/clip-tiny", filepath.Join(t.TempDir(), "x")}, exitError, "holds vectors of tiny-test-v1"},
	}
	for _, tc := range cases {
		code, _, errs := f.query(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tc.name, code, errs, tc.code, tc.msg)
		}
	}
	// A model that is not the store's is refused before it can give garbage.
	outside := filepath.Join(t.TempDir(), "x.png")
	data, _ := os.ReadFile(img0)
	os.WriteFile(outside, data, 0o644)
	code, _, errs := f.query(t, "", "--model", "../../testdata/models/clip-tiny", outside)
	if code != exitError || !strings.Contains(errs, "store holds vectors of tiny-test-v1") {
		t.Errorf("wrong model: %d %s", code, errs)
	}
	// No store yet.
	code, _, errs = embedCLI(t, "", "query", "--store", filepath.Join(t.TempDir(), "none"), img0)
	if code != exitError || !strings.Contains(errs, "embedsearch index DIR") {
		t.Errorf("no store: %d %s", code, errs)
	}
}
