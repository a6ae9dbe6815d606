package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestTrimTrailing(t *testing.T) {
	var b bytes.Buffer
	w := &trimTrailing{w: &b}
	// Spaces are held across writes until something other than a newline.
	for _, p := range []string{"a  ", " b   \n", "  c\t \n", "   ", "\n", "d  "} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if got, want := b.String(), "a   b\n  c\t\n\nd"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// noTrailingSpace fails for a line of out that ends in a space or a tab.
func noTrailingSpace(t *testing.T, what, out string) {
	t.Helper()
	if out == "" {
		t.Fatalf("%s: no output", what)
	}
	for i, line := range strings.Split(out, "\n") {
		if strings.TrimRight(line, " \t") != line {
			t.Errorf("%s: line %d has trailing spaces: %q", what, i+1, line)
		}
	}
}

// TestTablesFitted: every table a command prints has no trailing spaces
// (dedup's report-only rows have an empty last column), and its columns
// start where the widest cell before them ends, two spaces on.
func TestTablesFitted(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	code, text, errs := f.run(t)
	if code != exitOK {
		t.Fatalf("dedup: %d %s", code, errs)
	}
	noTrailingSpace(t, "dedup", text)
	// One group's rows: mark, path, size, bytes columns aligned.
	var rows []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "  ") {
			rows = append(rows, l)
		}
		if strings.HasPrefix(l, "group 2") {
			break
		}
	}
	if len(rows) != 3 {
		t.Fatalf("group 1 has %d rows:\n%s", len(rows), text)
	}
	col := regexp.MustCompile(`\S+x\S+`)
	at := col.FindStringIndex(rows[0])
	for _, r := range rows {
		if loc := col.FindStringIndex(r); loc == nil || loc[0] != at[0] {
			t.Errorf("size column not aligned:\n%s", strings.Join(rows, "\n"))
		}
	}
	// dedup's undo table.
	code, out, errs := f.run(t, "--move-to", filepath.Join(f.root, "moved"), "--json")
	if code != exitOK {
		t.Fatalf("dedup --move-to: %d %s", code, errs)
	}
	code, text, errs = f.run(t, "--undo", parseDedup(t, out).Journal)
	if code != exitOK {
		t.Fatalf("dedup --undo: %d %s", code, errs)
	}
	noTrailingSpace(t, "dedup --undo", text)

	q := newQueryFixture(t)
	code, text, errs = q.query(t, "", "-k", "3", filepath.Join(q.dir, "img0.png"), filepath.Join(q.dir, "img3.png"))
	if code != exitOK {
		t.Fatalf("query: %d %s", code, errs)
	}
	noTrailingSpace(t, "query", text)
	for _, args := range [][]string{{"status", "--store", q.store}, {"models", "list"}, {"models", "info", "builtin"}} {
		code, text, errs = embedCLI(t, "", args...)
		if code != exitOK {
			t.Fatalf("%v: %d %s", args, code, errs)
		}
		noTrailingSpace(t, strings.Join(args, " "), text)
	}
}

// TestDedupJSONL: one line per group member, each with the schema version
// and its group's number, the same members as --json in the same order.
func TestDedupJSONL(t *testing.T) {
	f := newDedupFixture(t, dedupStandard)
	_, js, _ := f.run(t, "--json")
	o := parseDedup(t, js)
	code, out, errs := f.run(t, "--jsonl")
	if code != exitOK {
		t.Fatalf("--jsonl: %d %s", code, errs)
	}
	var lines []map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var l map[string]any
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("--jsonl: %v\n%s", err, out)
		}
		lines = append(lines, l)
	}
	if strings.Count(out, "\n") != len(lines) {
		t.Fatalf("--jsonl is not one object per line:\n%s", out)
	}
	i := 0
	for gi, g := range o.Groups {
		for _, m := range g.Members {
			if i >= len(lines) {
				t.Fatalf("%d lines, fewer than the members of --json", len(lines))
			}
			l := lines[i]
			if l["version"] != 2.0 || l["group"] != float64(gi+1) || l["path"] != m.Path || (l["keep"] == true) != m.Keep {
				t.Errorf("line %d: %v, want group %d %s keep %v", i, l, gi+1, m.Path, m.Keep)
			}
			i++
		}
	}
	if i != len(lines) {
		t.Errorf("%d lines for %d members", len(lines), i)
	}
	for _, args := range [][]string{{"--json", "--jsonl"}, {"--csv", "--jsonl"}, {"--json", "--csv"}} {
		if code, _, errs := f.run(t, args...); code != exitUsage || !strings.Contains(errs, "give one of --json, --jsonl, --csv") {
			t.Errorf("%v: exit %d %s", args, code, errs)
		}
	}
}
