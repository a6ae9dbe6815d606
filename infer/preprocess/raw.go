package preprocess

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// A camera RAW file is not demosaiced here: its largest embedded JPEG
// preview (PreviewImage or JpgFromRaw, as exiftool names them) is decoded
// instead, with the orientation of the RAW's own tags. Cameras write a
// preview of the full sensor size or close to it (CR2, NEF, ARW, RW2, DNG
// from cameras) or at least 1620×1080 (CR3, ORF), far above a model's
// input.

// Where previews live, by format:
//   - TIFF-structured RAWs (DNG, CR2, NEF, ARW; ORF and RW2 with their own
//     magic numbers): any IFD of the chain from IFD0 and their SubIFDs, as
//     JPEGInterchangeFormat/Length (0x201/0x202) or as a single JPEG strip
//     (Compression 6 or 7 with baseline or progressive SOF: a lossless
//     JPEG strip is the raw data itself, not a preview); RW2's JpgFromRaw
//     (0x2E) in IFD0; ORF's Olympus maker note (CameraSettings IFD,
//     PreviewImageStart/Length, offsets from the maker note's start).
//   - RAF: the JPEG whose offset and length the header holds (at 84, 88).
//   - CR3 (ISO BMFF): the PRVW box of the preview uuid box.
const (
	tagSubIFDs        = 0x014a
	tagCompression    = 0x0103
	tagPhotometric    = 0x0106
	tagStripOffsets   = 0x0111
	tagStripCounts    = 0x0117
	tagJPEGOffset     = 0x0201
	tagJPEGLength     = 0x0202
	tagRW2JpgFromRaw  = 0x002e
	tagDNGVersion     = 0xc612
	tagMakerNote      = 0x927c
	tagOlyCameraSets  = 0x2020
	tagOlyPreviewFrom = 0x0101
	tagOlyPreviewLen  = 0x0102

	photometricCFA       = 32803
	photometricLinearRaw = 34892

	maxRAWIFDs = 64 // IFDs visited in one file; real RAWs have < 10
)

// rawReader reads a TIFF-structured RAW, whatever its magic number.
func rawReader(data []byte) (tiffReader, bool) {
	if len(data) < 8 {
		return tiffReader{}, false
	}
	switch string(data[:2]) {
	case "II":
		return tiffReader{b: data, bo: binary.LittleEndian}, true
	case "MM":
		return tiffReader{b: data, bo: binary.BigEndian}, true
	}
	return tiffReader{}, false
}

// isTIFFRaw tells a camera RAW with the TIFF magic number (DNG, CR2, NEF,
// ARW) from a TIFF image: CR2's own marker, DNGVersion in IFD0, or raw
// sensor data (CFA or LinearRaw photometric) in IFD0 or a SubIFD.
func isTIFFRaw(data []byte) bool {
	if len(data) >= 10 && string(data[8:10]) == "CR" {
		return true
	}
	r, ok := rawReader(data)
	if !ok {
		return false
	}
	off, _ := r.u32(4)
	ifd0 := r.ifd(off, tagDNGVersion, tagPhotometric, tagSubIFDs)
	if _, ok := ifd0[tagDNGVersion]; ok {
		return true
	}
	isRaw := func(m map[int]tag) bool {
		v, _ := r.intOr(m, tagPhotometric)
		return v == photometricCFA || v == photometricLinearRaw
	}
	if isRaw(ifd0) {
		return true
	}
	if t, ok := ifd0[tagSubIFDs]; ok {
		for i := range min(t.count, 8) {
			if sub, ok := r.u32(t.off + 4*i); ok && isRaw(r.ifd(sub, tagPhotometric)) {
				return true
			}
		}
	}
	return false
}

func (r tiffReader) intOr(m map[int]tag, id int) (int64, bool) {
	if t, ok := m[id]; ok {
		return r.int(t)
	}
	return 0, false
}

// jpegSize reads the frame size of a baseline, extended or progressive
// JPEG (SOF0, SOF1, SOF2); ok is false for anything else, e.g. the
// lossless JPEG (SOF3) that holds a CR2's or DNG's sensor data.
func jpegSize(b []byte) (w, h int, ok bool) {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return 0, 0, false
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return 0, 0, false
		}
		m := b[i+1]
		if m == 0xff { // fill byte
			i++
			continue
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		switch {
		case m == 0xc0 || m == 0xc1 || m == 0xc2:
			if i+9 > len(b) {
				return 0, 0, false
			}
			h, w = int(b[i+5])<<8|int(b[i+6]), int(b[i+7])<<8|int(b[i+8])
			return w, h, w > 0 && h > 0
		case m >= 0xc3 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc, m == 0xda:
			return 0, 0, false // another kind of frame, or scan data before any frame
		}
		i += 2 + n
	}
	return 0, 0, false
}

// rawPreview is the largest embedded JPEG of a RAW file (by pixels, then
// bytes), and the orientation of the RAW's own tags (0 when absent; -1
// when the preview's own EXIF is the RAW's, as in RAF).
func rawPreview(data []byte) (jpg []byte, orientation int, err error) {
	var best []byte
	bestPix := 0
	consider := func(off, n int64) {
		if off <= 0 || n <= 0 || off > int64(len(data)) || n > int64(len(data))-off {
			return
		}
		b := data[off : off+n]
		w, h, ok := jpegSize(b)
		if !ok {
			return
		}
		if p := w * h; p > bestPix || (p == bestPix && len(b) > len(best)) {
			best, bestPix = b, p
		}
	}
	orientation = 0
	switch {
	case bytes.HasPrefix(data, []byte("FUJIFILMCCD-RAW")):
		if len(data) >= 92 {
			consider(int64(binary.BigEndian.Uint32(data[84:])), int64(binary.BigEndian.Uint32(data[88:])))
		}
		orientation = -1
	case len(data) >= 12 && string(data[4:12]) == "ftypcrx ":
		off, n := cr3Preview(data)
		consider(off, n)
		orientation = -1 // CR3's orientation lives in its CMT boxes; the preview's EXIF, if any, is used
	default:
		r, ok := rawReader(data)
		if !ok {
			return nil, 0, fmt.Errorf("%w: RAW: not a TIFF structure", ErrCorrupt)
		}
		ifd0off, _ := r.u32(4)
		orientation = parseEXIFWith(r, ifd0off).Orientation
		r.previews(ifd0off, consider)
	}
	if best == nil {
		return nil, 0, fmt.Errorf("%w: RAW file without an embedded JPEG preview", ErrUnsupported)
	}
	return best, orientation, nil
}

// previews calls consider for every JPEG location in the IFD chain from
// off, their SubIFDs and ORF's maker note, visiting each IFD once.
func (r tiffReader) previews(off int64, consider func(off, n int64)) {
	seen := map[int64]bool{}
	queue := []int64{off}
	for len(queue) > 0 && len(seen) < maxRAWIFDs {
		off := queue[0]
		queue = queue[1:]
		if off <= 0 || seen[off] {
			continue
		}
		seen[off] = true
		m := r.ifd(off, tagSubIFDs, tagCompression, tagStripOffsets, tagStripCounts, tagJPEGOffset, tagJPEGLength,
			tagRW2JpgFromRaw, tagExifIFD, tagMakerNote)
		if a, ok := r.intOr(m, tagJPEGOffset); ok {
			if n, ok := r.intOr(m, tagJPEGLength); ok {
				consider(a, n)
			}
		}
		if c, _ := r.intOr(m, tagCompression); c == 6 || c == 7 {
			so, ok1 := m[tagStripOffsets]
			sc, ok2 := m[tagStripCounts]
			if ok1 && ok2 && so.count == 1 && sc.count == 1 {
				a, _ := r.int(so)
				n, _ := r.int(sc)
				consider(a, n)
			}
		}
		if t, ok := m[tagRW2JpgFromRaw]; ok && t.typ == 7 {
			consider(int64(t.off), int64(t.count))
		}
		if t, ok := m[tagSubIFDs]; ok && (t.typ == 4 || t.typ == 13) {
			for i := range min(t.count, maxRAWIFDs) {
				if sub, ok := r.u32(t.off + 4*i); ok {
					queue = append(queue, sub)
				}
			}
		}
		if e, ok := r.intOr(m, tagExifIFD); ok {
			queue = append(queue, e)
		}
		if t, ok := m[tagMakerNote]; ok {
			r.olympusPreview(t, consider)
		}
		if n, ok := r.u16(int(off)); ok {
			if next, ok := r.u32(int(off) + 2 + 12*min(n, maxIFDEntries)); ok {
				queue = append(queue, next)
			}
		}
	}
}

// olympusPreview reads the preview of an Olympus maker note ("OLYMPUS\0"
// and a byte order, then an IFD; offsets count from the note's start).
func (r tiffReader) olympusPreview(note tag, consider func(off, n int64)) {
	if note.count < 16 || !bytes.HasPrefix(r.b[note.off:], []byte("OLYMPUS\x00")) {
		return
	}
	base := note.off
	mr := tiffReader{b: r.b[base:], bo: binary.LittleEndian}
	if string(mr.b[8:10]) == "MM" {
		mr.bo = binary.BigEndian
	}
	top := mr.ifd(12, tagOlyCameraSets)
	t, ok := top[tagOlyCameraSets]
	if !ok {
		return
	}
	sub := int64(t.off) // an embedded IFD (type UNDEFINED) ...
	if t.typ == 4 || t.typ == 13 {
		sub, _ = mr.int(t) // ... or a pointer to one
	}
	cs := mr.ifd(sub, tagOlyPreviewFrom, tagOlyPreviewLen)
	a, ok1 := mr.intOr(cs, tagOlyPreviewFrom)
	n, ok2 := mr.intOr(cs, tagOlyPreviewLen)
	if ok1 && ok2 {
		consider(int64(base)+a, n)
	}
}

// cr3Preview finds the JPEG of a CR3's PRVW box, inside the top-level
// uuid box eaf42b5e-1c98-4b88-b9fb-b7dc406e4d16.
func cr3Preview(data []byte) (off, n int64) {
	const prvwUUID = "\xea\xf4\x2b\x5e\x1c\x98\x4b\x88\xb9\xfb\xb7\xdc\x40\x6e\x4d\x16"
	for i := int64(0); i+8 <= int64(len(data)); {
		size := int64(binary.BigEndian.Uint32(data[i:]))
		hdr := int64(8)
		if size == 1 && i+16 <= int64(len(data)) {
			size, hdr = int64(binary.BigEndian.Uint64(data[i+8:])), 16
		}
		if size < hdr || size > int64(len(data))-i {
			return 0, 0
		}
		if string(data[i+4:i+8]) == "uuid" && size >= hdr+16+8+32 && string(data[i+hdr:i+hdr+16]) == prvwUUID {
			// After the uuid: 8 bytes, then the PRVW box: size, "PRVW", 4 + 2
			// bytes, width and height (2 each), 2 bytes, the JPEG's length.
			p := i + hdr + 16 + 8
			if string(data[p+4:p+8]) != "PRVW" {
				return 0, 0
			}
			return p + 24, int64(binary.BigEndian.Uint32(data[p+20:]))
		}
		i += size
	}
	return 0, 0
}

// withOrientation returns a copy of the JPEG b whose EXIF holds only the
// orientation o (none for 0): a RAW's preview is shown as the RAW's own
// tags say, whatever EXIF the preview carries.
func withOrientation(b []byte, o int) []byte {
	out := make([]byte, 0, len(b)+64)
	out = append(out, 0xff, 0xd8)
	if o >= 1 && o <= 8 {
		// APP1 "Exif\0\0", a big-endian TIFF header, IFD0 with one entry.
		out = append(out, 0xff, 0xe1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
			'M', 'M', 0, 42, 0, 0, 0, 8, // header, IFD0 at 8
			0, 1, // one entry
			0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation SHORT 1
			0, 0, 0, 0) // no next IFD
	}
	i := 2
	for i+4 <= len(b) && b[i] == 0xff && b[i+1] != 0xda {
		m := b[i+1]
		n := int(b[i+2])<<8 | int(b[i+3])
		if i+2+n > len(b) || n < 2 {
			break
		}
		if !(m == 0xe1 && bytes.HasPrefix(b[i+4:i+2+n], []byte("Exif\x00"))) {
			out = append(out, b[i:i+2+n]...)
		}
		i += 2 + n
	}
	return append(out, b[i:]...)
}

// decodeRAW decodes the largest JPEG preview of a RAW file, oriented by
// the RAW's own tags, with the RAW's metadata in Info.
func decodeRAW(data []byte, lim Limits, tgt target, lazy bool) (rows, Info, error) {
	jpg, o, err := rawPreview(data)
	if err != nil {
		return nil, Info{Format: FormatRAW}, err
	}
	if o >= 0 {
		jpg = withOrientation(jpg, o)
	}
	img, info, err := decodeRows(jpg, lim, tgt, lazy)
	info.Format = FormatRAW
	if err != nil {
		return nil, info, fmt.Errorf("RAW preview: %w", err)
	}
	if r, ok := rawReader(data); ok && o >= 0 {
		off, _ := r.u32(4)
		ex := parseEXIFWith(r, off)
		info.Taken, info.Make, info.Model, info.GPS = ex.Taken, ex.Make, ex.Model, ex.GPS
	}
	return img, info, nil
}
