package tune

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/embedsearch/embedsearch/internal/inputfile"
)

// maxListFile bounds a labels or pairs file.
const maxListFile = 256 << 20

// readLines reads a tab-separated list file through the one opener and
// calls f for each non-empty line that is not a comment (#), with its
// fields and 1-based number.
func readLines(ctx context.Context, file string, f func(fields []string, line int) error) error {
	data, _, err := inputfile.ReadAll(ctx, file, inputfile.Options{FollowLinks: true, MaxSize: maxListFile})
	if err != nil {
		return err
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		s := strings.TrimRight(string(line), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if err := f(strings.Split(s, "\t"), i+1); err != nil {
			return err
		}
	}
	return nil
}

// resolver turns a path from a list file into an absolute cleaned path:
// relative paths are relative to the file's own folder.
func resolver(file string) (func(string) string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(abs)
	return func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}, nil
}

// ReadLabels reads a labels file: one image per line, PATH<TAB>LABEL.
// A line that is not two non-empty fields is ErrBadFile; a file with no
// lines is ErrEmpty.
func ReadLabels(ctx context.Context, file string) ([]Label, error) {
	res, err := resolver(file)
	if err != nil {
		return nil, err
	}
	var out []Label
	err = readLines(ctx, file, func(fields []string, line int) error {
		if len(fields) != 2 || fields[0] == "" || strings.TrimSpace(fields[1]) == "" {
			return fmt.Errorf("%w: %s line %d: want PATH<TAB>LABEL, have %d field(s)", ErrBadFile, file, line, len(fields))
		}
		out = append(out, Label{Path: res(fields[0]), Label: strings.TrimSpace(fields[1]), Line: line})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s lists no images", ErrEmpty, file)
	}
	return out, nil
}

// ReadPairs reads a pairs file: one duplicate pair per line,
// PATH<TAB>PATH (more paths on a line make one group of copies).
func ReadPairs(ctx context.Context, file string) ([]DupGroup, error) {
	res, err := resolver(file)
	if err != nil {
		return nil, err
	}
	var out []DupGroup
	err = readLines(ctx, file, func(fields []string, line int) error {
		g := DupGroup{Line: line}
		for _, f := range fields {
			if f == "" {
				continue
			}
			g.Paths = append(g.Paths, res(f))
		}
		if len(g.Paths) < 2 {
			return fmt.Errorf("%w: %s line %d: want PATH<TAB>PATH (two copies of one image)", ErrBadFile, file, line)
		}
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s lists no pairs", ErrEmpty, file)
	}
	return out, nil
}

// FolderLabels labels each path by its parent folder relative to the
// root (of roots) it lies under: photos/cats/a.jpg under photos is
// "cats". Paths under no root, or directly in one, get no label.
func FolderLabels(paths, roots []string) []Label {
	var out []Label
	for _, p := range paths {
		for _, r := range roots {
			rel, err := filepath.Rel(r, filepath.Dir(p))
			if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				continue
			}
			out = append(out, Label{Path: p, Label: filepath.ToSlash(rel)})
			break
		}
	}
	return out
}
