package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/internal/testenv"
)

// tuneFixture indexes the shipped photos with the tiny model and writes a
// labels file giving them two labels (by name), in the photos' folder's
// terms: relative to a folder beside it.
func tuneFixture(t *testing.T) (st, labels, photos string) {
	t.Helper()
	photos = filepath.Join(testenv.RepoRoot(t), "testdata", "photos")
	st = filepath.Join(t.TempDir(), "store")
	if code, _, errs := runCLI(t, "index", "--model", tinyModel, "--store", st, photos); code != exitOK {
		t.Fatalf("index: exit %d %s", code, errs)
	}
	names, _ := filepath.Glob(filepath.Join(photos, "*.jpg"))
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		fmt.Fprintf(&b, "%s\t%s\n", n, []string{"even", "odd"}[i%2])
	}
	labels = filepath.Join(t.TempDir(), "labels.tsv")
	os.WriteFile(labels, []byte(b.String()), 0o644)
	return st, labels, photos
}

// TestTune: tune writes a model and a reprojected store that query uses
// like any other; the report shows the scores before and after.
func TestTune(t *testing.T) {
	st, labels, photos := tuneFixture(t)
	out := filepath.Join(t.TempDir(), "tuned")
	newStore := filepath.Join(t.TempDir(), "tuned-store")
	code, stdout, errs := runCLI(t, "tune", "--store", st, "--labels", labels, "--epochs", "3", "--holdout", "0.3",
		"--head", "mlp", "--out", out, "--reproject", newStore)
	if code != exitOK {
		t.Fatalf("tune: exit %d\n%s\n%s", code, stdout, errs)
	}
	for _, want := range []string{"held out", "precision@10", "wrote model tiny-test-v1-tuned-", "wrote store " + newStore} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(errs, "epoch  1/3  loss") {
		t.Errorf("no progress line per epoch on stderr:\n%s", errs)
	}
	if code, info, errs := runCLI(t, "models", "info", out); code != exitOK || !strings.Contains(info, "head:") || !strings.Contains(info, "after the image tower of tiny-test-v1") {
		t.Errorf("models info of the tuned model: exit %d\n%s\n%s", code, info, errs)
	}
	code, qout, qerr := runCLI(t, "query", "--store", newStore, filepath.Join(photos, "cat.jpg"))
	if code != exitOK || !strings.Contains(qout, "cat.jpg") {
		t.Fatalf("query on the reprojected store: exit %d\n%s\n%s", code, qout, qerr)
	}
	// The tuned model indexes a new store too; its vectors are the reprojected ones.
	again := filepath.Join(t.TempDir(), "again")
	if code, _, errs := runCLI(t, "index", "--model", out, "--store", again, photos); code != exitOK {
		t.Fatalf("index with the tuned model: exit %d %s", code, errs)
	}
	_, q1, _ := runCLI(t, "query", "--store", again, "--json", filepath.Join(photos, "cat.jpg"))
	_, q2, _ := runCLI(t, "query", "--store", newStore, "--json", filepath.Join(photos, "cat.jpg"))
	if q1 == "" || q1 != q2 {
		t.Errorf("query of the re-indexed and the reprojected store differ:\n%s\n%s", q1, q2)
	}
	// --json, and a second run into the same folder is refused.
	code, stdout, _ = runCLI(t, "tune", "--store", st, "--labels", labels, "--epochs", "1", "--json", "--out", filepath.Join(t.TempDir(), "j"))
	var rep tuneReport
	if code != exitOK || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Record.Validate == 0 || rep.Base != "tiny-test-v1" {
		t.Fatalf("tune --json: exit %d %s", code, stdout)
	}
	if code, _, errs := runCLI(t, "tune", "--store", st, "--labels", labels, "--out", out); code != exitError || !strings.Contains(errs, "pick a new or empty folder") {
		t.Errorf("tune into a full folder: exit %d %s", code, errs)
	}
	// Tuning a store of a tuned model is refused.
	if code, _, errs := runCLI(t, "tune", "--store", newStore, "--labels", labels, "--out", filepath.Join(t.TempDir(), "x")); code != exitError || !strings.Contains(errs, "already a tuned model") {
		t.Errorf("tune a tuned store: exit %d %s", code, errs)
	}
}

// TestTuneBadInput: each bad labels file and flag combination gets one
// clear line and its exit code.
func TestTuneBadInput(t *testing.T) {
	st, _, photos := tuneFixture(t)
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	out := filepath.Join(dir, "out")
	cat, clock := filepath.Join(photos, "cat.jpg"), filepath.Join(photos, "clock.jpg")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"empty", []string{"--labels", file("empty.tsv", "")}, exitError, "empty.tsv lists no images"},
		{"unknown path", []string{"--labels", file("u.tsv", cat+"\ta\nnothere.jpg\tb\n")}, exitError, "u.tsv line 2: " + filepath.Join(dir, "nothere.jpg")},
		{"one label", []string{"--labels", file("one.tsv", cat+"\ta\n"+clock+"\ta\n")}, exitError, "one label (a); tuning needs at least two"},
		{"malformed", []string{"--labels", file("bad.tsv", cat+"\n")}, exitError, "bad.tsv line 1: want PATH<TAB>LABEL"},
		{"one pair", []string{"--pairs", file("p.tsv", cat+"\t"+clock+"\n")}, exitError, "one duplicate group"},
		{"no labels", nil, exitUsage, "tune needs labels"},
		{"review alone", []string{"--review"}, exitUsage, "--review adds negatives only"},
		{"labels and folders", []string{"--labels", "x", "--folders"}, exitUsage, "use one"},
		{"bad loss", []string{"--folders", "--loss", "hinge"}, exitUsage, `loss "hinge"`},
		{"bad split", []string{"--folders", "--split", "random"}, exitUsage, `split "random"`},
		{"no folders", []string{"--folders"}, exitError, "no image of the store lies in a folder under its indexed folders"},
	} {
		args := append([]string{"tune", "--store", st, "--out", out}, c.args...)
		code, _, errs := runCLI(t, args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, errs, c.code, c.want)
		}
	}
	if code, _, errs := runCLI(t, "tune", "--store", st, "--labels", "x.tsv"); code != exitUsage || !strings.Contains(errs, "--out") {
		t.Errorf("no --out: exit %d %s", code, errs)
	}
}
