package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDistanceFlags: query --max-distance and dedup --threshold refuse
// what no distance between embeddings can be, NaN and infinities too, with
// a usage error naming the flag; in-range values run.
func TestDistanceFlags(t *testing.T) {
	dir, _ := imageDir(t, 3)
	sdir := filepath.Join(t.TempDir(), "store")
	if code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	img := filepath.Join(dir, "img0.png")
	for _, c := range []struct {
		cmd, flag string
		bad, good []string
	}{
		{"query", "--max-distance", []string{"-1", "-0.001", "nan", "NaN", "inf", "-inf", "2.5"}, []string{"0", "0.3", "2"}},
		{"dedup", "--threshold", []string{"-1", "0", "nan", "inf", "-inf", "3"}, []string{"0.3", "2"}},
	} {
		run := func(v string) (int, string) {
			args := []string{c.cmd, "--store", sdir, c.flag + "=" + v}
			if c.cmd == "query" {
				args = append(args, img)
			}
			code, _, errs := embedCLI(t, "", args...)
			return code, errs
		}
		for _, v := range c.bad {
			if code, errs := run(v); code != exitUsage || !strings.Contains(errs, c.flag+" ") || !strings.Contains(errs, "must be a distance in") {
				t.Errorf("%s %s %s: exit %d, %s", c.cmd, c.flag, v, code, errs)
			}
		}
		for _, v := range c.good {
			if code, errs := run(v); code != exitOK {
				t.Errorf("%s %s %s: exit %d, %s", c.cmd, c.flag, v, code, errs)
			}
		}
	}
}

// TestInFolderMissing: query --in a folder that does not exist (or a file)
// is a usage error, worded as dedup's, not an empty answer.
func TestInFolderMissing(t *testing.T) {
	dir, _ := imageDir(t, 3)
	sdir := filepath.Join(t.TempDir(), "store")
	if code, out, errs := embedCLI(t, "", "index", "--store", sdir, "--model", tinyModel, dir); code != 0 {
		t.Fatalf("index: %d %s %s", code, out, errs)
	}
	img := filepath.Join(dir, "img0.png")
	for _, in := range []string{filepath.Join(dir, "nonexistent"), img} {
		code, out, errs := embedCLI(t, "", "query", "--store", sdir, "--in", in, img)
		if code != exitUsage || !strings.Contains(errs, "--in "+in+": not a folder") || out != "" {
			t.Errorf("query --in %s: exit %d\n%s\n%s", in, code, out, errs)
		}
		dcode, _, derrs := embedCLI(t, "", "dedup", "--store", sdir, "--in", in)
		if dcode != code || derrs != errs {
			t.Errorf("dedup --in %s: exit %d %q; query: exit %d %q", in, dcode, derrs, code, errs)
		}
	}
	// An existing folder still filters.
	if code, out, errs := embedCLI(t, "", "query", "--store", sdir, "--in", filepath.Join(dir, "sub"), "--paths", img); code != exitOK || strings.TrimSpace(out) == "" || strings.Contains(out, "img0.png") {
		t.Errorf("query --in sub: exit %d\n%s\n%s", code, out, errs)
	}
}
