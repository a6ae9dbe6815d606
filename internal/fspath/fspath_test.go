package fspath

import "testing"

func TestWithin(t *testing.T) {
	for _, c := range []struct {
		dir, path string
		want      bool
	}{
		{"/a/b", "/a/b", true},
		{"/a/b", "/a/b/c.jpg", true},
		{"/a/b", "/a/bc", false},
		{"/a/b", "/a", false},
		{"/a/b", "/x/a/b", false},
		{"/", "/anything", true},
		{"/", "/", true},
		{"/a/b", "/a/b/../c", true}, // lexical: callers pass clean paths
		{"/a", "/", false},
		{"/a", "/a/..b", true},
	} {
		if got := Within(c.dir, c.path); got != c.want {
			t.Errorf("Within(%q, %q) = %v, want %v", c.dir, c.path, got, c.want)
		}
	}
	if !WithinAny([]string{"/x", "/a"}, "/a/1") || WithinAny(nil, "/a") || WithinAny([]string{"/x"}, "/a") {
		t.Error("WithinAny")
	}
}
