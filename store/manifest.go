package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"
)

// manifestName is the commit point of the store: the one file whose atomic
// replacement publishes a new generation.
const manifestName = "MANIFEST"

const (
	manifestMagic   = "ESMANIFS"
	manifestVersion = 1
	// maxManifest bounds what a reader accepts before parsing; a manifest
	// lists segments, not entries, so it stays small.
	maxManifest = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Binding is the model a store is bound to. Two bindings are compatible
// only when every field is equal.
type Binding struct {
	ModelID    string `json:"model_id"`
	Digest     string `json:"digest"`     // SHA-256 of the image tower ONNX file
	Preprocess string `json:"preprocess"` // models.Preprocess.Fingerprint()
	Dim        int    `json:"dim"`
}

// Mismatch describes how other differs from b, for the one-line error a
// user sees: with equal ids the model file or its preprocessing changed
// (another build or copy of the same model), which the id alone hides.
func (b Binding) Mismatch(other Binding) string {
	if b.ModelID == other.ModelID {
		return fmt.Sprintf("vectors of another build of %s (its ONNX file or preprocessing differs: %s vs %s)", b.ModelID, b, other)
	}
	return fmt.Sprintf("vectors of %s, not %s", b, other)
}

func (b Binding) String() string {
	d := b.Digest
	if len(d) > 12 {
		d = d[:12]
	}
	return fmt.Sprintf("%s (dim %d, onnx sha256 %s…, preprocess %s)", b.ModelID, b.Dim, d, b.Preprocess)
}

// segmentRef is one segment as listed by the manifest.
type segmentRef struct {
	Name       string `json:"name"`
	Gen        uint64 `json:"gen"`
	Count      int    `json:"count"`
	Tombstones int    `json:"tombstones"`
	Size       int64  `json:"size"`
	HeaderCRC  uint32 `json:"header_crc"`
	// Compacted segments hold the merged content of earlier ones: they do
	// not change the set of entries, so the catalog ignores them.
	Compacted bool `json:"compacted,omitempty"`
}

// manifest is the decoded MANIFEST payload.
type manifest struct {
	Generation uint64 `json:"generation"`
	// ContentGen is the generation of the last commit that changed the set
	// of entries (a compaction does not). The catalog records the same
	// number once it has applied that commit.
	ContentGen uint64  `json:"content_gen"`
	Binding    Binding `json:"binding"`
	// ModelSource is where the model was opened from when that was not a
	// registered name (a model folder): how to find it again.
	ModelSource string       `json:"model_source,omitempty"`
	Segments    []segmentRef `json:"segments"`
	Roots       []string     `json:"roots,omitempty"`
	Created     time.Time    `json:"created"`
	LastIndexed time.Time    `json:"last_indexed,omitzero"`
	Failed      int          `json:"failed"`
	// Catalog lists the catalog's files as the last writer left them. The
	// catalog is updated in place after a commit, so this list is
	// rewritten (same generation) once each catalog change is done. nil in
	// stores written before it existed: their catalog is opened unchecked
	// until the next writer records it.
	Catalog []catalogFile `json:"catalog,omitempty"`
}

// encodeManifest writes: magic[8] | version u32 | length u32 | JSON | crc32c u32
// (the CRC covers everything before it).
func encodeManifest(m *manifest) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 16+len(body)+4)
	buf = append(buf, manifestMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, manifestVersion)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(body)))
	buf = append(buf, body...)
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
	return buf, nil
}

// decodeManifest checks magic, version, length and checksum before parsing.
func decodeManifest(data []byte) (*manifest, error) {
	if len(data) < 20 || string(data[:8]) != manifestMagic {
		return nil, fmt.Errorf("%w: MANIFEST: not a store manifest (bad magic)", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != manifestVersion {
		return nil, fmt.Errorf("%w: MANIFEST version %d, this build reads %d; use a matching embedsearch release", ErrVersion, v, manifestVersion)
	}
	n := int(binary.LittleEndian.Uint32(data[12:]))
	if n != len(data)-20 {
		return nil, fmt.Errorf("%w: MANIFEST: length %d does not match file (%d bytes)", ErrCorrupt, n, len(data))
	}
	sum := binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(data[:len(data)-4], castagnoli) != sum {
		return nil, fmt.Errorf("%w: MANIFEST: checksum mismatch", ErrCorrupt)
	}
	m := new(manifest)
	if err := json.Unmarshal(data[16:16+n], m); err != nil {
		return nil, fmt.Errorf("%w: MANIFEST: %v", ErrCorrupt, err)
	}
	if m.Binding.Dim <= 0 || m.Binding.Dim > 1<<16 {
		return nil, fmt.Errorf("%w: MANIFEST: dimension %d out of range", ErrCorrupt, m.Binding.Dim)
	}
	for _, s := range m.Segments {
		if s.Name != segmentName(s.Gen) || s.Count < 0 || s.Tombstones < 0 || s.Gen > m.Generation {
			return nil, fmt.Errorf("%w: MANIFEST: bad segment entry %q", ErrCorrupt, s.Name)
		}
	}
	for _, f := range m.Catalog {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) || f.Size < 0 {
			return nil, fmt.Errorf("%w: MANIFEST: bad catalog file entry %q", ErrCorrupt, f.Name)
		}
	}
	return m, nil
}

func readManifest(dir string) (*manifest, error) {
	f, err := os.Open(filepath.Join(dir, manifestName))
	if err != nil {
		if os.IsNotExist(err) {
			if hasSegments(dir) {
				// A lost MANIFEST, not an empty directory: a writer must
				// not start afresh (it would delete the segments).
				return nil, fmt.Errorf("%w: %s: MANIFEST is missing beside segment files", ErrCorrupt, dir)
			}
			return nil, fmt.Errorf("%w in %s", ErrNotExist, dir)
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("read MANIFEST: %w", err)
	}
	if len(data) > maxManifest {
		return nil, fmt.Errorf("%w: MANIFEST larger than %d bytes", ErrCorrupt, maxManifest)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// hasSegments reports whether dir holds a segment file.
func hasSegments(dir string) bool {
	names, _ := os.ReadDir(dir)
	for _, d := range names {
		if isSegmentName(d.Name()) {
			return true
		}
	}
	return false
}

func writeManifest(dir string, m *manifest) error {
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, manifestName, func(w io.Writer) (int64, error) {
		n, err := w.Write(data)
		return int64(n), err
	})
}
