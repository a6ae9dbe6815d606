package preprocess

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
	"strings"
	"time"
)

// exifData is what this package reads from EXIF: orientation and a few
// descriptive tags. Zero values mean absent.
type exifData struct {
	Orientation int
	Taken       time.Time
	Make, Model string
	GPS         *GPS
}

// maxIFDEntries bounds the work on a hostile IFD; real ones have < 100.
const maxIFDEntries = 1024

// readMeta finds the EXIF block of an image file and parses it. Metadata
// is best effort: a malformed block yields whatever was readable, never an
// error, as PIL ignores bad EXIF when loading pixels.
func readMeta(format string, data []byte) exifData {
	var tiff []byte
	switch format {
	case FormatJPEG:
		tiff = jpegEXIF(data)
	case FormatPNG:
		var xmp []byte
		tiff, xmp = pngEXIF(data)
		ex := parseEXIF(tiff)
		if ex.Orientation == 0 && xmp != nil {
			ex.Orientation = xmpOrientation(xmp)
		}
		return ex
	case FormatWebP:
		tiff = webpEXIF(data)
	case FormatTIFF:
		tiff = data // a TIFF file's first IFD holds its orientation
	}
	if tiff == nil {
		return exifData{}
	}
	return parseEXIF(tiff)
}

// jpegEXIF returns the TIFF structure inside the first APP1 "Exif" segment.
func jpegEXIF(data []byte) []byte {
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return nil
		}
		marker := data[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7) {
			i += 2
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF returns the EXIF block of a PNG file, from its eXIf chunk or,
// failing that, ImageMagick's hex-encoded "Raw profile type exif" text
// chunk, and the XMP packet of an "XML:com.adobe.xmp" iTXt chunk: the
// places PIL's getexif() looks.
func pngEXIF(data []byte) (exif, xmp []byte) {
	var raw []byte
	for i := 8; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || n > len(data)-i-12 {
			break
		}
		typ, body := string(data[i+4:i+8]), data[i+8:i+8+n]
		switch typ {
		case "eXIf":
			if exif == nil {
				exif = body
			}
		case "tEXt", "zTXt", "iTXt":
			key, text := pngText(typ, body)
			switch key {
			case "Raw profile type exif":
				raw = text
			case "XML:com.adobe.xmp":
				xmp = text
			}
		case "IEND":
			i = len(data)
			continue
		}
		i += 12 + n
	}
	if exif == nil && raw != nil {
		exif = rawProfile(raw)
	}
	return exif, xmp
}

// maxPNGText bounds what a compressed PNG text chunk may inflate to.
const maxPNGText = 1 << 20

// pngText returns the keyword and (inflated) text of a PNG text chunk.
func pngText(typ string, body []byte) (string, []byte) {
	key, rest, ok := bytes.Cut(body, []byte{0})
	if !ok {
		return "", nil
	}
	compressed := false
	switch typ {
	case "zTXt": // compression method, then zlib data
		if len(rest) < 1 {
			return "", nil
		}
		rest, compressed = rest[1:], true
	case "iTXt": // flag, method, language\0, translated keyword\0, text
		if len(rest) < 2 {
			return "", nil
		}
		compressed = rest[0] == 1
		rest = rest[2:]
		for k := 0; k < 2; k++ {
			if _, rest, ok = bytes.Cut(rest, []byte{0}); !ok {
				return "", nil
			}
		}
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(rest))
		if err != nil {
			return "", nil
		}
		defer zr.Close()
		text, err := io.ReadAll(io.LimitReader(zr, maxPNGText))
		if err != nil {
			return "", nil
		}
		rest = text
	}
	return string(key), rest
}

// rawProfile decodes ImageMagick's "\nexif\n   <length>\n<hex lines>"
// encoding (PIL joins the lines after the third newline and reads hex).
func rawProfile(text []byte) []byte {
	lines := bytes.SplitN(text, []byte("\n"), 4)
	if len(lines) < 4 {
		return nil
	}
	hexText := bytes.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, lines[3])
	b := make([]byte, hex.DecodedLen(len(hexText)))
	n, err := hex.Decode(b, hexText)
	if err != nil {
		return nil
	}
	b = b[:n]
	if len(b) >= 6 && string(b[:6]) == "Exif\x00\x00" {
		b = b[6:]
	}
	return b
}

// xmpOrientation finds tiff:Orientation in an XMP packet as PIL does
// (attribute or element form); 0 when absent or out of range.
func xmpOrientation(xmp []byte) int {
	for _, key := range []string{`tiff:Orientation="`, `tiff:Orientation>`} {
		if i := bytes.Index(xmp, []byte(key)); i >= 0 && i+len(key) < len(xmp) {
			if c := xmp[i+len(key)]; c >= '1' && c <= '8' {
				return int(c - '0')
			}
		}
	}
	return 0
}

// webpEXIF returns the payload of the EXIF chunk of an extended WebP file.
func webpEXIF(data []byte) []byte {
	i := 12
	for i+8 <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || n > len(data)-i-8 {
			return nil
		}
		if string(data[i:i+4]) == "EXIF" {
			p := data[i+8 : i+8+n]
			if len(p) >= 6 && string(p[:6]) == "Exif\x00\x00" {
				p = p[6:] // some writers keep the JPEG prefix
			}
			return p
		}
		i += 8 + n + n&1
	}
	return nil
}

// tiffReader reads a TIFF structure with bounds checks on every access.
type tiffReader struct {
	b  []byte
	bo binary.ByteOrder
}

func (r tiffReader) u16(off int) (int, bool) {
	if off < 0 || off+2 > len(r.b) {
		return 0, false
	}
	return int(r.bo.Uint16(r.b[off:])), true
}

func (r tiffReader) u32(off int) (int64, bool) {
	if off < 0 || off+4 > len(r.b) {
		return 0, false
	}
	return int64(r.bo.Uint32(r.b[off:])), true
}

// tag is one IFD entry.
type tag struct {
	typ, count int
	off        int // offset of the value (inline or pointed to)
}

var typeSize = [...]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4} // 13: IFD

// ifd reads the entries of the IFD at off, keeping the tags in want.
func (r tiffReader) ifd(off int64, want ...int) map[int]tag {
	out := map[int]tag{}
	if off <= 0 || off > int64(len(r.b)) {
		return out
	}
	n, ok := r.u16(int(off))
	if !ok {
		return out
	}
	n = min(n, maxIFDEntries)
	for e := 0; e < n; e++ {
		p := int(off) + 2 + 12*e
		id, ok1 := r.u16(p)
		typ, ok2 := r.u16(p + 2)
		count, ok3 := r.u32(p + 4)
		if !ok1 || !ok2 || !ok3 {
			break
		}
		wanted := false
		for _, w := range want {
			wanted = wanted || w == id
		}
		if !wanted || typ <= 0 || typ >= len(typeSize) || count <= 0 || count > int64(len(r.b)) {
			continue
		}
		size := int64(typeSize[typ]) * count
		voff := int64(p + 8)
		if size > 4 {
			voff, _ = r.u32(p + 8)
		}
		if voff+size > int64(len(r.b)) {
			continue
		}
		out[id] = tag{typ: typ, count: int(count), off: int(voff)}
	}
	return out
}

func (r tiffReader) int(t tag) (int64, bool) {
	switch t.typ {
	case 1, 7:
		return int64(r.b[t.off]), true
	case 3:
		v, ok := r.u16(t.off)
		return int64(v), ok
	case 4, 13: // 13: an IFD's offset
		return r.u32(t.off)
	}
	return 0, false
}

func (r tiffReader) ascii(t tag) string {
	if t.typ != 2 && t.typ != 7 {
		return ""
	}
	s := string(r.b[t.off : t.off+t.count])
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(strings.ToValidUTF8(s, ""))
}

func (r tiffReader) rational(t tag, i int) (float64, bool) {
	if t.typ != 5 || i >= t.count {
		return 0, false
	}
	num, ok1 := r.u32(t.off + 8*i)
	den, ok2 := r.u32(t.off + 8*i + 4)
	if !ok1 || !ok2 || den == 0 {
		return 0, false
	}
	return float64(num) / float64(den), true
}

// EXIF/TIFF tag numbers used here.
const (
	tagMake           = 0x010f
	tagModel          = 0x0110
	tagOrientation    = 0x0112
	tagExifIFD        = 0x8769
	tagGPSIFD         = 0x8825
	tagDateTimeOrig   = 0x9003
	tagOffsetTimeOrig = 0x9011
	tagGPSLatRef      = 1
	tagGPSLat         = 2
	tagGPSLonRef      = 3
	tagGPSLon         = 4
)

// parseEXIF reads a TIFF-structured EXIF block (starting with II*\0 or
// MM\0*). It only follows IFD0 and the Exif and GPS sub-IFDs it points to,
// so it cannot loop.
func parseEXIF(b []byte) exifData {
	var ex exifData
	if len(b) < 8 {
		return ex
	}
	r := tiffReader{b: b}
	switch string(b[:4]) {
	case "II*\x00":
		r.bo = binary.LittleEndian
	case "MM\x00*":
		r.bo = binary.BigEndian
	default:
		return ex
	}
	ifd0off, _ := r.u32(4)
	return parseEXIFWith(r, ifd0off)
}

// parseEXIFWith is parseEXIF from the IFD0 at ifd0off, whatever the
// structure's magic number (camera RAWs have their own).
func parseEXIFWith(r tiffReader, ifd0off int64) exifData {
	var ex exifData
	ifd0 := r.ifd(ifd0off, tagMake, tagModel, tagOrientation, tagExifIFD, tagGPSIFD)
	if t, ok := ifd0[tagOrientation]; ok {
		if v, ok := r.int(t); ok && v >= 1 && v <= 8 {
			ex.Orientation = int(v)
		}
	}
	if t, ok := ifd0[tagMake]; ok {
		ex.Make = r.ascii(t)
	}
	if t, ok := ifd0[tagModel]; ok {
		ex.Model = r.ascii(t)
	}
	if t, ok := ifd0[tagExifIFD]; ok {
		if off, ok := r.int(t); ok && off != ifd0off {
			sub := r.ifd(off, tagDateTimeOrig, tagOffsetTimeOrig)
			if t, ok := sub[tagDateTimeOrig]; ok {
				zone := ""
				if z, ok := sub[tagOffsetTimeOrig]; ok {
					zone = r.ascii(z)
				}
				ex.Taken = parseEXIFTime(r.ascii(t), zone)
			}
		}
	}
	if t, ok := ifd0[tagGPSIFD]; ok {
		if off, ok := r.int(t); ok && off != ifd0off {
			g := r.ifd(off, tagGPSLatRef, tagGPSLat, tagGPSLonRef, tagGPSLon)
			lat, ok1 := degrees(r, g[tagGPSLat])
			lon, ok2 := degrees(r, g[tagGPSLon])
			if ok1 && ok2 {
				if strings.HasPrefix(r.asciiOr(g, tagGPSLatRef), "S") {
					lat = -lat
				}
				if strings.HasPrefix(r.asciiOr(g, tagGPSLonRef), "W") {
					lon = -lon
				}
				if math.Abs(lat) <= 90 && math.Abs(lon) <= 180 {
					ex.GPS = &GPS{Lat: lat, Lon: lon}
				}
			}
		}
	}
	return ex
}

func (r tiffReader) asciiOr(m map[int]tag, id int) string {
	if t, ok := m[id]; ok {
		return r.ascii(t)
	}
	return ""
}

// degrees converts an EXIF GPS coordinate (degrees, minutes, seconds).
func degrees(r tiffReader, t tag) (float64, bool) {
	if t.typ != 5 || t.count < 3 {
		return 0, false
	}
	d, ok1 := r.rational(t, 0)
	m, ok2 := r.rational(t, 1)
	s, ok3 := r.rational(t, 2)
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	return d + m/60 + s/3600, true
}

// parseEXIFTime reads "YYYY:MM:DD HH:MM:SS" with an optional "+hh:mm"
// offset; without one the wall-clock time is returned in UTC.
func parseEXIFTime(s, zone string) time.Time {
	t, err := time.Parse("2006:01:02 15:04:05", s)
	if err != nil {
		return time.Time{}
	}
	if z, err := time.Parse("-07:00", zone); err == nil {
		_, off := z.Zone()
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone("", off))
	}
	return t
}
