//go:build ignore

// gridmux assembles a grid-tiled HEIC, as phones write them, from HEIC
// files of one image each (heif-enc output), with optional irot and imir
// properties on the grid item. libheif 1.15's heif-enc cannot write grids.
//
//	go run gridmux.go -rows R -cols C [-irot A] [-imir AXIS] -o out.heic tile1.heic ...
//
// Tiles are given row by row and must share one size.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
)

type box struct {
	typ  string
	body []byte // after the header
}

func parseBoxes(b []byte) []box {
	var out []box
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			log.Fatalf("bad box size %d", size)
		}
		out = append(out, box{string(b[4:8]), b[8:size]})
		b = b[size:]
	}
	return out
}

func find(bs []box, typ string) box {
	for _, b := range bs {
		if b.typ == typ {
			return b
		}
	}
	log.Fatalf("no %s box", typ)
	return box{}
}

// tile is what one input file gives: its hvcC box, size and coded data.
type tile struct {
	hvcC []byte // whole box
	w, h uint32
	data []byte
}

func readTile(path string) tile {
	f, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	top := parseBoxes(f)
	meta := parseBoxes(find(top, "meta").body[4:])
	ipco := parseBoxes(find(parseBoxes(find(meta, "iprp").body), "ipco").body)
	var t tile
	for _, p := range ipco {
		switch p.typ {
		case "hvcC":
			t.hvcC = mk("hvcC", p.body)
		case "ispe":
			t.w, t.h = binary.BigEndian.Uint32(p.body[4:]), binary.BigEndian.Uint32(p.body[8:])
		}
	}
	// iloc: the single item's extents (version 0 or 1).
	il := find(meta, "iloc").body
	ver := il[0]
	offSize, lenSize, baseSize := int(il[4]>>4), int(il[4]&15), int(il[5]>>4)
	idxSize := 0
	if ver >= 1 {
		idxSize = int(il[5] & 15)
	}
	p := 6
	u := func(n int) uint64 {
		var v uint64
		for i := 0; i < n; i++ {
			v = v<<8 | uint64(il[p+i])
		}
		p += n
		return v
	}
	if count := u(2); count != 1 {
		log.Fatalf("%s: %d items, want 1 (no thumbnail, no alpha)", path, count)
	}
	u(2) // item ID
	if ver >= 1 {
		u(2) // construction method
	}
	u(2) // data reference index
	base := u(baseSize)
	for n := u(2); n > 0; n-- {
		u(idxSize)
		off, l := u(offSize)+base, u(lenSize)
		t.data = append(t.data, f[off:off+l]...)
	}
	return t
}

func mk(typ string, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

func full(v byte, flags uint32) []byte {
	return []byte{v, byte(flags >> 16), byte(flags >> 8), byte(flags)}
}
func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

func main() {
	rows := flag.Int("rows", 1, "grid rows")
	cols := flag.Int("cols", 1, "grid columns")
	irot := flag.Int("irot", -1, "irot angle (×90° anti-clockwise), -1 for none")
	imir := flag.Int("imir", -1, "imir mode (0 top to bottom, 1 left to right), -1 for none")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if flag.NArg() != *rows**cols || *out == "" {
		log.Fatal("want -o and rows×cols tiles")
	}
	var tiles []tile
	for _, p := range flag.Args() {
		tiles = append(tiles, readTile(p))
	}
	tw, th := tiles[0].w, tiles[0].h
	n := len(tiles)
	gridID := 1
	// Item IDs: grid 1, tiles 2..n+1.
	var infes [][]byte
	infes = append(infes, mk("infe", full(2, 0), u16(gridID), u16(0), []byte("grid"), []byte{0}))
	for i := range tiles {
		infes = append(infes, mk("infe", full(2, 1), u16(2+i), u16(0), []byte("hvc1"), []byte{0})) // hidden
	}
	iinf := mk("iinf", full(0, 0), u16(1+n), bytes.Join(infes, nil))
	refs := [][]byte{u16(gridID), u16(n)}
	for i := range tiles {
		refs = append(refs, u16(2+i))
	}
	iref := mk("iref", full(0, 0), mk("dimg", refs...))

	// Properties, 1-based: tile hvcC boxes 1..n, tile ispe n+1, grid ispe n+2, irot, imir.
	var props [][]byte
	for _, t := range tiles {
		props = append(props, t.hvcC)
	}
	gw, gh := int(tw)*(*cols), int(th)*(*rows)
	props = append(props, mk("ispe", full(0, 0), u32(int(tw)), u32(int(th))))
	props = append(props, mk("ispe", full(0, 0), u32(gw), u32(gh)))
	gridProps := []byte{byte(n + 2)}
	if *irot >= 0 {
		props = append(props, mk("irot", []byte{byte(*irot & 3)}))
		gridProps = append(gridProps, 0x80|byte(len(props)))
	}
	if *imir >= 0 {
		props = append(props, mk("imir", []byte{byte(*imir & 1)}))
		gridProps = append(gridProps, 0x80|byte(len(props)))
	}
	ipco := mk("ipco", props...)
	assoc := [][]byte{full(0, 0), u32(1 + n), u16(gridID), {byte(len(gridProps))}, gridProps}
	for i := range tiles {
		assoc = append(assoc, u16(2+i), []byte{2, 0x80 | byte(1+i), byte(n + 1)})
	}
	iprp := mk("iprp", ipco, mk("ipma", assoc...))

	grid := []byte{0, 0, byte(*rows - 1), byte(*cols - 1)}
	grid = append(append(grid, u16(gw)...), u16(gh)...)
	ftyp := mk("ftyp", []byte("heic"), u32(0), []byte("mif1heicmiaf"))
	hdlr := mk("hdlr", full(0, 0), u32(0), []byte("pict"), make([]byte, 12), []byte{0})
	pitm := mk("pitm", full(0, 0), u16(gridID))
	// iloc version 0, 4-byte offsets and lengths; offsets filled below.
	ilocFor := func(mdatData int) []byte {
		parts := [][]byte{full(0, 0), {0x44, 0x00}, u16(1 + n)}
		off := mdatData
		parts = append(parts, u16(gridID), u16(0), u16(1), u32(off), u32(len(grid)))
		off += len(grid)
		for i, t := range tiles {
			parts = append(parts, u16(2+i), u16(0), u16(1), u32(off), u32(len(t.data)))
			off += len(t.data)
		}
		return mk("iloc", parts...)
	}
	metaLen := len(mk("meta", full(0, 0), hdlr, pitm, ilocFor(0), iinf, iref, iprp))
	mdatData := len(ftyp) + metaLen + 8
	meta := mk("meta", full(0, 0), hdlr, pitm, ilocFor(mdatData), iinf, iref, iprp)
	payload := [][]byte{grid}
	for _, t := range tiles {
		payload = append(payload, t.data)
	}
	file := bytes.Join([][]byte{ftyp, meta, mk("mdat", payload...)}, nil)
	if err := os.WriteFile(*out, file, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %dx%d grid of %d %dx%d tiles\n", *out, gw, gh, n, tw, th)
}
