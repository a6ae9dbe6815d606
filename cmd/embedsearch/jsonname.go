package main

import (
	"encoding/base64"
	"unicode/utf8"
)

// nameBytes is the companion of a JSON field that holds a file name:
// "path" has "path_bytes", "keep" "keep_bytes", and so on. JSON strings
// are UTF-8, and encoding/json writes each byte of a name that is not
// (Linux allows any byte but '/' and NUL) as U+FFFD, which names no file.
// The companion holds the exact bytes, base64 (standard, padded), and is
// "" (left out, with omitempty) for a valid UTF-8 name, so the common case
// reads as before. Every JSON output goes through it; CSV, --paths and the
// tables write the bytes as they are.
func nameBytes(name string) string {
	if utf8.ValidString(name) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(name))
}
