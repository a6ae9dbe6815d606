//go:build unix

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/embedsearch/embedsearch/internal/weaviatetest"
	"github.com/embedsearch/embedsearch/weaviatestore"
)

// files lists what is under dir, for comparing two runs: each path with
// its size, a symbolic link's target and a file's link count.
func files(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			to, _ := os.Readlink(p)
			rto, _ := filepath.Rel(dir, to)
			lines = append(lines, fmt.Sprintf("%s -> %s", rel, rto))
		case fi.IsDir():
			lines = append(lines, rel+"/")
		default:
			links := uint64(1)
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				links = uint64(st.Nlink)
			}
			lines = append(lines, fmt.Sprintf("%s %d bytes, %d link(s)", rel, fi.Size(), links))
		}
		return nil
	})
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

var (
	journalName = regexp.MustCompile(`dedup-[0-9TZ.]+\.jsonl`)
	storeVaries = regexp.MustCompile(`(last indexed:|size:) .*`)
)

// dedupScript runs dedup's actions, each undone, on the store s over a
// library with copies in dir, and returns what a user sees of each step
// and of the files, status and a query after it, with dir, s, the
// journal's and the trash's folders taken out.
func dedupScript(t *testing.T, s string) []string {
	t.Helper()
	dir, _ := imageDir(t, 6)
	for name, from := range map[string]string{"copy.png": "img0.png", "A/x.png": "img5.png", "a/y.png": "img4.png", "sub/c.png": "img3.png"} {
		data, err := os.ReadFile(filepath.Join(dir, from))
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err != nil || os.WriteFile(filepath.Join(dir, name), data, 0o644) != nil {
			t.Fatal("cannot copy", from, err)
		}
	}
	stampTimes(t, dir)
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	aside := t.TempDir()
	names := strings.NewReplacer(s, "STORE", dir, "DIR", xdg, "XDG", aside, "ASIDE")
	if l, err := weaviatestore.ParseLocation(s); err == nil {
		jdir, _ := journalDir(l)
		names = strings.NewReplacer(s, "STORE", l.String(), "STORE", jdir, "JOURNALS", dir, "DIR", xdg, "XDG", aside, "ASIDE")
	} else {
		names = strings.NewReplacer(s+"/journals", "JOURNALS", s, "STORE", dir, "DIR", xdg, "XDG", aside, "ASIDE")
	}
	var seen []string
	journal := ""
	run := func(args ...string) {
		t.Helper()
		code, out, errs := embedCLI(t, "", args...)
		if j := journalName.FindString(out + errs); j != "" && !slices.Contains(args, "--undo") && !slices.Contains(args, "--purge") {
			journal = j
		}
		out = timings.ReplaceAllString(out, "; TIME")
		text := strings.Join(args, " ") + "\n=> " + strings.TrimSpace(out) + "\n=> exit " + fmt.Sprint(code) + " " + strings.TrimSpace(errs)
		seen = append(seen, names.Replace(journalName.ReplaceAllString(text, "JOURNAL")))
		seen = append(seen, names.Replace(files(t, dir)+" | aside: "+files(t, aside)))
		_, out, _ = embedCLI(t, "", "status", "--store", s)
		// The size on disk differs: a local store against the mirror.
		seen = append(seen, names.Replace(storeVaries.ReplaceAllString(out, "$1 VARIES")))
		_, out, errs = embedCLI(t, "", "query", filepath.Join(dir, "sub", "b.png"), "--store", s, "--csv", "-k", "20")
		seen = append(seen, names.Replace(out+errs))
	}
	jpath := func() string {
		if l, err := weaviatestore.ParseLocation(s); err == nil {
			jdir, _ := journalDir(l)
			return filepath.Join(jdir, journal)
		}
		return filepath.Join(s, "journals", journal)
	}
	run("index", dir, "--store", s, "--model", tinyModel)
	m := []string{"--model", tinyModel}
	run(append([]string{"dedup", "--store", s, "--json"}, m...)...)
	for _, action := range [][]string{{"--trash"}, {"--link", "hard"}, {"--link", "sym"}, {"--move-to", aside}} {
		run(append(append([]string{"dedup", "--store", s, "--json"}, m...), action...)...)
		if journal == "" {
			t.Fatalf("dedup %v wrote no journal:\n%s", action, strings.Join(seen, "\n"))
		}
		run("dedup", "--store", s, "--undo", jpath())
	}
	run(append([]string{"dedup", "--store", s, "--link", "hard"}, m...)...)
	run("dedup", "--store", s, "--purge", jpath())
	run("dedup", "--store", s, "--undo", jpath())
	run(append([]string{"dedup", "--store", s, "--delete", "--yes"}, m...)...)
	run("index", dir, "--store", s, "--model", tinyModel)
	return seen
}

// TestStoreBackendsDedup: dedup's actions (trash, hard and symbolic
// links, move, delete), their undo and purge leave the same files on a
// Weaviate collection as on a local store, and the status and query
// that follow each step print the same: the collection forgets what was
// moved away and gets it back on undo.
func TestStoreBackendsDedup(t *testing.T) {
	c := weaviatetest.Start(t, 1)
	t.Setenv(envMirror, t.TempDir())
	local := dedupScript(t, filepath.Join(t.TempDir(), "store"))
	remote := dedupScript(t, c.URL("Dedup"))
	sameSteps(t, local, remote)
}
