// Package fspath answers the one question about paths that embedsearch
// asks everywhere (which entries a root sweeps, what --in selects, which
// files a dedup action may touch): does this path lie in that folder?
//
// The answer is lexical: both paths must be absolute and clean
// (filepath.Abs gives such paths); links are the caller's business.
package fspath

import (
	"os"
	"slices"
	"strings"
)

// Within reports whether path is dir or lies under it. "/a/bc" is not
// within "/a/b".
func Within(dir, path string) bool {
	if !strings.HasPrefix(path, dir) {
		return false
	}
	return len(path) == len(dir) || dir[len(dir)-1] == os.PathSeparator || path[len(dir)] == os.PathSeparator
}

// WithinAny reports whether path is within one of dirs.
func WithinAny(dirs []string, path string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return Within(d, path) })
}
