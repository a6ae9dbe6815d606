package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"time"
)

// testVector is a deterministic unit vector derived from a string, so a
// test can check any stored vector against its path.
func testVector(key string, dim int) []float32 {
	v := make([]float32, dim)
	var norm float64
	for i := range v {
		h := sha256.Sum256([]byte(key + "#" + string(rune('a'+i%26)) + string(rune(i))))
		x := float64(int32(binary.LittleEndian.Uint32(h[:])))/math.MaxInt32 + 1e-3
		v[i] = float32(x)
		norm += x * x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(norm))
	}
	return v
}

func testSHA(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func testEntry(path string) Entry {
	return Entry{Path: path, Size: int64(len(path)), ModTime: time.Unix(1700000000, 0).UTC(), SHA256: testSHA(path), Width: 640, Height: 480, Format: "jpeg"}
}

var testBinding = Binding{ModelID: "test-v1", Digest: "d1", Preprocess: "p1", Dim: 16}
