package main

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// exactName checks one JSON file name: valid UTF-8 names have no
// companion; others have one whose bytes are the name's, exactly.
func exactName(t *testing.T, what, want, shown, raw string) {
	t.Helper()
	if utf8.ValidString(want) {
		if raw != "" || shown != want {
			t.Fatalf("%s: %q with bytes %q, want %q and no bytes", what, shown, raw, want)
		}
		return
	}
	got, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || string(got) != want {
		t.Fatalf("%s: bytes %q (%q, %v), want %q", what, raw, got, err, want)
	}
	if shown != strings.ToValidUTF8(want, "\uFFFD") {
		t.Fatalf("%s: shown as %q", what, shown)
	}
}

// TestNonUTF8Names: a file whose name is not UTF-8 (Latin-1 "café", as
// old archives have) goes through every output format. JSON stays valid and
// gives the exact bytes in path_bytes (and keep_bytes, dest_bytes,
// query_bytes); CSV, --paths and the tables write the bytes themselves.
func TestNonUTF8Names(t *testing.T) {
	dir, _ := imageDir(t, 4)
	os.Remove(filepath.Join(dir, "picture.dat"))
	latin := filepath.Join(dir, "l\xe4tin1", "caf\xe9.png") // in a folder so named, too
	if err := os.MkdirAll(filepath.Dir(latin), 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "img0.png"))
	if err := os.WriteFile(latin, data, 0o644); err != nil {
		t.Skipf("this file system refuses a non-UTF-8 name: %v", err)
	}
	sdir := filepath.Join(t.TempDir(), "store")
	if code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	query := func(args ...string) string {
		t.Helper()
		code, out, errs := embedCLI(t, "", append([]string{"query", "--store", sdir, "-k", "2"}, args...)...)
		if code != 0 {
			t.Fatalf("query %q: %d %s", args, code, errs)
		}
		return out
	}
	// The copy of img0.png ties with it at 0: path order puts img0.png first.
	img0 := filepath.Join(dir, "img0.png")
	want := []string{img0, latin}

	out := query("--json", latin)
	if !json.Valid([]byte(out)) {
		t.Fatalf("--json is not valid JSON: %q", out)
	}
	a := parseAnswer(t, out)
	exactName(t, "--json query", latin, a.Query, a.QueryBytes)
	for i, r := range a.Results {
		exactName(t, "--json result", want[i], r.Path, r.PathBytes)
	}

	out = query("--jsonl", latin)
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var r struct {
			Query      string `json:"query"`
			QueryBytes string `json:"query_bytes"`
			queryResult
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("--jsonl line %q: %v", line, err)
		}
		exactName(t, "--jsonl query", latin, r.Query, r.QueryBytes)
		exactName(t, "--jsonl result", want[i], r.Path, r.PathBytes)
	}

	rows, err := csv.NewReader(strings.NewReader(query("--csv", latin))).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][0] != latin || rows[1][3] != img0 || rows[2][3] != latin {
		t.Fatalf("--csv: %v %q", err, rows)
	}
	if out := query("--paths", "-0", img0); out != img0+"\x00"+latin+"\x00" {
		t.Fatalf("--paths -0: %q", out)
	}
	if out := query("--paths", img0); out != img0+"\n"+latin+"\n" {
		t.Fatalf("--paths: %q", out)
	}
	if out := query(img0); !strings.Contains(out, "0.0000  "+latin+"\n") {
		t.Fatalf("table: %q", out)
	}

	// embed: jsonl with path_bytes; csv and --paths-out with the bytes.
	pathsOut := filepath.Join(t.TempDir(), "paths")
	code, out, errs := embedCLI(t, "", "embed", "--model", tinyModel, "--paths-out", pathsOut, filepath.Dir(latin))
	if code != 0 {
		t.Fatalf("embed: %d %s", code, errs)
	}
	var rec struct {
		Path      string    `json:"path"`
		PathBytes string    `json:"path_bytes"`
		Vector    []float32 `json:"vector"`
	}
	if err := json.Unmarshal([]byte(out), &rec); err != nil || len(rec.Vector) != 16 {
		t.Fatalf("embed jsonl %q: %v", out, err)
	}
	exactName(t, "embed jsonl", latin, rec.Path, rec.PathBytes)
	if got, _ := os.ReadFile(pathsOut); string(got) != latin+"\n" {
		t.Fatalf("embed --paths-out: %q", got)
	}
	_, out, _ = embedCLI(t, "", "embed", "--model", tinyModel, "--format", "csv", latin)
	if rows, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil || len(rows) != 2 || rows[1][0] != latin {
		t.Fatalf("embed csv: %v %q", err, out)
	}

	// dedup: the copy and img0.png are one group. Kept by preference from
	// its folder, the Latin-1 file is "keep"; the other way round, it is
	// the one an action would move, to a destination named like it.
	type report struct {
		Groups []struct {
			Keep      string `json:"keep"`
			KeepBytes string `json:"keep_bytes"`
			Members   []struct {
				Path      string `json:"path"`
				PathBytes string `json:"path_bytes"`
				Action    *struct {
					Dest      string `json:"dest"`
					DestBytes string `json:"dest_bytes"`
				} `json:"action"`
			} `json:"members"`
		} `json:"groups"`
	}
	dedup := func(args ...string) (report, string) {
		t.Helper()
		code, out, errs := embedCLI(t, "", append([]string{"dedup", "--store", sdir, "--threshold", "0.01"}, args...)...)
		if code != 0 {
			t.Fatalf("dedup %q: %d %s", args, code, errs)
		}
		var rep report
		if strings.Contains(strings.Join(args, " "), "--json") {
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("dedup --json: %v\n%q", err, out)
			}
		}
		return rep, out
	}
	o, out := dedup("--json", "--keep", "prefer:"+filepath.Dir(latin))
	if len(o.Groups) != 1 || len(o.Groups[0].Members) != 2 {
		t.Fatalf("dedup --json: %s", out)
	}
	g := o.Groups[0]
	exactName(t, "dedup keep", latin, g.Keep, g.KeepBytes)
	for i, m := range g.Members {
		exactName(t, "dedup member", []string{img0, latin}[i], m.Path, m.PathBytes)
	}
	moveTo := filepath.Join(t.TempDir(), "aside\xff")
	o, out = dedup("--json", "--keep", "prefer:"+dir, "--move-to", moveTo, "--dry-run")
	m := o.Groups[0].Members[1]
	if m.Action == nil {
		t.Fatalf("dedup --move-to --dry-run: %s", out)
	}
	exactName(t, "dedup member", latin, m.Path, m.PathBytes)
	exactName(t, "dedup dest", filepath.Join(moveTo, "l\xe4tin1", "caf\xe9.png"), m.Action.Dest, m.Action.DestBytes)

	_, out = dedup("--csv", "--keep", "prefer:"+dir, "--move-to", moveTo, "--dry-run")
	rows, err = csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 || rows[2][1] != latin || rows[2][8] != filepath.Join(moveTo, "l\xe4tin1", "caf\xe9.png") {
		t.Fatalf("dedup --csv: %v %q", err, rows)
	}
	if _, out = dedup("--keep", "prefer:"+dir); !bytes.Contains([]byte(out), []byte(latin)) {
		t.Fatalf("dedup table: %q", out)
	}
}
