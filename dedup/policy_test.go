package dedup

import (
	"errors"
	"testing"
	"time"
)

func TestKeeperPolicies(t *testing.T) {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	files := []File{
		{Path: "/p/b/long-name.jpg", Size: 500, ModTime: t0.Add(3 * time.Hour), Width: 100, Height: 100},
		{Path: "/p/a/x.jpg", Size: 900, ModTime: t0.Add(2 * time.Hour), Width: 50, Height: 50},
		{Path: "/p/c/y.jpg", Size: 500, ModTime: t0.Add(1 * time.Hour), Width: 100, Height: 100},
		{Path: "/p/best/zz.jpg", Size: 10, ModTime: t0.Add(4 * time.Hour), Width: 10, Height: 10,
			Taken: t0.Add(-time.Hour)}, // EXIF capture time beats mtime
	}
	for _, tc := range []struct {
		specs []string
		want  string
	}{
		{nil, "/p/b/long-name.jpg"},                            // most pixels; tie on pixels and size -> path
		{[]string{"resolution"}, "/p/b/long-name.jpg"},         // same
		{[]string{"size"}, "/p/a/x.jpg"},                       // largest file
		{[]string{"oldest"}, "/p/best/zz.jpg"},                 // by EXIF taken
		{[]string{"newest"}, "/p/b/long-name.jpg"},             // zz's taken date is old, mtime ignored
		{[]string{"shortest-path"}, "/p/a/x.jpg"},              // shortest; /p/c/y.jpg ties, path breaks it
		{[]string{"prefer:/p/c"}, "/p/c/y.jpg"},                // preferred folder
		{[]string{"prefer:/p/nowhere"}, "/p/b/long-name.jpg"},  // then the default
		{[]string{"prefer:/p/best", "size"}, "/p/best/zz.jpg"}, // chain
		{[]string{"prefer:/p/nowhere", "size"}, "/p/a/x.jpg"},
	} {
		p, err := ParsePolicy(tc.specs)
		if err != nil {
			t.Fatal(err)
		}
		got := files[p.Keeper(files, nil)].Path
		if got != tc.want {
			t.Errorf("%v: keeper %s, want %s", tc.specs, got, tc.want)
		}
		// The keeper does not depend on the order of members.
		rev := []File{files[3], files[2], files[1], files[0]}
		if got := rev[p.Keeper(rev, nil)].Path; got != tc.want {
			t.Errorf("%v reversed: keeper %s, want %s", tc.specs, got, tc.want)
		}
	}
}

func TestKeeperReferenceWins(t *testing.T) {
	files := []File{
		{Path: "/lib/small.jpg", Width: 10, Height: 10},
		{Path: "/in/big.jpg", Width: 1000, Height: 1000},
		{Path: "/lib/other.jpg", Width: 20, Height: 20},
	}
	p, _ := ParsePolicy(nil)
	if got := files[p.Keeper(files, []string{"/lib"})].Path; got != "/lib/other.jpg" {
		t.Errorf("keeper %s, want the best reference /lib/other.jpg", got)
	}
	if got := files[p.Keeper(files, nil)].Path; got != "/in/big.jpg" {
		t.Errorf("keeper %s without references, want /in/big.jpg", got)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	for _, s := range []string{"biggest", "prefer:", ""} {
		if _, err := ParsePolicy([]string{s}); !errors.Is(err, ErrBadPolicy) {
			t.Errorf("%q: err %v, want ErrBadPolicy", s, err)
		}
	}
}
