package store

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"time"
)

// Entry is one indexed image: where it is, how the change detector saw it,
// and the metadata the catalog makes filterable. Paths are absolute and
// cleaned; they identify entries.
type Entry struct {
	Path    string
	Size    int64
	ModTime time.Time
	SHA256  string // hex SHA-256 of the file's bytes; "" when unknown
	Width   int    // as displayed (after EXIF orientation)
	Height  int
	Format  string    // "jpeg", "png", ...
	Taken   time.Time // EXIF capture time; zero when absent
	Make    string    // camera make (EXIF)
	Model   string    // camera model (EXIF)
	GPS     *GPS      // nil when absent
	// Signature is opaque bytes kept beside the entry for dedup (the
	// signature package's form; nil when the image has none yet). It is
	// not part of the record: segments keep it in a section of its own.
	Signature []byte `json:",omitempty"`
}

// GPS is a position in decimal degrees.
type GPS struct{ Lat, Lon float64 }

const (
	flagTaken = 1 << iota
	flagGPS
	flagSHA
)

// Times outside what UnixNano can hold are not representable in a record;
// EXIF dates there are nonsense anyway and are dropped.
var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// gpsOK drops positions EXIF can carry but that are not places.
func gpsOK(g *GPS) bool {
	return g != nil && math.Abs(g.Lat) <= 90 && math.Abs(g.Lon) <= 180
}

func timeOK(t time.Time) bool { return !t.IsZero() && t.After(minTime) && t.Before(maxTime) }

// appendRecord encodes e. Layout (all integers varint/uvarint):
//
//	path string | size varint | mtime varint ns | flags byte |
//	[sha 32 bytes] | width uvarint | height uvarint | format string |
//	[taken varint ns] | make string | model string | [lat f64 | lon f64]
//
// strings are uvarint length + bytes; f64 are little-endian IEEE bits.
func appendRecord(b []byte, e *Entry) ([]byte, error) {
	var sha []byte
	if e.SHA256 != "" {
		var err error
		sha, err = hex.DecodeString(e.SHA256)
		if err != nil || len(sha) != 32 {
			return nil, fmt.Errorf("entry %s: bad SHA-256 %q", e.Path, e.SHA256)
		}
	}
	var flags byte
	if timeOK(e.Taken) {
		flags |= flagTaken
	}
	if gpsOK(e.GPS) {
		flags |= flagGPS
	}
	if sha != nil {
		flags |= flagSHA
	}
	var mt int64
	if timeOK(e.ModTime) {
		mt = e.ModTime.UnixNano()
	}
	b = appendString(b, e.Path)
	b = binary.AppendVarint(b, e.Size)
	b = binary.AppendVarint(b, mt)
	b = append(b, flags)
	b = append(b, sha...)
	b = binary.AppendUvarint(b, uint64(max(e.Width, 0)))
	b = binary.AppendUvarint(b, uint64(max(e.Height, 0)))
	b = appendString(b, e.Format)
	if flags&flagTaken != 0 {
		b = binary.AppendVarint(b, e.Taken.UnixNano())
	}
	b = appendString(b, e.Make)
	b = appendString(b, e.Model)
	if flags&flagGPS != 0 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.GPS.Lat))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.GPS.Lon))
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads a record with bounds checks; the first problem sticks.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.bytes(d.uvarint())) }

func (d *decoder) u64() uint64 {
	v := d.bytes(8)
	if v == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(v)
}

// recordPath decodes only the path of a record (for lookups and sorting).
func recordPath(rec []byte) (string, bool) {
	d := decoder{b: rec}
	p := d.bytes(d.uvarint())
	return string(p), !d.bad
}

// recordStat decodes only size and mtime (for change detection).
func recordStat(rec []byte) (int64, time.Time, bool) {
	d := decoder{b: rec}
	d.bytes(d.uvarint())
	size := d.varint()
	mt := d.varint()
	if d.bad {
		return 0, time.Time{}, false
	}
	if mt == 0 {
		return size, time.Time{}, true
	}
	return size, time.Unix(0, mt).UTC(), true
}

// decodeRecord is the inverse of appendRecord; it refuses trailing bytes.
func decodeRecord(rec []byte) (Entry, error) {
	d := decoder{b: rec}
	var e Entry
	e.Path = d.str()
	e.Size = d.varint()
	if mt := d.varint(); mt != 0 {
		e.ModTime = time.Unix(0, mt).UTC()
	}
	flags := d.bytes(1)
	if d.bad {
		return Entry{}, errRecord
	}
	if flags[0]&^(flagTaken|flagGPS|flagSHA) != 0 {
		return Entry{}, errRecord
	}
	if flags[0]&flagSHA != 0 {
		e.SHA256 = hex.EncodeToString(d.bytes(32))
	}
	w, h := d.uvarint(), d.uvarint()
	if w > math.MaxInt32 || h > math.MaxInt32 {
		return Entry{}, errRecord
	}
	e.Width, e.Height = int(w), int(h)
	e.Format = d.str()
	if flags[0]&flagTaken != 0 {
		e.Taken = time.Unix(0, d.varint()).UTC()
	}
	e.Make = d.str()
	e.Model = d.str()
	if flags[0]&flagGPS != 0 {
		e.GPS = &GPS{Lat: math.Float64frombits(d.u64()), Lon: math.Float64frombits(d.u64())}
		if !gpsOK(e.GPS) {
			return Entry{}, errRecord
		}
	}
	if d.bad || len(d.b) != 0 || e.Path == "" {
		return Entry{}, errRecord
	}
	return e, nil
}

var errRecord = fmt.Errorf("%w: malformed entry record", ErrCorrupt)
