package store

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// The approximate-nearest-neighbour (ANN) file is a derived index, like the
// catalog: it can always be rebuilt from the segments, and a reader uses it
// only when its header says it was built for exactly the content the
// reader sees. Its payload (a graph over ids) is the caller's format; this
// package only stamps, checks and writes it atomically.
//
//	ann.hnsw: "ESANNIDX" | version u32 (=1) | content_gen u64 | count u64 |
//	          edits u64 | binding_crc u32 | 20 zero bytes | header_crc u32
//	          (crc32c of the 60 bytes before it) | payload at offset 64
//
// content_gen and count are the store's ContentGen and entry count the
// payload was built from: ids are rows in path order, so they say which id
// means which entry. binding_crc is the crc32c of the binding's JSON.
// edits is the caller's bookkeeping (changes applied since the payload was
// last built from scratch). The header is padded to 64 bytes so that a
// payload mapped in place starts cache-line aligned.
const annName = "ann.hnsw"

const (
	annMagic      = "ESANNIDX"
	annVersion    = 1
	annHeaderSize = 64
)

var (
	// ErrNoANN: the store has no approximate index file.
	ErrNoANN = errors.New("store has no approximate index")
	// ErrANNStale: the approximate index was built for other content than
	// the snapshot at hand (entries were added or removed since); the next
	// `embedsearch index` brings it up to date.
	ErrANNStale = errors.New("approximate index is out of date")
)

// ANNInfo is what an ANN file's header says.
type ANNInfo struct {
	ContentGen uint64 // content generation the payload was built for
	Count      int    // entries (ids 0..Count-1) it covers
	Edits      uint64 // caller's count of incremental changes since a full build
	Size       int64  // file size in bytes
}

// ContentGen is the generation of the last commit that changed the set of
// entries; derived indexes (catalog, ANN) record it to know whether they
// are in step.
func (r *Reader) ContentGen() uint64 { return r.man.ContentGen }

// ContentGen is the content generation of the last commit (see
// Reader.ContentGen).
func (w *Writer) ContentGen() uint64 { return w.man.ContentGen }

func bindingCRC(b Binding) uint32 {
	j, _ := json.Marshal(b)
	return crc32.Checksum(j, castagnoli)
}

func encodeANNHeader(gen uint64, count int, edits uint64, b Binding) []byte {
	h := make([]byte, 0, annHeaderSize)
	h = append(h, annMagic...)
	h = binary.LittleEndian.AppendUint32(h, annVersion)
	h = binary.LittleEndian.AppendUint64(h, gen)
	h = binary.LittleEndian.AppendUint64(h, uint64(count))
	h = binary.LittleEndian.AppendUint64(h, edits)
	h = binary.LittleEndian.AppendUint32(h, bindingCRC(b))
	h = append(h, make([]byte, 20)...)
	return binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
}

// checkANNHeader checks an ANN file's header h against the content (gen,
// count, binding) the caller sees.
func checkANNHeader(h []byte, size int64, gen uint64, count int, b Binding) (ANNInfo, error) {
	if len(h) < annHeaderSize || string(h[:8]) != annMagic {
		return ANNInfo{}, fmt.Errorf("%w: %s: not an approximate index file", ErrCorrupt, annName)
	}
	if v := binary.LittleEndian.Uint32(h[8:]); v != annVersion {
		return ANNInfo{}, fmt.Errorf("%w: %s version %d, this build reads %d", ErrVersion, annName, v, annVersion)
	}
	if crc32.Checksum(h[:60], castagnoli) != binary.LittleEndian.Uint32(h[60:]) {
		return ANNInfo{}, fmt.Errorf("%w: %s: header checksum mismatch", ErrCorrupt, annName)
	}
	info := ANNInfo{
		ContentGen: binary.LittleEndian.Uint64(h[12:]),
		Count:      int(binary.LittleEndian.Uint64(h[20:])),
		Edits:      binary.LittleEndian.Uint64(h[28:]),
		Size:       size,
	}
	if info.ContentGen != gen || info.Count != count || binary.LittleEndian.Uint32(h[36:]) != bindingCRC(b) {
		return info, fmt.Errorf("%w (built for %d entries at content generation %d; the store has %d at %d)",
			ErrANNStale, info.Count, info.ContentGen, count, gen)
	}
	return info, nil
}

func openANN(dir string) (*os.File, int64, error) {
	f, err := os.Open(filepath.Join(dir, annName))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, 0, ErrNoANN
		}
		return nil, 0, fmt.Errorf("open %s: %w", annName, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// readANN opens dir's ANN file, checks its header against the content
// (gen, count, binding) the caller sees and hands the payload to read.
func readANN(dir string, gen uint64, count int, b Binding, read func(io.Reader) error) (ANNInfo, error) {
	f, size, err := openANN(dir)
	if err != nil {
		return ANNInfo{}, err
	}
	defer f.Close()
	h := make([]byte, annHeaderSize)
	if _, err := io.ReadFull(f, h); err != nil {
		h = nil
	}
	info, err := checkANNHeader(h, size, gen, count, b)
	if err != nil {
		return info, err
	}
	if err := read(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return info, fmt.Errorf("%s: %w", annName, err)
	}
	return info, nil
}

// MapANN maps the store's ANN file read-only and returns its payload when
// the file was built for exactly this snapshot, with the errors of
// ReadANN. The payload starts 64 bytes into a page-aligned mapping and
// stays valid until Close; nothing is read until the caller touches it.
// The file is mapped once per Reader: later calls return the same payload.
func (r *Reader) MapANN() ([]byte, ANNInfo, error) {
	r.annMu.Lock()
	defer r.annMu.Unlock()
	if r.ann != nil {
		return r.ann[annHeaderSize:], r.annInfo, nil
	}
	f, size, err := openANN(r.dir)
	if err != nil {
		return nil, ANNInfo{}, err
	}
	defer f.Close()
	if size < annHeaderSize || size > math.MaxInt {
		return nil, ANNInfo{}, fmt.Errorf("%w: %s: not an approximate index file", ErrCorrupt, annName)
	}
	data, err := mapFile(f, size)
	if err != nil {
		return nil, ANNInfo{}, fmt.Errorf("map %s: %w", annName, err)
	}
	info, err := checkANNHeader(data[:annHeaderSize], size, r.man.ContentGen, r.Len(), r.man.Binding)
	if err != nil {
		unmapFile(data)
		return nil, info, err
	}
	r.ann, r.annInfo = data, info
	return data[annHeaderSize:], info, nil
}

// ReadANN hands the payload of the store's ANN file to read when the file
// was built for exactly this snapshot. It returns ErrNoANN when there is no
// file, ErrANNStale when it was built for other content (without calling
// read), ErrCorrupt or ErrVersion for a bad header, and read's error
// wrapped. Every error means: search exactly.
func (r *Reader) ReadANN(read func(io.Reader) error) (ANNInfo, error) {
	return readANN(r.dir, r.man.ContentGen, r.Len(), r.man.Binding, read)
}

// ReadANN is Reader.ReadANN for the writer's last committed state.
func (w *Writer) ReadANN(read func(io.Reader) error) (ANNInfo, error) {
	if w.man == nil {
		return ANNInfo{}, ErrClosed
	}
	return readANN(w.dir, w.man.ContentGen, w.v.len(), w.man.Binding, read)
}

// WriteANN replaces the store's ANN file with the payload write produces,
// stamped with the last committed content (ContentGen, entry count) and
// the edits count given. write returns the number of bytes it wrote. It
// refuses while changes are buffered (commit first). The file is written
// by the store's atomic helper: a crash leaves the previous file (which
// readers then find stale) or none.
func (w *Writer) WriteANN(edits uint64, write func(io.Writer) (int64, error)) error {
	if w.man == nil {
		return ErrClosed
	}
	if w.Pending() > 0 {
		return fmt.Errorf("write %s: %d uncommitted changes; commit first", annName, w.Pending())
	}
	hdr := encodeANNHeader(w.man.ContentGen, w.v.len(), edits, w.man.Binding)
	return writeFileAtomic(w.dir, annName, func(out io.Writer) (int64, error) {
		if _, err := out.Write(hdr); err != nil {
			return 0, err
		}
		n, err := write(out)
		if err != nil {
			return 0, err
		}
		return int64(len(hdr)) + n, nil
	})
}

// RemoveANN deletes the store's ANN file (a store below the size where
// approximate search pays off). A missing file is not an error.
func (w *Writer) RemoveANN() error {
	if w.man == nil {
		return ErrClosed
	}
	err := os.Remove(filepath.Join(w.dir, annName))
	if err != nil && !os.IsNotExist(err) {
		return writeErr(w.dir, err)
	}
	if err == nil {
		return syncDir(w.dir)
	}
	return nil
}

// ANNFile is the name of the ANN file inside the store directory.
const ANNFile = annName
