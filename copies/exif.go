package copies

import "encoding/binary"

// withOrientation returns the JPEG stream jpg with an EXIF APP1 segment
// holding only the Orientation tag (0x0112) set to o, right after SOI.
func withOrientation(jpg []byte, o int) []byte {
	tiff := []byte{
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, IFD0 at offset 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, count 1, value left-justified
		0, 0, 0, 0, // no next IFD
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := make([]byte, 0, len(jpg)+len(seg)+len(payload))
	out = append(out, jpg[:2]...) // SOI
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}
