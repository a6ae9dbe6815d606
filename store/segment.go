package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unsafe"
)

const (
	segmentMagic = "ESSEGMNT"
	// segmentVersion is the version this build writes; version 1 (no
	// signature section) is still read.
	segmentVersion = 2
	// headerSize is one page so the vector block that follows can be used
	// in place from a memory map (page-aligned, hence float32-aligned).
	headerSize  = 4096
	headerBytes = 76 // used part of the header page, CRC included (72 in version 1)
	// maxSignature bounds one entry's signature (a slot's length field).
	maxSignature = 1<<16 - 1
)

// headerCRCAt is where a header of the given version keeps its CRC, which
// covers every byte before it.
func headerCRCAt(version uint32) int {
	if version == 1 {
		return 68
	}
	return 72
}

// segmentName is the file name of the segment written at generation gen.
func segmentName(gen uint64) string { return fmt.Sprintf("seg-%016x.es", gen) }

func isSegmentName(name string) bool {
	return strings.HasPrefix(name, "seg-") && strings.HasSuffix(name, ".es") && len(name) == len("seg-")+16+len(".es")
}

// segmentHeader is the first page of a segment file (see doc.go).
type segmentHeader struct {
	Dim        uint32
	Count      uint64
	Tombstones uint64
	Gen        uint64
	VecCRC     uint32
	EntCRC     uint32
	EntOffset  uint64
	EntLen     uint64
	// SigLen is the size of one entry's signature slot (0: the segment
	// keeps no signatures; always 0 in version 1), SigCRC the checksum of
	// the signature section. Version is the header's version.
	SigLen  uint32
	SigCRC  uint32
	Version uint32
}

// sigOffset is where the signature section starts: right after the
// vectors (the entry section follows it).
func (h *segmentHeader) sigOffset() uint64 { return uint64(headerSize) + h.Count*uint64(h.Dim)*4 }

func (h *segmentHeader) encode() []byte {
	b := make([]byte, headerSize)
	copy(b, segmentMagic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], segmentVersion)
	le.PutUint32(b[12:], h.Dim)
	le.PutUint64(b[16:], h.Count)
	le.PutUint64(b[24:], h.Tombstones)
	le.PutUint64(b[32:], h.Gen)
	le.PutUint32(b[40:], h.VecCRC)
	le.PutUint32(b[44:], h.EntCRC)
	le.PutUint64(b[48:], h.EntOffset)
	le.PutUint64(b[56:], h.EntLen)
	le.PutUint32(b[64:], h.SigLen)
	le.PutUint32(b[68:], h.SigCRC)
	le.PutUint32(b[72:], crc32.Checksum(b[:72], castagnoli))
	return b
}

// decodeSegmentHeader validates magic, version, header CRC and that the
// declared sections fit in a file of size bytes.
func decodeSegmentHeader(b []byte, size int64) (segmentHeader, uint32, error) {
	var h segmentHeader
	if len(b) < headerSize || string(b[:8]) != segmentMagic {
		return h, 0, fmt.Errorf("%w: not a segment file (bad magic)", ErrCorrupt)
	}
	le := binary.LittleEndian
	v := le.Uint32(b[8:])
	if v < 1 || v > segmentVersion {
		return h, 0, fmt.Errorf("%w: segment version %d, this build reads 1 to %d", ErrVersion, v, segmentVersion)
	}
	at := headerCRCAt(v)
	crc := le.Uint32(b[at:])
	if crc32.Checksum(b[:at], castagnoli) != crc {
		return h, 0, fmt.Errorf("%w: segment header checksum mismatch", ErrCorrupt)
	}
	h = segmentHeader{
		Dim: le.Uint32(b[12:]), Count: le.Uint64(b[16:]), Tombstones: le.Uint64(b[24:]),
		Gen: le.Uint64(b[32:]), VecCRC: le.Uint32(b[40:]), EntCRC: le.Uint32(b[44:]),
		EntOffset: le.Uint64(b[48:]), EntLen: le.Uint64(b[56:]), Version: v,
	}
	if v >= 2 {
		h.SigLen, h.SigCRC = le.Uint32(b[64:]), le.Uint32(b[68:])
	}
	if h.Dim == 0 || h.Dim > 1<<16 || h.Count > 1<<40 || h.Tombstones > 1<<40 || h.SigLen > 2+maxSignature || h.SigLen == 1 || h.SigLen == 2 {
		return h, 0, fmt.Errorf("%w: segment header out of range", ErrCorrupt)
	}
	sigEnd := h.sigOffset() + h.Count*uint64(h.SigLen)
	if h.EntOffset != sigEnd || h.EntLen < (h.Count+1)*8 || h.EntOffset+h.EntLen != uint64(size) {
		return h, 0, fmt.Errorf("%w: segment sections do not match file size %d", ErrCorrupt, size)
	}
	return h, crc, nil
}

// segmentData is what a segment holds before it is written: entries sorted
// by path (strictly increasing), their vectors in the same order, and paths
// removed from earlier segments.
type segmentData struct {
	gen        uint64
	dim        int
	count      int
	entries    func(i int) *Entry
	vector     func(i int) []float32
	tombstones []string
}

// writeSegment writes d as segmentName(d.gen) in dir through the atomic
// helper and returns the reference the manifest will carry.
func writeSegment(dir string, d *segmentData) (segmentRef, error) {
	// The entry section is built in memory: offsets, records, tombstones.
	offsets := make([]byte, (d.count+1)*8)
	var recs []byte
	var err error
	prev := ""
	for i := 0; i < d.count; i++ {
		e := d.entries(i)
		if i > 0 && e.Path <= prev {
			return segmentRef{}, fmt.Errorf("segment entries not sorted at %q", e.Path)
		}
		prev = e.Path
		binary.LittleEndian.PutUint64(offsets[i*8:], uint64(len(recs)))
		if recs, err = appendRecord(recs, e); err != nil {
			return segmentRef{}, err
		}
	}
	binary.LittleEndian.PutUint64(offsets[d.count*8:], uint64(len(recs)))
	var tombs []byte
	for _, p := range d.tombstones {
		tombs = appendString(tombs, p)
	}
	entCRC := crc32.Update(crc32.Update(crc32.Checksum(offsets, castagnoli), castagnoli, recs), castagnoli, tombs)

	var vecCRC uint32
	for i := 0; i < d.count; i++ {
		v := d.vector(i)
		if len(v) != d.dim {
			return segmentRef{}, fmt.Errorf("vector %d has length %d, store dimension is %d", i, len(v), d.dim)
		}
		vecCRC = crc32.Update(vecCRC, castagnoli, floatBytes(v))
	}
	// Signatures: one slot per entry (u16 length, the bytes, zero padding)
	// as long as the longest; no section when no entry has one.
	longest := 0
	for i := 0; i < d.count; i++ {
		if n := len(d.entries(i).Signature); n > maxSignature {
			return segmentRef{}, fmt.Errorf("entry %s: signature of %d bytes (at most %d)", d.entries(i).Path, n, maxSignature)
		} else {
			longest = max(longest, n)
		}
	}
	sigLen := 0
	if longest > 0 {
		sigLen = 2 + longest
	}
	slot := make([]byte, sigLen)
	sigSlot := func(i int) []byte {
		clear(slot)
		if sigLen > 0 {
			sig := d.entries(i).Signature
			binary.LittleEndian.PutUint16(slot, uint16(len(sig)))
			copy(slot[2:], sig)
		}
		return slot
	}
	var sigCRC uint32
	for i := 0; i < d.count; i++ {
		sigCRC = crc32.Update(sigCRC, castagnoli, sigSlot(i))
	}
	h := segmentHeader{
		Dim: uint32(d.dim), Count: uint64(d.count), Tombstones: uint64(len(d.tombstones)), Gen: d.gen,
		VecCRC: vecCRC, EntCRC: entCRC, SigLen: uint32(sigLen), SigCRC: sigCRC, Version: segmentVersion,
		EntLen: uint64(len(offsets) + len(recs) + len(tombs)),
	}
	h.EntOffset = h.sigOffset() + uint64(d.count)*uint64(sigLen)
	hb := h.encode()
	size := int64(h.EntOffset + h.EntLen)
	name := segmentName(d.gen)
	err = writeFileAtomic(dir, name, func(w io.Writer) (int64, error) {
		if _, err := w.Write(hb); err != nil {
			return 0, err
		}
		for i := 0; i < d.count; i++ {
			if _, err := w.Write(floatBytes(d.vector(i))); err != nil {
				return 0, err
			}
		}
		for i := 0; sigLen > 0 && i < d.count; i++ {
			if _, err := w.Write(sigSlot(i)); err != nil {
				return 0, err
			}
		}
		for _, part := range [][]byte{offsets, recs, tombs} {
			if _, err := w.Write(part); err != nil {
				return 0, err
			}
		}
		return size, nil
	})
	if err != nil {
		return segmentRef{}, err
	}
	return segmentRef{
		Name: name, Gen: d.gen, Count: d.count, Tombstones: len(d.tombstones),
		Size: size, HeaderCRC: binary.LittleEndian.Uint32(hb[headerCRCAt(segmentVersion):]),
	}, nil
}

// floatBytes views v as its little-endian bytes (the store refuses to run
// on big-endian hosts, see init in doc.go).
func floatBytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4)
}

// segment is an open, memory-mapped segment file. Its byte slices point
// into the mapping and are valid until close.
type segment struct {
	ref     segmentRef
	hdr     segmentHeader
	data    []byte // the whole mapping
	vecs    []float32
	sigs    []byte // count slots of hdr.SigLen bytes (nil without signatures)
	offsets []byte // (count+1) little-endian u64
	records []byte
	tombs   []string
}

// openSegment maps a segment and checks everything but the vector block's
// CRC (that is verify's job: it reads every vector).
func openSegment(dir string, ref segmentRef, dim int) (*segment, error) {
	name := filepath.Join(dir, ref.Name)
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		// Both: a Reader retries when a writer has just removed the file.
		return nil, fmt.Errorf("%s: %w: the file is missing (%w)", ref.Name, ErrCorrupt, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < headerSize || st.Size() != ref.Size {
		return nil, fmt.Errorf("%s: %w: size %d, manifest says %d", ref.Name, ErrCorrupt, st.Size(), ref.Size)
	}
	data, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", ref.Name, err)
	}
	s, err := parseSegment(data, st.Size())
	if err == nil && (s.hdr.Gen != ref.Gen || int(s.hdr.Dim) != dim || int(s.hdr.Count) != ref.Count) {
		err = fmt.Errorf("%w: segment does not match the manifest (generation, dimension or count)", ErrCorrupt)
	}
	if err == nil && binary.LittleEndian.Uint32(data[headerCRCAt(s.hdr.Version):]) != ref.HeaderCRC {
		err = fmt.Errorf("%w: segment header differs from the one the manifest committed", ErrCorrupt)
	}
	if err != nil {
		unmapFile(data)
		return nil, fmt.Errorf("%s: %w", ref.Name, err)
	}
	s.ref = ref
	return s, nil
}

// parseSegment validates a segment image held in memory (mapped or read).
// It checks the header, the entry section CRC and structure; vectors are
// only bounds-checked.
func parseSegment(data []byte, size int64) (*segment, error) {
	h, _, err := decodeSegmentHeader(data, size)
	if err != nil {
		return nil, err
	}
	s := &segment{hdr: h, data: data}
	ent := data[h.EntOffset : h.EntOffset+h.EntLen]
	if crc32.Checksum(ent, castagnoli) != h.EntCRC {
		return nil, fmt.Errorf("%w: entry table checksum mismatch", ErrCorrupt)
	}
	n := int(h.Count)
	s.offsets = ent[:(n+1)*8]
	rest := ent[(n+1)*8:]
	recLen := binary.LittleEndian.Uint64(s.offsets[n*8:])
	if recLen > uint64(len(rest)) {
		return nil, fmt.Errorf("%w: entry records overrun the file", ErrCorrupt)
	}
	s.records = rest[:recLen]
	var last uint64
	for i := 0; i <= n; i++ {
		o := binary.LittleEndian.Uint64(s.offsets[i*8:])
		if o < last || o > recLen {
			return nil, fmt.Errorf("%w: entry offsets out of order", ErrCorrupt)
		}
		last = o
	}
	d := decoder{b: rest[recLen:]}
	for i := uint64(0); i < h.Tombstones; i++ {
		s.tombs = append(s.tombs, d.str())
		if d.bad {
			return nil, fmt.Errorf("%w: tombstone list truncated", ErrCorrupt)
		}
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after tombstones", ErrCorrupt)
	}
	if n > 0 {
		vb := data[headerSize:h.sigOffset()]
		s.vecs = unsafe.Slice((*float32)(unsafe.Pointer(&vb[0])), n*int(h.Dim))
	}
	if h.SigLen > 0 {
		s.sigs = data[h.sigOffset():h.EntOffset]
		// A slot's length is checked where it is read (signature), so
		// that opening costs no pass over the section.
	}
	return s, nil
}

func (s *segment) len() int { return int(s.hdr.Count) }

func (s *segment) record(i int) []byte {
	a := binary.LittleEndian.Uint64(s.offsets[i*8:])
	b := binary.LittleEndian.Uint64(s.offsets[(i+1)*8:])
	return s.records[a:b]
}

func (s *segment) path(i int) string {
	p, _ := recordPath(s.record(i))
	return p
}

func (s *segment) pathBytes(i int) []byte {
	d := decoder{b: s.record(i)}
	return d.bytes(d.uvarint())
}

func (s *segment) entry(i int) (Entry, error) {
	e, err := decodeRecord(s.record(i))
	if err == nil {
		if sig := s.signature(i); sig != nil {
			e.Signature = bytes.Clone(sig)
		}
	}
	return e, err
}

// signature returns entry i's signature bytes in place (nil when it has
// none, or when the slot's length does not fit it).
func (s *segment) signature(i int) []byte {
	if s.sigs == nil {
		return nil
	}
	l := int(s.hdr.SigLen)
	slot := s.sigs[i*l : (i+1)*l]
	n := int(binary.LittleEndian.Uint16(slot))
	if n == 0 || 2+n > l {
		return nil
	}
	return slot[2 : 2+n : 2+n]
}

func (s *segment) vector(i int) []float32 {
	d := int(s.hdr.Dim)
	return s.vecs[i*d : (i+1)*d : (i+1)*d]
}

// search finds path among the sorted records.
func (s *segment) search(path string) (int, bool) {
	lo, hi := 0, s.len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if string(s.pathBytes(m)) < path {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < s.len() && s.path(lo) == path
}

// verify checks what openSegment leaves for later: the vector CRC, the
// signature CRC and slot lengths, that every record decodes, and that paths
// are strictly increasing.
func (s *segment) verify() error {
	if c := crc32.Checksum(s.data[headerSize:s.hdr.sigOffset()], castagnoli); c != s.hdr.VecCRC {
		return fmt.Errorf("%s: %w: vector data checksum mismatch", s.ref.Name, ErrCorrupt)
	}
	if err := s.verifySignatures(); err != nil {
		return err
	}
	prev := ""
	for i := 0; i < s.len(); i++ {
		e, err := s.entry(i)
		if err != nil {
			return fmt.Errorf("%s: record %d: %w", s.ref.Name, i, err)
		}
		if i > 0 && e.Path <= prev {
			return fmt.Errorf("%s: %w: records not sorted at %d", s.ref.Name, ErrCorrupt, i)
		}
		prev = e.Path
	}
	return nil
}

// verifySignatures checks the signature section's CRC and that every
// slot's length fits it.
func (s *segment) verifySignatures() error {
	if s.sigs == nil {
		return nil
	}
	if crc32.Checksum(s.sigs, castagnoli) != s.hdr.SigCRC {
		return fmt.Errorf("%s: %w: signature checksum mismatch", s.ref.Name, ErrCorrupt)
	}
	l := int(s.hdr.SigLen)
	for i := 0; i < s.len(); i++ {
		if n := int(binary.LittleEndian.Uint16(s.sigs[i*l:])); 2+n > l {
			return fmt.Errorf("%s: %w: signature %d overruns its slot", s.ref.Name, ErrCorrupt, i)
		}
	}
	return nil
}

func (s *segment) close() error {
	if s == nil || s.data == nil {
		return nil
	}
	err := unmapFile(s.data)
	s.data, s.vecs, s.sigs, s.offsets, s.records = nil, nil, nil, nil, nil
	return err
}
