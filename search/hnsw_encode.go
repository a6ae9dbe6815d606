package search

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
)

// The HNSW file format (version 1), all integers little-endian:
//
//	magic     8 bytes  "ESHNSW\r\n"
//	version   u32      1
//	dim, m, m0, efc    u32 each
//	seed      u64
//	n         u32      number of row slots
//	entry     i32      entry node, -1 when empty
//	maxLevel  u32
//	per node  level i8 (-1: absent), deleted u8
//	layer 0   per node: count u32, then m0 × u32 neighbour IDs (count used,
//	          the rest zero; all zero for an absent node)
//	upper     per node, per layer 1..level: count u32, count × u32
//	crc32c    u32      Castagnoli CRC of every byte before it
//
// ReadHNSW checks magic and version before anything else and the checksum
// before returning; a file that passes is also checked for structure (IDs
// in range, counts within m/m0) so a damaged file cannot cause a panic.

const hnswMagic = "ESHNSW\r\n"

const hnswVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the graph (not the vectors) to w.
func (ix *HNSW) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	h := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(cw, h), 1<<16)
	var b [8]byte
	u32 := func(v uint32) { binary.LittleEndian.PutUint32(b[:4], v); bw.Write(b[:4]) }
	bw.WriteString(hnswMagic)
	u32(hnswVersion)
	u32(uint32(ix.dim))
	u32(uint32(ix.m))
	u32(uint32(ix.m0))
	u32(uint32(ix.efc))
	binary.LittleEndian.PutUint64(b[:], ix.seed)
	bw.Write(b[:8])
	u32(uint32(ix.n))
	u32(uint32(int32(ix.entry)))
	u32(uint32(max(ix.maxLevel, 0)))
	for i := range ix.n {
		del := byte(0)
		if ix.deleted[i] {
			del = 1
		}
		bw.WriteByte(byte(ix.level[i]))
		bw.WriteByte(del)
	}
	// Layer 0 is written as it sits in memory (fixed stride), so loading is
	// one pass; unused slots are zero.
	chunk := make([]byte, 0, 1<<16)
	for i, v := range ix.l0 {
		if ix.level[i/(ix.m0+1)] < 0 {
			v = 0
		}
		chunk = binary.LittleEndian.AppendUint32(chunk, v)
		if len(chunk) == cap(chunk) {
			bw.Write(chunk)
			chunk = chunk[:0]
		}
	}
	bw.Write(chunk)
	for i := range ix.n {
		for l := 1; l <= int(ix.level[i]); l++ {
			ls := ix.links(i, l)
			u32(uint32(len(ls)))
			for _, id := range ls {
				u32(id)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write hnsw index: %w", err)
	}
	binary.LittleEndian.PutUint32(b[:4], h.Sum32())
	if _, err := cw.Write(b[:4]); err != nil {
		return cw.n, fmt.Errorf("write hnsw index: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadHNSW reads an index written by WriteTo. Errors wrap ErrFormat,
// ErrVersion or ErrChecksum.
func ReadHNSW(r io.Reader) (*HNSW, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("read hnsw index: %w", err)
	}
	if len(data) < len(hnswMagic)+4 || string(data[:len(hnswMagic)]) != hnswMagic {
		return nil, ErrFormat
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != hnswVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, v, hnswVersion)
	}
	if len(data) < 4 {
		return nil, ErrFormat
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, ErrChecksum
	}
	d := decoder{b: body[12:]}
	dim, m, m0, efc := d.u32(), d.u32(), d.u32(), d.u32()
	seed := d.u64()
	n, entry, maxLevel := d.u32(), int32(d.u32()), d.u32()
	if d.err != nil || dim == 0 || dim > 1<<16 || m < 2 || m > 256 || m0 < m || m0 > 512 ||
		maxLevel > 30 || uint64(n)*(2+4*uint64(m0+1)) > uint64(len(d.b)) || entry < -1 || int64(entry) >= int64(n) {
		return nil, fmt.Errorf("%w: bad header", ErrFormat)
	}
	ix := NewHNSW(int(dim), HNSWOptions{M: int(m), EfConstruction: int(efc), Seed: seed})
	ix.m0 = int(m0)
	ix.grow(int(n))
	ix.entry, ix.maxLevel = int(entry), int(maxLevel)
	if entry < 0 {
		ix.maxLevel = 0
	}
	flags := d.take(2 * int(n))
	for i := range int(n) {
		lv := int8(flags[2*i])
		if lv < -1 || int(lv) > ix.maxLevel || flags[2*i+1] > 1 {
			return nil, fmt.Errorf("%w: bad node %d", ErrFormat, i)
		}
		ix.level[i] = lv
		if lv >= 0 && flags[2*i+1] == 1 {
			ix.deleted[i] = true
			ix.ndel++
		}
		if lv > 0 {
			ix.upper[i] = make([]uint32, int(lv)*(ix.m+1))
		}
	}
	if entry >= 0 && int(ix.level[entry]) != ix.maxLevel {
		return nil, fmt.Errorf("%w: entry node is not on the top layer", ErrFormat)
	}
	s0 := ix.m0 + 1
	if uint64(n)*uint64(s0)*4 > uint64(len(d.b)) {
		return nil, fmt.Errorf("%w: layer 0 truncated", ErrFormat)
	}
	raw := d.take(int(n) * s0 * 4)
	for i := range ix.l0 {
		ix.l0[i] = binary.LittleEndian.Uint32(raw[4*i:])
	}
	for i := range int(n) {
		b := ix.l0[i*s0 : (i+1)*s0]
		if ix.level[i] < 0 {
			if slices.ContainsFunc(b, func(v uint32) bool { return v != 0 }) {
				return nil, fmt.Errorf("%w: links on absent node %d", ErrFormat, i)
			}
			continue
		}
		if b[0] > uint32(ix.m0) {
			return nil, fmt.Errorf("%w: bad links of node %d", ErrFormat, i)
		}
		for _, id := range b[1 : 1+b[0]] {
			if id >= n || ix.level[id] < 0 {
				return nil, fmt.Errorf("%w: bad link of node %d", ErrFormat, i)
			}
		}
	}
	for i := range int(n) {
		for l := 1; l <= int(ix.level[i]); l++ {
			c := d.u32()
			if d.err != nil || c > uint32(ix.m) {
				return nil, fmt.Errorf("%w: bad links of node %d", ErrFormat, i)
			}
			cs := make([]cand, c)
			for j := range cs {
				id := d.u32()
				if d.err != nil || id >= n || int(ix.level[id]) < l {
					return nil, fmt.Errorf("%w: bad link of node %d", ErrFormat, i)
				}
				cs[j].id = id
			}
			ix.setLinks(i, l, cs)
		}
	}
	if d.err != nil || len(d.b) != 0 {
		return nil, fmt.Errorf("%w: trailing or missing bytes", ErrFormat)
	}
	return ix, nil
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

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n > len(d.b) {
		d.err = io.ErrUnexpectedEOF
		return make([]byte, max(n, 0))
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u32() uint32 { return binary.LittleEndian.Uint32(d.take(4)) }
func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.take(8)) }
