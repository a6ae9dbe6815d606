package search

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"unsafe"

	"github.com/embedsearch/embedsearch/internal/iox"
)

// The HNSW file format (version 2), all integers little-endian, laid out so
// that a mapped file is searched in place (MapHNSW): every array sits at a
// 4-byte aligned offset from the start and keeps its in-memory layout.
//
//	magic     8 bytes  "ESHNSW\r\n"
//	version   u32      2
//	dim, m, m0, efc    u32 each
//	seed      u64
//	n         u32      number of row slots
//	entry     i32      entry node, -1 when empty
//	maxLevel  u32
//	upperLen  u32      u32 words of upper-layer links
//	metaCRC   u32      Castagnoli CRC of the header before it, levels,
//	                   removed, padding, upperOff and upper (all but layer 0)
//	levels    n × i8   (-1: absent)
//	removed   n × u8   (0/1)
//	padding   zero bytes up to a multiple of 4
//	layer 0   n × (m0+1) u32: count, then m0 neighbour IDs (count used, the
//	          rest zero; all zero for an absent node)
//	upperOff  (n+1) u32: node i's upper links are upper[upperOff[i]:upperOff[i+1]],
//	          level(i) blocks of (m+1) u32 (count, then m IDs), layers 1..level
//	upper     upperLen u32
//	crc32c    u32      Castagnoli CRC of every byte before it
//
// What ReadHNSW, MapHNSW and VerifyHNSW check is in the package doc.

const hnswMagic = "ESHNSW\r\n"

const hnswVersion = 2

const hnswHeaderSize = 56 // through metaCRC

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the graph (not the vectors) to w.
func (ix *HNSW) WriteTo(w io.Writer) (int64, error) {
	s := ix.m + 1
	upperOff := make([]uint32, ix.n+1)
	for i := range ix.n {
		upperOff[i+1] = upperOff[i] + uint32(max(int(ix.level[i]), 0)*s)
	}
	le := binary.LittleEndian
	hdr := []byte(hnswMagic)
	for _, v := range []uint32{hnswVersion, uint32(ix.dim), uint32(ix.m), uint32(ix.m0), uint32(ix.efc)} {
		hdr = le.AppendUint32(hdr, v)
	}
	hdr = le.AppendUint64(hdr, ix.seed)
	for _, v := range []uint32{uint32(ix.n), uint32(int32(ix.entry)), uint32(max(ix.maxLevel, 0)), upperOff[ix.n]} {
		hdr = le.AppendUint32(hdr, v)
	}
	// The small sections, before and after layer 0, carry their own
	// checksum in the header: MapHNSW checks only that one.
	flags := make([]byte, 2*ix.n+pad4(hnswHeaderSize+2*ix.n))
	for i := range ix.n {
		flags[i] = byte(ix.level[i])
		if ix.deleted[i] {
			flags[ix.n+i] = 1
		}
	}
	upper := make([]byte, 0, 4*(len(upperOff)+int(upperOff[ix.n])))
	for _, v := range upperOff {
		upper = le.AppendUint32(upper, v)
	}
	for i := range ix.n {
		if lv := int(ix.level[i]); lv > 0 {
			for _, v := range ix.upper[i][:lv*s] {
				upper = le.AppendUint32(upper, v)
			}
		}
	}
	hdr = le.AppendUint32(hdr, metaChecksum(hdr, flags, upper))

	cw := &iox.CountingWriter{W: w}
	h := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(cw, h), 1<<16)
	bw.Write(hdr)
	bw.Write(flags)
	chunk := make([]byte, 0, 1<<16)
	for i, v := range ix.l0[:ix.n*(ix.m0+1)] {
		if ix.level[i/(ix.m0+1)] < 0 {
			v = 0
		}
		chunk = le.AppendUint32(chunk, v)
		if len(chunk) == cap(chunk) {
			bw.Write(chunk)
			chunk = chunk[:0]
		}
	}
	bw.Write(chunk)
	bw.Write(upper)
	if err := bw.Flush(); err != nil {
		return cw.N, fmt.Errorf("write hnsw index: %w", err)
	}
	if _, err := cw.Write(le.AppendUint32(nil, h.Sum32())); err != nil {
		return cw.N, fmt.Errorf("write hnsw index: %w", err)
	}
	return cw.N, nil
}

// metaChecksum is the CRC of everything but layer 0 and the checksums:
// the header up to metaCRC, the flags (with padding), upperOff and upper.
func metaChecksum(hdr, flags, upper []byte) uint32 {
	c := crc32.Update(0, castagnoli, hdr[:hnswHeaderSize-4])
	c = crc32.Update(c, castagnoli, flags)
	return crc32.Update(c, castagnoli, upper)
}

// pad4 is the number of zero bytes that bring off to a multiple of 4.
func pad4(off int) int { return (4 - off%4) % 4 }

// ReadHNSW reads an index written by WriteTo into memory; the result can
// be changed (Add, Remove). Errors wrap ErrFormat, ErrVersion or
// ErrChecksum.
func ReadHNSW(r io.Reader) (*HNSW, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("read hnsw index: %w", err)
	}
	// data is ours: the index may use it in place and change it.
	return parseHNSW(data, false, true)
}

// VerifyHNSW checks a whole file image, layer 0 included, against its
// checksum and structure, as ReadHNSW does.
func VerifyHNSW(data []byte) error {
	_, err := parseHNSW(data, true, true)
	return err
}

// MapHNSW is ReadHNSW for a file image already in memory, typically
// mapped read-only: the index uses data in place (on little-endian hosts
// when data is 4-byte aligned; otherwise it copies). Opening checks the
// small sections' checksum and structure and never reads layer 0, most of
// the file, which is bounded where a search reads it (VerifyHNSW checks it
// too). data must stay valid and unchanged while the index is used. Add
// and Remove panic on the result.
func MapHNSW(data []byte) (*HNSW, error) {
	return parseHNSW(data, true, false)
}

func parseHNSW(data []byte, readOnly, whole bool) (*HNSW, error) {
	if len(data) < len(hnswMagic)+4 || string(data[:len(hnswMagic)]) != hnswMagic {
		return nil, ErrFormat
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != hnswVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, v, hnswVersion)
	}
	if len(data) < hnswHeaderSize+4 {
		return nil, ErrFormat
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if whole && crc32.Checksum(body, castagnoli) != sum {
		return nil, ErrChecksum
	}
	le := binary.LittleEndian
	dim, m, m0, efc := le.Uint32(body[12:]), le.Uint32(body[16:]), le.Uint32(body[20:]), le.Uint32(body[24:])
	seed := le.Uint64(body[28:])
	n, entry, maxLevel, upperLen := le.Uint32(body[36:]), int32(le.Uint32(body[40:])), le.Uint32(body[44:]), le.Uint32(body[48:])
	if dim == 0 || dim > 1<<16 || m < 2 || m > 256 || m0 < m || m0 > 512 || maxLevel > 30 ||
		entry < -1 || int64(entry) >= int64(n) {
		return nil, fmt.Errorf("%w: bad header", ErrFormat)
	}
	// The sections, in 64-bit arithmetic so that no header overflows them.
	nn, s0 := uint64(n), uint64(m0)+1
	offL0 := uint64(hnswHeaderSize) + 2*nn
	offL0 += uint64(pad4(int(offL0 % 4)))
	offUO := offL0 + 4*nn*s0
	offUp := offUO + 4*(nn+1)
	if offUp+4*uint64(upperLen) != uint64(len(body)) {
		if !whole {
			return nil, ErrChecksum // a truncated or damaged file, as the whole-file check says
		}
		return nil, fmt.Errorf("%w: sections do not add up to the file size", ErrFormat)
	}
	if metaChecksum(body, body[hnswHeaderSize:offL0], body[offUO:]) != le.Uint32(body[hnswHeaderSize-4:]) {
		return nil, ErrChecksum
	}
	ix := NewHNSW(int(dim), HNSWOptions{M: int(m), EfConstruction: int(efc), Seed: seed})
	ix.m0, ix.n, ix.readOnly = int(m0), int(n), readOnly
	ix.entry, ix.maxLevel = int(entry), int(maxLevel)
	if entry < 0 {
		ix.maxLevel = 0
	}
	levels := body[hnswHeaderSize : hnswHeaderSize+nn : hnswHeaderSize+nn]
	removed := body[hnswHeaderSize+nn : hnswHeaderSize+2*nn : hnswHeaderSize+2*nn]
	ix.level = unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(levels))), len(levels))
	for i, lv := range ix.level {
		if lv < -1 || int(lv) > ix.maxLevel || removed[i] > 1 {
			return nil, fmt.Errorf("%w: bad node %d", ErrFormat, i)
		}
		if lv >= 0 && removed[i] == 1 {
			ix.ndel++
		}
	}
	// removed holds only 0 and 1 now, so it reads as []bool.
	ix.deleted = unsafe.Slice((*bool)(unsafe.Pointer(unsafe.SliceData(removed))), len(removed))
	if entry >= 0 && int(ix.level[entry]) != ix.maxLevel {
		return nil, fmt.Errorf("%w: entry node is not on the top layer", ErrFormat)
	}
	ix.l0 = u32s(body[offL0:offUO])
	if whole {
		// Reading a whole file (to change it, or to verify it) also
		// checks layer 0: counts within m0 and below n, IDs below n.
		stride := int(s0)
		for i := range ix.n {
			b := ix.l0[i*stride : (i+1)*stride]
			if b[0] > m0 || (ix.level[i] < 0 && b[0] != 0) {
				return nil, fmt.Errorf("%w: bad links of node %d", ErrFormat, i)
			}
			for _, id := range b[1 : 1+b[0]] {
				if id >= n {
					return nil, fmt.Errorf("%w: bad link of node %d", ErrFormat, i)
				}
			}
		}
	}
	// Layer 0 is most of the file and MapHNSW does not walk it: opening a
	// mapped graph must not cost a pass over it. Readers clamp each count
	// to m0 and skip IDs outside 0..n-1 (links), so a damaged file that
	// passed the checksums still cannot make a search go out of bounds.
	ix.l0 = u32s(body[offL0:offUO])
	upperOff := u32s(body[offUO:offUp])
	upper := u32s(body[offUp:])
	ix.upper = make([][]uint32, ix.n)
	s := ix.m + 1
	if upperOff[0] != 0 {
		return nil, fmt.Errorf("%w: bad upper-layer offsets", ErrFormat)
	}
	for i := range ix.n {
		lo, hi := uint64(upperOff[i]), uint64(upperOff[i+1])
		if lv := int(ix.level[i]); hi != lo+uint64(max(lv, 0)*s) || hi > uint64(len(upper)) {
			return nil, fmt.Errorf("%w: bad upper-layer offsets of node %d", ErrFormat, i)
		}
		if hi == lo {
			continue
		}
		ix.upper[i] = upper[lo:hi:hi]
		for l := 1; l <= int(ix.level[i]); l++ {
			b := ix.upper[i][(l-1)*s : l*s]
			if b[0] > m {
				return nil, fmt.Errorf("%w: bad links of node %d", ErrFormat, i)
			}
			for _, id := range b[1 : 1+b[0]] {
				if id >= n || int(ix.level[id]) < l {
					return nil, fmt.Errorf("%w: bad link of node %d", ErrFormat, i)
				}
			}
		}
	}
	if uint64(upperOff[ix.n]) != uint64(len(upper)) {
		return nil, fmt.Errorf("%w: bad upper-layer offsets", ErrFormat)
	}
	return ix, nil
}

// littleEndian: the file's byte order is the host's, so arrays can be used
// in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// u32s views b (little-endian u32s) as []uint32, in place when the host is
// little-endian and b is aligned, as a copy otherwise. The result's
// capacity is its length, so appending never writes past b.
func u32s(b []byte) []uint32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

// readAll is io.ReadAll with one exact allocation when the reader knows
// its size (files, bytes.Reader): indexes are large, and fresh memory is
// the main cost of loading one.
func readAll(r io.Reader) ([]byte, error) {
	var size int64 = -1
	switch v := r.(type) {
	case interface{ Len() int }:
		size = int64(v.Len())
	case *os.File:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := v.Seek(0, io.SeekCurrent); err == nil {
				size = st.Size() - off
			}
		}
	}
	if size < 0 || size > 1<<40 {
		return io.ReadAll(r)
	}
	data := make([]byte, size+1) // one spare byte detects a reader that grew
	n, err := io.ReadFull(r, data)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return data[:n], nil
	}
	if err != nil {
		return nil, err
	}
	rest, err := io.ReadAll(r)
	return append(data, rest...), err
}
