package store

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleEntries() []Entry {
	return []Entry{
		{Path: "/a/b.jpg", Size: 1234, ModTime: time.Unix(1700000000, 123).UTC(),
			SHA256: strings.Repeat("ab", 32), Width: 4000, Height: 3000, Format: "jpeg",
			Taken: time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC), Make: "Canon", Model: "EOS 5D",
			GPS: &GPS{Lat: 48.85, Lon: -2.35}},
		{Path: "/a/c.png", Size: 1, Format: "png"},
		{Path: "/z/ü nicode é.webp", Size: math.MaxInt64, ModTime: time.Unix(0, 1).UTC(), Width: 1, Height: 1},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, e := range sampleEntries() {
		b, err := appendRecord(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("%s: %v", e.Path, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
		}
		if p, ok := recordPath(b); !ok || p != e.Path {
			t.Errorf("recordPath = %q, %v", p, ok)
		}
		// Every strict prefix must be refused, never panic.
		for i := 0; i < len(b); i++ {
			if _, err := decodeRecord(b[:i]); err == nil {
				t.Fatalf("truncated record (%d of %d bytes) accepted", i, len(b))
			}
		}
	}
}

func TestRecordRejectsBadSHA(t *testing.T) {
	if _, err := appendRecord(nil, &Entry{Path: "/x", SHA256: "zz"}); err == nil {
		t.Fatal("bad SHA-256 accepted")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, e := range sampleEntries() {
		b, _ := appendRecord(nil, &e)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeRecord(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to a record decoding the same.
		b2, err := appendRecord(nil, &e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		e2, err := decodeRecord(b2)
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-encode mismatch: %v\n%+v\n%+v", err, e, e2)
		}
	})
}

func sampleManifest() *manifest {
	return &manifest{
		Generation: 7, ContentGen: 6,
		Binding:  Binding{ModelID: "tiny-v1", Digest: strings.Repeat("0f", 32), Preprocess: "abc", Dim: 8},
		Segments: []segmentRef{{Name: segmentName(3), Gen: 3, Count: 10, Size: 5000, HeaderCRC: 42}, {Name: segmentName(6), Gen: 6, Count: 1, Tombstones: 2, Size: 4200, HeaderCRC: 7}},
		Roots:    []string{"/photos"}, Created: time.Unix(1, 0).UTC(), LastIndexed: time.Unix(2, 0).UTC(), Failed: 3,
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := sampleManifest()
	b, err := encodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("got %+v\nwant %+v", got, m)
	}
	// Any single flipped bit is caught.
	for i := 0; i < len(b); i++ {
		c := bytes.Clone(b)
		c[i] ^= 0x10
		if _, err := decodeManifest(c); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	// A newer version is refused as such.
	c := bytes.Clone(b)
	c[8] = 2
	if _, err := decodeManifest(c); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 2: %v, want ErrVersion", err)
	}
}

func FuzzDecodeManifest(f *testing.F) {
	b, _ := encodeManifest(sampleManifest())
	f.Add(b)
	f.Add([]byte("ESMANIFS"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			return
		}
		b2, err := encodeManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeManifest(b2); err != nil {
			t.Fatalf("re-encoded manifest refused: %v", err)
		}
	})
}

// encodeSegmentBytes writes a segment through the real writer and reads
// the file back.
func encodeSegmentBytes(t testing.TB, dim int, ents []Entry, tombs []string) []byte {
	dir := t.TempDir()
	ref, err := writeSegment(dir, &segmentData{
		gen: 5, dim: dim, count: len(ents),
		entries:    func(i int) *Entry { return &ents[i] },
		vector:     func(i int) []float32 { return testVector(ents[i].Path, dim) },
		tombstones: tombs,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := openSegment(dir, ref, dim)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	return bytes.Clone(s.data)
}

func TestSegmentRoundTrip(t *testing.T) {
	const dim = 5
	ents := sampleEntries()
	b := encodeSegmentBytes(t, dim, ents, []string{"/gone/1.jpg", "/gone/2.jpg"})
	s, err := parseSegment(b, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.verify(); err != nil {
		t.Fatal(err)
	}
	if s.len() != len(ents) || !reflect.DeepEqual(s.tombs, []string{"/gone/1.jpg", "/gone/2.jpg"}) {
		t.Fatalf("len %d tombs %v", s.len(), s.tombs)
	}
	for i, e := range ents {
		got, err := s.entry(i)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("entry %d: %v %+v", i, err, got)
		}
		if !reflect.DeepEqual(s.vector(i), testVector(e.Path, dim)) {
			t.Fatalf("vector %d differs", i)
		}
		if id, ok := s.search(e.Path); !ok || id != i {
			t.Fatalf("search %s = %d %v", e.Path, id, ok)
		}
	}
	// A flipped bit anywhere is caught by open or verify.
	for i := 0; i < len(b); i += 7 {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		s, err := parseSegment(c, int64(len(c)))
		if err == nil {
			err = s.verify()
		}
		if err == nil && !(i >= headerBytes && i < headerSize) { // the header padding is not covered
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
}

func FuzzParseSegment(f *testing.F) {
	f.Add(encodeSegmentBytes(f, 3, sampleEntries(), []string{"/t"}))
	f.Add(encodeSegmentBytes(f, 1, nil, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Page-aligned copy, as a mapping would be.
		s, err := parseSegment(b, int64(len(b)))
		if err != nil {
			return
		}
		if err := s.verify(); err != nil {
			return
		}
		for i := 0; i < s.len(); i++ {
			if _, err := s.entry(i); err != nil {
				t.Fatalf("verified segment has undecodable record %d", i)
			}
			_ = s.vector(i)
		}
	})
}
