package index

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWalkCountsWhatItSkips: every file of a walked folder that is not
// taken is reported with its reason (nothing vanishes), while what the
// walk never looks at (hidden entries, junk folders, excluded names, the
// desktop's own files) is not.
func TestWalkCountsWhatItSkips(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{
		"a.jpg", "b.JXL", "sub/c.psd", "sub/d.jxl", "notes.txt", "sub/e.xmp",
		"Thumbs.db", ".hidden.jxl", ".dot/x.txt", "@eaDir/y.txt", "skip-me.txt",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "a.jpg"), filepath.Join(root, "link.jpg")); err != nil {
		t.Fatal(err)
	}
	var skips []Skip
	var counts SkipCounts
	var taken []string
	Walk(context.Background(), root, WalkOptions{Exclude: []string{"skip-*"}, Skipped: func(s Skip) {
		skips = append(skips, s)
		counts.Add(s)
	}}, func(p string, _ fs.FileInfo) bool { taken = append(taken, filepath.Base(p)); return true },
		func(p string, err error) { t.Errorf("failure %s: %v", p, err) })
	if !slices.Equal(taken, []string{"a.jpg"}) {
		t.Errorf("taken %v, want [a.jpg]", taken)
	}
	want := SkipCounts{Unsupported: map[string]int{"jxl": 2, "psd": 1}, NotImages: 2, Links: 1}
	if !maps.Equal(counts.Unsupported, want.Unsupported) || counts.NotImages != want.NotImages || counts.Links != want.Links {
		t.Errorf("counts %+v, want %+v (skips %+v)", counts, want, skips)
	}
	if counts.Total() != 6 || len(skips) != 6 {
		t.Errorf("total %d, %d skips; want 6", counts.Total(), len(skips))
	}
	for _, s := range skips {
		if filepath.Base(s.Path) == "sub" || s.Path == "" {
			t.Errorf("skip names no file: %+v", s)
		}
	}
}
