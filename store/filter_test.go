package store

import (
	"errors"
	"strings"
	"testing"
)

// TestFilterChecks: a clause that can only match nothing by mistake is
// ErrBadFilter naming what is wrong (and the fields, for an unknown one);
// every documented form parses.
func TestFilterChecks(t *testing.T) {
	for _, ok := range []string{
		"ext:png", "ext:png width:>1000", "-ext:jpg", "+ext:png -name:draft*", "width:1000", "width:>=10 height:<5",
		`taken:>"2021-01-01"`, `mtime:<"2022-06-30T12:00:00Z"`, "camera:canon", "make:nikon model:d750", "gps:true",
		"gps:false lat:>45 lon:<10", "cat.jpg", "name:IMG_*", "path:/photos/.*/", `dir:"/photos/trip (2019)"`,
		"hash:abc123", "format:jpeg", "size:>1000000", "ext:5", "name:cat~1",
	} {
		if _, err := parseFilter(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, tc := range []struct{ filter, want string }{
		{"widht:>1000", `unknown field "widht"; the fields are path, dir, name, ext, format, hash, size, width, height, mtime, taken, make, model, camera, gps, lat, lon`},
		{"ext:png colour:red", `unknown field "colour"`},
		{"(ext:png", "parentheses, OR and AND are not part of the filter syntax"},
		{"ext:(png", "parentheses"},
		{"ext:png OR ext:jpg", "parentheses, OR and AND"},
		{"width:abc", "width is a number: width:1000, width:>1000"},
		{"size:big*", "size is a number"},
		{"taken:2021", `taken is a date: taken:>"2021-01-01"`},
		{"mtime:yesterday", "mtime is a date"},
		{"ext:>5", "ext is text, not a number: ext:VALUE"},
		{`name:>"2021-01-01"`, "name is text, not a date"},
		{"gps:yes", `gps is true or false, not "yes"`},
		{"-widht:10", `unknown field "widht"`},
	} {
		_, err := parseFilter(tc.filter)
		if !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want ErrBadFilter with %q", tc.filter, err, tc.want)
		}
	}
}
