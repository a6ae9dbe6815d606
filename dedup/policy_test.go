package dedup

import (
	"errors"
	"slices"
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
		{nil, "/p/c/y.jpg"},                                    // best: most pixels, then size, then older (no signatures)
		{[]string{"resolution"}, "/p/b/long-name.jpg"},         // same
		{[]string{"size"}, "/p/a/x.jpg"},                       // largest file
		{[]string{"oldest"}, "/p/best/zz.jpg"},                 // by EXIF taken
		{[]string{"newest"}, "/p/b/long-name.jpg"},             // zz's taken date is old, mtime ignored
		{[]string{"shortest-path"}, "/p/a/x.jpg"},              // shortest; /p/c/y.jpg ties, path breaks it
		{[]string{"prefer:/p/c"}, "/p/c/y.jpg"},                // preferred folder
		{[]string{"prefer:/p/nowhere"}, "/p/c/y.jpg"},          // then the default
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

// TestBestKeeper: the best copy by the signature's measures, each stage in
// turn, whatever the names and the order of the members.
func TestBestKeeper(t *testing.T) {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	orig := File{Path: "/p/zz-original.jpg", Size: 1000, ModTime: t0, Width: 300, Height: 200,
		Signed: true, Real: 60000, Sharpness: 0.5, Quality: 75}
	mk := func(name string, edit func(*File)) File {
		f := orig
		f.Path = "/p/" + name
		edit(&f)
		return f
	}
	files := []File{
		orig,
		mk("a-framed.jpg", func(f *File) { f.Width, f.Height, f.Size = 372, 272, 2000; f.Real = 60200 }),
		mk("b-grey.jpg", func(f *File) { f.Grey, f.Quality = true, 95 }),
		mk("c-blur.jpg", func(f *File) { f.Sharpness, f.Quality = 0.25, 95 }),
		mk("d-thumb.png", func(f *File) { f.Width, f.Height, f.Real, f.Quality = 100, 66, 6600, 101 }),
		mk("e-q20.jpg", func(f *File) { f.Quality = 20 }),
	}
	p, _ := ParsePolicy(nil)
	check := func(want string, fs []File, why ...string) {
		t.Helper()
		k := p.Keeper(fs, nil)
		if fs[k].Path != want {
			t.Errorf("keeper %s, want %s", fs[k].Path, want)
		}
		if got := p.Why(fs, nil); !slices.Equal(got, why) {
			t.Errorf("why %v, want %v", got, why)
		}
		rev := slices.Clone(fs)
		slices.Reverse(rev)
		if got := rev[p.Keeper(rev, nil)].Path; got != want {
			t.Errorf("reversed: keeper %s, want %s", got, want)
		}
	}
	// The framed copy has more pixels, not more real ones: the original
	// and it tie there; grey, blurred, thumbnail and q20 copies lose at
	// their stage; the larger framed file wins the last stages.
	check("/p/a-framed.jpg", files, "real pixels", "colour", "sharpness", "compression", "size")
	// Without the framed copy the original keeps.
	check("/p/zz-original.jpg", append(files[:1:1], files[2:]...), "real pixels", "colour", "sharpness", "compression")
	// A less compressed copy with the same pixels wins over the original.
	check("/p/f-q92.jpg", []File{orig, mk("f-q92.jpg", func(f *File) { f.Quality = 92 })}, "compression")
	// A capture time beats a larger file.
	check("/p/g-exif.jpg", []File{mk("h-big.jpg", func(f *File) { f.Size = 5000 }),
		mk("g-exif.jpg", func(f *File) { f.Taken = t0; f.Camera = "Canon EOS" })}, "metadata")
	// In a group of copies the others were made from the original: it
	// sits closest to them all (Spread), and the framed copy and an edit
	// saved at quality 92 lose there, before compression and size; a
	// lossless re-encode of the original shares its place and wins on
	// compression.
	spread := func(f File, d float64) File { f.Spread = d; return f }
	edited := []File{spread(orig, 0.10), spread(files[1], 0.16), spread(mk("f-bright-q92.jpg", func(f *File) { f.Quality = 92 }), 0.15),
		spread(files[5], 0.14)}
	check("/p/zz-original.jpg", edited, "centre by vectors")
	lossless := mk("k-lossless.png", func(f *File) { f.Quality = 101 })
	check("/p/k-lossless.png", append(edited, spread(lossless, 0.105)), "centre by vectors", "compression")
	// All equal: the path.
	check("/p/i.jpg", []File{mk("j.jpg", func(*File) {}), mk("i.jpg", func(*File) {})}, "path")
}
