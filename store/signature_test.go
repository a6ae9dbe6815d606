package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// testSig is a deterministic signature-like byte string for a path.
func testSig(path string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(len(path)*31 + i*7)
	}
	return b
}

func TestSegmentSignaturesRoundTrip(t *testing.T) {
	const dim = 5
	ents := sampleEntries()
	ents[0].Signature = testSig(ents[0].Path, 100)
	ents[2].Signature = testSig(ents[2].Path, 37) // shorter: padded in its slot
	b := encodeSegmentBytes(t, dim, ents, nil)
	s, err := parseSegment(b, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.verify(); err != nil {
		t.Fatal(err)
	}
	if s.hdr.Version != segmentVersion || s.hdr.SigLen != 102 {
		t.Fatalf("version %d, slot %d", s.hdr.Version, s.hdr.SigLen)
	}
	for i, e := range ents {
		got, err := s.entry(i)
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("entry %d: %v\n got %+v\nwant %+v", i, err, got, e)
		}
		if !bytes.Equal(s.signature(i), e.Signature) {
			t.Fatalf("signature %d = %v", i, s.signature(i))
		}
	}
	// Every byte of the signature section is covered by its checksum.
	for i := int(s.hdr.sigOffset()); i < int(s.hdr.EntOffset); i++ {
		c := bytes.Clone(b)
		c[i] ^= 0x04
		s, err := parseSegment(c, int64(len(c)))
		if err == nil {
			err = s.verify()
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flipped signature byte %d: %v", i, err)
		}
	}
}

func TestSegmentWithoutSignaturesHasNoSection(t *testing.T) {
	b := encodeSegmentBytes(t, 3, sampleEntries(), nil)
	s, err := parseSegment(b, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if s.hdr.SigLen != 0 || s.sigs != nil || s.hdr.EntOffset != s.hdr.sigOffset() {
		t.Fatalf("slot %d, section %d bytes", s.hdr.SigLen, len(s.sigs))
	}
}

// asVersion1 rewrites a segment written without signatures as the
// previous format wrote it: version 1, the CRC at byte 68 over the bytes
// before it, nothing else different.
func asVersion1(t testing.TB, b []byte) []byte {
	t.Helper()
	c := bytes.Clone(b)
	le := binary.LittleEndian
	if le.Uint32(c[64:]) != 0 {
		t.Fatal("segment has signatures")
	}
	le.PutUint32(c[8:], 1)
	clear(c[64:headerBytes])
	le.PutUint32(c[68:], crc32.Checksum(c[:68], castagnoli))
	return c
}

func TestVersion1SegmentsStillRead(t *testing.T) {
	ents := sampleEntries()
	b := asVersion1(t, encodeSegmentBytes(t, 4, ents, []string{"/gone"}))
	s, err := parseSegment(b, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.verify(); err != nil {
		t.Fatal(err)
	}
	if s.hdr.Version != 1 {
		t.Fatalf("version %d", s.hdr.Version)
	}
	for i, e := range ents {
		if got, err := s.entry(i); err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("entry %d: %v %+v", i, err, got)
		}
	}
	// A version 1 header is checked as version 1: a flipped byte in what
	// version 2 calls the signature fields is caught.
	c := bytes.Clone(b)
	c[64] ^= 1
	if _, err := parseSegment(c, int64(len(c))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped reserved byte: %v", err)
	}
	// A version this build does not know is refused as such.
	c = bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[8:], segmentVersion+1)
	if _, err := parseSegment(c, int64(len(c))); !errors.Is(err, ErrVersion) {
		t.Fatalf("version %d: %v, want ErrVersion", segmentVersion+1, err)
	}
}

// A store written by the previous format (version 1 segments) opens for
// reading and writing; the next commit and compaction write version 2,
// with the signatures put since.
func TestVersion1StoreGainsSignatures(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, testBinding, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/p/a.jpg", "/p/b.jpg", "/p/c.jpg"}
	for _, p := range paths {
		if err := w.Put(testEntry(p), testVector(p, testBinding.Dim)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Turn the segment into a version 1 file, as an earlier build left it.
	man, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, man.Segments[0].Name)
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b = asVersion1(t, b)
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	man.Segments[0].HeaderCRC = binary.LittleEndian.Uint32(b[68:])
	if err := writeManifest(dir, man); err != nil {
		t.Fatal(err)
	}

	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 3 || r.Signatures() != 0 || r.Signature(0) != nil {
		t.Fatalf("len %d, signatures %d", r.Len(), r.Signatures())
	}
	r.Close()

	w, err = OpenWriter(dir, testBinding, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.HasSignature(paths[1]) {
		t.Fatal("version 1 entry has a signature")
	}
	// Gaining a signature keeps the vector: the entry is put again.
	e, _ := w.Get(paths[1])
	e.Signature = testSig(paths[1], 64)
	if err := w.Put(e, testVector(paths[1], testBinding.Dim)); err != nil {
		t.Fatal(err)
	}
	if !w.HasSignature(paths[1]) || w.HasSignature(paths[0]) {
		t.Fatal("HasSignature before commit")
	}
	if err := w.Compact(); err != nil {
		t.Fatal(err)
	}
	if !w.HasSignature(paths[1]) || w.HasSignature(paths[0]) {
		t.Fatal("HasSignature after compaction")
	}
	w.Close()
	r, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	if r.segs[0].hdr.Version != segmentVersion || r.Segments() != 1 {
		t.Fatalf("after compaction: version %d, %d segments", r.segs[0].hdr.Version, r.Segments())
	}
	for id, p := range paths {
		want := []byte(nil)
		if id == 1 {
			want = testSig(p, 64)
		}
		if !bytes.Equal(r.Signature(id), want) || !bytes.Equal(r.Entry(id).Signature, want) {
			t.Fatalf("%s: signature %v", p, r.Signature(id))
		}
		if !reflect.DeepEqual(r.Vector(id), testVector(p, testBinding.Dim)) {
			t.Fatalf("%s: vector changed", p)
		}
	}
	if r.Signatures() != 1 || r.VerifySignatures() != nil {
		t.Fatalf("signatures %d, verify %v", r.Signatures(), r.VerifySignatures())
	}
}

func TestPutRefusesHugeSignature(t *testing.T) {
	w, err := OpenWriter(t.TempDir(), testBinding, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e := testEntry("/p/x.jpg")
	e.Signature = make([]byte, maxSignature+1)
	if err := w.Put(e, testVector(e.Path, testBinding.Dim)); err == nil {
		t.Fatal("signature over the slot limit accepted")
	}
}

func FuzzParseSegmentSignatures(f *testing.F) {
	ents := sampleEntries()
	ents[1].Signature = testSig("x", 9)
	f.Add(encodeSegmentBytes(f, 2, ents, nil))
	f.Add(asVersion1(f, encodeSegmentBytes(f, 2, sampleEntries(), nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSegment(b, int64(len(b)))
		if err != nil {
			return
		}
		for i := 0; i < s.len(); i++ {
			_ = s.signature(i) // never out of bounds, verified or not
		}
		if err := s.verify(); err != nil {
			return
		}
		for i := 0; i < s.len(); i++ {
			if _, err := s.entry(i); err != nil {
				t.Fatalf("verified segment has undecodable record %d", i)
			}
		}
	})
}
