package main

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// pathField writes a file path as a field of a line-oriented list, such as
// index --errors FILE (path TAB reason), so that every path stays on its
// line and reads back exactly. A path is written as it is, unless it holds
// a tab, a newline or any other control or non-printable character, bytes
// that are not UTF-8, or starts with a double quote: then it is Go-quoted
// (strconv.Quote; strconv.Unquote gives the path back, byte for byte). So a
// field that starts with '"' is quoted, any other is the path itself.
// Backslashes alone do not quote a path: Windows paths stay readable.
func pathField(p string) string {
	if strings.HasPrefix(p, `"`) {
		return strconv.Quote(p)
	}
	for i, r := range p {
		if (r == utf8.RuneError && !strings.HasPrefix(p[i:], "\uFFFD")) || !strconv.IsPrint(r) {
			return strconv.Quote(p)
		}
	}
	return p
}
