package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/embedsearch/embedsearch/index"
)

// skippedSummary says what walks did not take, e.g. "skipped: 3 unsupported
// (jxl 2, psd 1), 2 not images, 1 link not followed"; "" when nothing was.
func skippedSummary(c index.SkipCounts) string {
	if c.Total() == 0 {
		return ""
	}
	var parts []string
	if len(c.Unsupported) > 0 {
		formats := slices.SortedFunc(maps.Keys(c.Unsupported), func(a, b string) int {
			return cmp.Or(cmp.Compare(c.Unsupported[b], c.Unsupported[a]), cmp.Compare(a, b))
		})
		n := 0
		each := make([]string, len(formats))
		for i, f := range formats {
			n += c.Unsupported[f]
			each[i] = fmt.Sprintf("%s %d", f, c.Unsupported[f])
		}
		parts = append(parts, fmt.Sprintf("%d unsupported (%s)", n, strings.Join(each, ", ")))
	}
	if c.NotImages > 0 {
		parts = append(parts, plural(c.NotImages, "not an image", "not images"))
	}
	if c.Links > 0 {
		parts = append(parts, plural(c.Links, "link not followed", "links not followed"))
	}
	return "skipped: " + strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// skipReason is a skipped file's reason in an --errors list, told from a
// failure's by its "skipped:" prefix.
func skipReason(s index.Skip) string {
	switch s.Reason {
	case index.SkipUnsupported:
		return "skipped: unsupported image format (" + s.Format + ")"
	case index.SkipLink:
		return "skipped: symbolic link not followed (--follow-symlinks follows links)"
	}
	return "skipped: not an image (by its name)"
}
