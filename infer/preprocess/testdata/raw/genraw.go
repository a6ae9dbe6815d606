//go:build ignore

// genraw writes small files with the structure of camera RAWs (DNG, CR2,
// CR3, NEF, ARW, ORF, RW2, RAF): the places each format keeps its JPEG
// previews, a smaller thumbnail, and a decoy standing for the sensor data
// (a lossless-JPEG header of 4000×3000, or plain bytes), with Make, Model
// and Orientation where the format has them. No sensor data is real: the
// tests decode the largest preview, as embedsearch does with real RAWs,
// and exiftool (-b -PreviewImage / -JpgFromRaw) is their oracle.
//
//	go run genraw.go   # in this folder; writes the fixtures and preview.jpg
package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"log"
	"os"
	"sort"
)

// picture is asymmetric, so that a wrong orientation shows.
func picture(w, h int, seed uint8) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(255 * x / w), uint8(255 * y / h), seed, 255}
			if x < w/3 && y < h/4 {
				c = color.RGBA{255, 255, 255, 255}
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 92}); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

// withEXIFOrientation inserts an APP1 EXIF segment holding orientation o.
func withEXIFOrientation(j []byte, o byte) []byte {
	app1 := []byte{0xff, 0xe1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0}
	return append(append(append([]byte(nil), j[:2]...), app1...), j[2:]...)
}

// losslessDecoy is the header of a lossless JPEG (SOF3) of 4000×3000, as
// a CR2's or DNG's sensor data starts: larger than any preview, and not one.
func losslessDecoy() []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc3, 0, 14, 12, 0x0b, 0xb8, 0x0f, 0xa0, 2, 1, 0x11, 0, 2, 0x11, 0}
	b = append(b, make([]byte, 600)...)
	return append(b, 0xff, 0xd9)
}

type entry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

type tiff struct {
	b  []byte
	bo interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
}

func (t *tiff) blob(p []byte) uint32 {
	if len(t.b)%2 == 1 {
		t.b = append(t.b, 0)
	}
	off := uint32(len(t.b))
	t.b = append(t.b, p...)
	return off
}

func (t *tiff) u16s(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = t.bo.AppendUint16(b, x)
	}
	return b
}

func (t *tiff) u32s(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = t.bo.AppendUint32(b, x)
	}
	return b
}

func (t *tiff) short(tag uint16, v ...uint16) entry {
	return entry{tag, 3, uint32(len(v)), t.u16s(v...)}
}
func (t *tiff) long(tag uint16, v ...uint32) entry {
	return entry{tag, 4, uint32(len(v)), t.u32s(v...)}
}
func (t *tiff) ascii(tag uint16, s string) entry {
	return entry{tag, 2, uint32(len(s) + 1), append([]byte(s), 0)}
}
func (t *tiff) undef(tag uint16, p []byte) entry { return entry{tag, 7, uint32(len(p)), p} }

// ifd writes an IFD (values that do not fit first) and returns its offset.
func (t *tiff) ifd(next uint32, es ...entry) uint32 {
	sort.Slice(es, func(i, j int) bool { return es[i].tag < es[j].tag })
	vals := make([][]byte, len(es))
	for i, e := range es {
		if len(e.data) > 4 {
			vals[i] = t.u32s(t.blob(e.data))
		} else {
			vals[i] = append(append([]byte(nil), e.data...), make([]byte, 4-len(e.data))...)
		}
	}
	var d []byte
	d = append(d, t.u16s(uint16(len(es)))...)
	for i, e := range es {
		d = append(d, t.u16s(e.tag, e.typ)...)
		d = append(d, t.u32s(e.count)...)
		d = append(d, vals[i]...)
	}
	d = append(d, t.u32s(next)...)
	return t.blob(d)
}

func newTIFF(bo interface {
	binary.ByteOrder
	binary.AppendByteOrder
}, magic uint16) *tiff {
	t := &tiff{bo: bo}
	if bo == binary.LittleEndian {
		t.b = []byte("II")
	} else {
		t.b = []byte("MM")
	}
	t.b = append(t.b, t.u16s(magic)...)
	t.b = append(t.b, 0, 0, 0, 0)
	return t
}

func (t *tiff) setIFD0(off uint32) { t.bo.PutUint32(t.b[4:], off) }

// rgbThumb is an uncompressed 40×30 RGB thumbnail IFD's entries.
func (t *tiff) rgbThumb() []entry {
	px := t.blob(bytes.Repeat([]byte{200, 100, 50}, 40*30))
	return []entry{t.long(0xfe, 1), t.short(0x100, 40), t.short(0x101, 30), t.short(0x102, 8, 8, 8),
		t.short(0x103, 1), t.short(0x106, 2), t.long(0x111, px), t.short(0x115, 3), t.long(0x117, 40*30*3)}
}

func write(name string, b []byte) {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

const (
	tagMake, tagModel, tagOrientation = 0x10f, 0x110, 0x112
	tagJPEG, tagJPEGLen               = 0x201, 0x202
	tagStrips, tagStripBytes          = 0x111, 0x117
	tagSubIFDs, tagExif               = 0x14a, 0x8769
)

func main() {
	preview := picture(160, 120, 80)
	thumb := picture(40, 30, 160)
	write("preview.jpg", preview) // the reference the decoded RAWs are compared with

	// DNG: IFD0 an RGB thumbnail; SubIFD 0 the sensor data (CFA, lossless
	// JPEG), SubIFD 1 the JPEG preview as one strip.
	{
		t := newTIFF(binary.LittleEndian, 42)
		decoy := t.blob(losslessDecoy())
		raw := t.ifd(0, t.long(0xfe, 0), t.short(0x100, 4000), t.short(0x101, 3000), t.short(0x103, 7),
			t.short(0x106, 32803), t.long(tagStrips, decoy), t.long(tagStripBytes, uint32(len(losslessDecoy()))))
		p := t.blob(preview)
		prev := t.ifd(0, t.long(0xfe, 1), t.short(0x100, 160), t.short(0x101, 120), t.short(0x103, 7),
			t.short(0x106, 6), t.long(tagStrips, p), t.long(tagStripBytes, uint32(len(preview))))
		es := append(t.rgbThumb(), t.ascii(tagMake, "Testcam"), t.ascii(tagModel, "DNG One"), t.short(tagOrientation, 6),
			t.long(tagSubIFDs, raw, prev), entry{0xc612, 1, 4, []byte{1, 4, 0, 0}})
		t.setIFD0(t.ifd(0, es...))
		write("orient6.dng", t.b)
	}
	// CR2: "CR" 2 0 after the header; IFD0 holds the preview as a strip
	// (with an EXIF orientation of its own, which the RAW's tag overrides),
	// IFD1 a thumbnail, IFD3 the sensor data (lossless JPEG).
	{
		t := newTIFF(binary.LittleEndian, 42)
		t.b = append(t.b, 'C', 'R', 2, 0, 0, 0, 0, 0)
		decoy := t.blob(losslessDecoy())
		ifd3 := t.ifd(0, t.short(0x103, 6), t.long(tagStrips, decoy), t.long(tagStripBytes, uint32(len(losslessDecoy()))))
		ifd2 := t.ifd(ifd3, t.short(0x100, 10), t.short(0x101, 10), t.short(0x103, 1))
		th := t.blob(thumb)
		ifd1 := t.ifd(ifd2, t.short(0x103, 6), t.long(tagJPEG, th), t.long(tagJPEGLen, uint32(len(thumb))))
		own := withEXIFOrientation(preview, 3)
		p := t.blob(own)
		ifd0 := t.ifd(ifd1, t.short(0x100, 160), t.short(0x101, 120), t.short(0x103, 6), t.ascii(tagMake, "Canon"),
			t.ascii(tagModel, "Canon EOS Test"), t.short(tagOrientation, 8), t.long(tagStrips, p), t.long(tagStripBytes, uint32(len(own))))
		t.setIFD0(ifd0)
		write("orient8.cr2", t.b)
	}
	// NEF (big-endian): IFD0 an RGB thumbnail; SubIFD 0 the full-size JPEG
	// (JpgFromRaw), SubIFD 1 the sensor data.
	{
		t := newTIFF(binary.BigEndian, 42)
		rawData := t.blob(bytes.Repeat([]byte{0x55}, 512))
		raw := t.ifd(0, t.long(0xfe, 0), t.short(0x100, 4000), t.short(0x101, 3000), t.short(0x103, 34713),
			t.short(0x106, 32803), t.long(tagStrips, rawData), t.long(tagStripBytes, 512))
		p := t.blob(preview)
		jpg := t.ifd(0, t.long(0xfe, 1), t.short(0x103, 6), t.long(tagJPEG, p), t.long(tagJPEGLen, uint32(len(preview))))
		es := append(t.rgbThumb(), t.ascii(tagMake, "NIKON CORPORATION"), t.ascii(tagModel, "NIKON TEST"),
			t.short(tagOrientation, 1), t.long(tagSubIFDs, jpg, raw))
		t.setIFD0(t.ifd(0, es...))
		write("plain.nef", t.b)
	}
	// ARW: IFD0 holds the preview (JPEGInterchangeFormat) and points to
	// the sensor data's SubIFD; IFD1 a thumbnail.
	{
		t := newTIFF(binary.LittleEndian, 42)
		rawData := t.blob(bytes.Repeat([]byte{0x33}, 512))
		raw := t.ifd(0, t.short(0x100, 4000), t.short(0x101, 3000), t.short(0x103, 32767), t.short(0x106, 32803),
			t.long(tagStrips, rawData), t.long(tagStripBytes, 512))
		th := t.blob(thumb)
		ifd1 := t.ifd(0, t.short(0x103, 6), t.long(tagJPEG, th), t.long(tagJPEGLen, uint32(len(thumb))))
		p := t.blob(preview)
		ifd0 := t.ifd(ifd1, t.short(0x103, 6), t.ascii(tagMake, "SONY"), t.ascii(tagModel, "ILCE-TEST"), t.short(tagOrientation, 6),
			t.long(tagSubIFDs, raw), t.long(tagJPEG, p), t.long(tagJPEGLen, uint32(len(preview))))
		t.setIFD0(ifd0)
		write("orient6.arw", t.b)
	}
	// ORF ("IIRO"): the preview lives in the Olympus maker note's
	// CameraSettings IFD, its offset counted from the note's start.
	{
		t := newTIFF(binary.LittleEndian, 0x4f52)
		rawData := t.blob(bytes.Repeat([]byte{0x44}, 512))
		// The maker note: header, IFD at 12, CameraSettings IFD, preview.
		mn := &tiff{bo: binary.LittleEndian, b: []byte("OLYMPUS\x00II\x03\x00")}
		ifdAt := len(mn.b)
		mn.b = append(mn.b, make([]byte, 2+12*2+4)...) // the top IFD, filled below
		pOff := mn.blob(preview)
		cs := mn.ifd(0, mn.undef(0, []byte("0100")), mn.long(0x100, 1), mn.long(0x101, pOff), mn.long(0x102, uint32(len(preview))))
		top := &tiff{bo: binary.LittleEndian}
		top.b = mn.b[:0:0]
		d := top.u16s(2)
		d = append(d, top.u16s(0, 7)...)
		d = append(d, top.u32s(4)...)
		d = append(d, []byte("0100")...)
		d = append(d, top.u16s(0x2020, 13)...)
		d = append(d, top.u32s(1, cs, 0)...)
		copy(mn.b[ifdAt:], d)
		// The note's offsets count from its own start wherever it lands.
		exif := t.ifd(0, t.undef(0x927c, mn.b))
		ifd0 := t.ifd(0, t.short(0x100, 4000), t.short(0x101, 3000), t.ascii(tagMake, "OLYMPUS IMAGING CORP."),
			t.ascii(tagModel, "E-TEST"), t.short(tagOrientation, 3), t.long(tagStrips, rawData), t.long(tagStripBytes, 512),
			t.long(tagExif, exif))
		t.setIFD0(ifd0)
		write("orient3.orf", t.b)
	}
	// RW2 ("IIU"): IFD0 holds the JPEG itself as JpgFromRaw (0x2E).
	{
		t := newTIFF(binary.LittleEndian, 0x55)
		ifd0 := t.ifd(0, t.short(0x2, 4000), t.short(0x3, 3000), t.ascii(tagMake, "Panasonic"), t.ascii(tagModel, "DMC-TEST"),
			t.short(tagOrientation, 1), t.undef(0x2e, preview))
		t.setIFD0(ifd0)
		write("plain.rw2", t.b)
	}
	// RAF: a big-endian header giving the JPEG's offset and length at 84.
	{
		h := []byte("FUJIFILMCCD-RAW 0201FF129502")
		h = append(h, []byte("X-TEST")...)
		h = append(h, make([]byte, 60-len(h))...)
		h = append(h, []byte("0100")...)
		h = append(h, make([]byte, 84-len(h))...)
		off := 160
		h = binary.BigEndian.AppendUint32(h, uint32(off))
		h = binary.BigEndian.AppendUint32(h, uint32(len(preview)))
		h = append(h, make([]byte, off-len(h))...)
		write("plain.raf", append(h, preview...))
	}
	// CR3: ftyp "crx ", a moov box, then the preview uuid box holding PRVW.
	{
		box := func(typ string, body ...[]byte) []byte {
			b := bytes.Join(body, nil)
			return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(b))), typ...), b...)
		}
		ftyp := box("ftyp", []byte("crx "), []byte{0, 0, 0, 1}, []byte("crx isom"))
		moov := box("moov", box("mvhd", make([]byte, 100)))
		prvw := box("PRVW", []byte{0, 0, 0, 0, 0, 1}, binary.BigEndian.AppendUint16(nil, 160),
			binary.BigEndian.AppendUint16(nil, 120), []byte{0, 1}, binary.BigEndian.AppendUint32(nil, uint32(len(preview))), preview)
		uuid := box("uuid", []byte("\xea\xf4\x2b\x5e\x1c\x98\x4b\x88\xb9\xfb\xb7\xdc\x40\x6e\x4d\x16"), make([]byte, 8), prvw)
		write("plain.cr3", bytes.Join([][]byte{ftyp, moov, uuid, box("mdat", make([]byte, 64))}, nil))
	}
}
