package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/embedsearch/embedsearch/store"
)

// TestEmbedAndIndexTakeTheSameFiles: embed DIR and index DIR walk one way
// (index.Walk), with the same flags, over a tree with junk folders, hidden
// files, excluded names, a link to a file, a link to a folder and a link
// loop. Before, embed had its own walker: it took @eaDir thumbnails,
// ignored --exclude and sniffed files without an image extension.
func TestEmbedAndIndexTakeTheSameFiles(t *testing.T) {
	root := filepath.Join(t.TempDir(), "photos")
	writePNGs(t, root, "a", 0, 2)
	writePNGs(t, filepath.Join(root, "sub"), "b", 2, 2)
	writePNGs(t, filepath.Join(root, "@eaDir"), "thumb", 4, 1)
	writePNGs(t, filepath.Join(root, "node_modules"), "dep", 5, 1)
	writePNGs(t, filepath.Join(root, ".hidden"), "h", 6, 1)
	hiddenFile := writePNGs(t, root, ".dot", 7, 1)[0]
	noExt := writePNGs(t, root, "noext", 8, 1)[0]
	os.Rename(noExt, strings.TrimSuffix(noExt, ".png"))
	outside := writePNGs(t, filepath.Join(t.TempDir(), "elsewhere"), "o", 9, 2)
	os.Symlink(outside[0], filepath.Join(root, "link.png"))
	os.Symlink(filepath.Dir(outside[0]), filepath.Join(root, "linkdir"))
	os.Symlink(root, filepath.Join(root, "sub", "loop"))

	for _, flags := range [][]string{
		nil,
		{"--include-hidden"},
		{"--follow-symlinks"},
		{"--exclude", "b*", "--exclude", filepath.Join(root, "a000.png")},
	} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			args := append([]string{"embed"}, flags...)
			code, out, errs := runCLI(t, append(args, root)...)
			if code != exitOK {
				t.Fatalf("embed: exit %d: %s", code, errs)
			}
			var embedded []string
			sc := bufio.NewScanner(strings.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var row struct{ Path string }
				if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
					t.Fatal(err)
				}
				abs, _ := filepath.Abs(row.Path)
				embedded = append(embedded, abs)
			}
			sdir := filepath.Join(t.TempDir(), "store")
			args = append([]string{"index", "--store", sdir, "-q"}, flags...)
			if code, _, errs := runCLI(t, append(args, root)...); code != exitOK {
				t.Fatalf("index: exit %d: %s", code, errs)
			}
			r, err := store.Open(sdir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var indexed []string
			for id := range r.Len() {
				indexed = append(indexed, r.Path(id))
			}
			slices.Sort(embedded)
			slices.Sort(indexed)
			if !slices.Equal(embedded, indexed) || len(indexed) == 0 {
				t.Errorf("embed took %d files, index %d:\nembed %q\nindex %q", len(embedded), len(indexed), embedded, indexed)
			}
			if hidden := slices.Contains(flags, "--include-hidden"); slices.Contains(indexed, hiddenFile) != hidden {
				t.Errorf("hidden file taken = %v with flags %q", !hidden, flags)
			}
			if follow := slices.Contains(flags, "--follow-symlinks"); slices.Contains(indexed, filepath.Join(root, "link.png")) != follow {
				t.Errorf("link to a file taken = %v with flags %q", !follow, flags)
			}
			for _, p := range indexed {
				for _, junk := range []string{"@eaDir", "node_modules", "noext"} {
					if strings.Contains(p, junk) {
						t.Errorf("took %s", p)
					}
				}
			}
		})
	}
}

// TestStoreRemembersItsModel: a store built with --model DIR needs no
// --model afterwards: dedup DIR indexes into it with its own model (it
// used the built-in and failed with a model mismatch), and forget and
// index work on it; another --model is refused, never ignored.
func TestStoreRemembersItsModel(t *testing.T) {
	root := filepath.Join(t.TempDir(), "photos")
	writePNGs(t, root, "a", 0, 3)
	sdir := filepath.Join(t.TempDir(), "store")
	if code, _, errs := runCLI(t, "index", "--store", sdir, "--model", tinyModel, "-q", root); code != exitOK {
		t.Fatalf("index --model: exit %d: %s", code, errs)
	}
	writePNGs(t, root, "b", 3, 2) // new files for dedup DIR to index
	if code, out, errs := runCLI(t, "dedup", "--store", sdir, "--json", root); code != exitOK || !strings.Contains(out, `"groups"`) {
		t.Fatalf("dedup DIR on a store of another model: exit %d: %s %s", code, out, errs)
	}
	r, err := store.Open(sdir)
	if err != nil {
		t.Fatal(err)
	}
	n := r.Len()
	r.Close()
	if n != 5 {
		t.Errorf("dedup DIR indexed into a store of %d images, want 5", n)
	}
	if code, _, errs := runCLI(t, "index", "--store", sdir, "-q", root); code != exitOK {
		t.Errorf("index without --model: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "dedup", "--store", sdir, "--model", "builtin", root); code != exitError || !strings.Contains(errs, "holds vectors of") {
		t.Errorf("dedup --model builtin: exit %d: %s", code, errs)
	}
}

// TestSkippedFilesAreCounted: files a walk does not take no longer vanish.
// index's summary counts them by reason, --errors lists each with a
// "skipped:" reason, embed counts them on stderr, and none of them changes
// the exit code; a file that fails to decode still does.
func TestSkippedFilesAreCounted(t *testing.T) {
	root := filepath.Join(t.TempDir(), "photos")
	writePNGs(t, root, "a", 0, 2)
	for _, name := range []string{"b.jxl", "c.JXL", "d.psd", "notes.txt", "Thumbs.db", ".hidden.psd"} {
		os.WriteFile(filepath.Join(root, name), []byte("x"), 0o644)
	}
	os.Symlink(filepath.Join(root, "a000.png"), filepath.Join(root, "link.png"))
	const want = "skipped: 3 unsupported (jxl 2, psd 1), 1 not an image, 1 link not followed"

	sdir := filepath.Join(t.TempDir(), "store")
	errFile := filepath.Join(t.TempDir(), "errors.tsv")
	code, out, errs := runCLI(t, "index", "--store", sdir, "--model", tinyModel, "--errors", errFile, root)
	if code != exitOK || !strings.Contains(out, "failed 0; "+want+"; ") {
		t.Fatalf("index: exit %d\n%s\n%s", code, out, errs)
	}
	data, _ := os.ReadFile(errFile)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	wantLines := []string{
		filepath.Join(root, "b.jxl") + "\tskipped: unsupported image format (jxl)",
		filepath.Join(root, "c.JXL") + "\tskipped: unsupported image format (jxl)",
		filepath.Join(root, "d.psd") + "\tskipped: unsupported image format (psd)",
		filepath.Join(root, "link.png") + "\tskipped: symbolic link not followed (--follow-symlinks follows links)",
		filepath.Join(root, "notes.txt") + "\tskipped: not an image (by its name)",
	}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("--errors lists\n%s\nwant\n%s", data, strings.Join(wantLines, "\n"))
	}

	code, _, errs = runCLI(t, "embed", root)
	if code != exitOK || !strings.Contains(errs, "embedsearch: "+want+"\n") {
		t.Errorf("embed: exit %d, stderr %q", code, errs)
	}

	os.WriteFile(filepath.Join(root, "broken.png"), []byte("\x89PNG\r\n\x1a\n broken"), 0o644)
	code, out, _ = runCLI(t, "index", "--store", sdir, "--model", tinyModel, root)
	if code != exitPartial || !strings.Contains(out, "failed 1; "+want) {
		t.Errorf("index with a broken file: exit %d, %s", code, out)
	}
}
