// Package inputfile is the one way embedsearch opens a file whose content it
// reads: images to embed, files to hash before a dedup action, query images.
//
// A path given by a user (or found by a walk) may name anything: a FIFO that
// blocks open(2) until a writer appears, a device such as /dev/zero that
// never ends, a socket, a symbolic link swapped in after the walk looked, an
// 8 GB file named .jpg. Open never blocks and accepts only regular files:
// it opens with O_NONBLOCK|O_CLOEXEC (and O_NOFOLLOW unless links are
// followed), checks the open file itself with fstat (so there is no window
// between a check and the open), refuses anything else or anything larger
// than the size limit, and only then clears O_NONBLOCK. ReadAll and SHA256
// read in chunks and stop when the context is cancelled.
//
// Everything here is safe for concurrent use.
package inputfile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
)

// DefaultMaxSize is the largest file read when Options.MaxSize is 0: far
// above any photo (a 100-MP 16-bit TIFF is 600 MB), far below what hangs a
// run.
const DefaultMaxSize = 1 << 30

// Errors. Each wraps the path and the detail; test with errors.Is.
var (
	// ErrNotRegular: the path names a directory, FIFO, socket, device or
	// (when links are not followed) a symbolic link.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is larger than the size limit; nothing of it
	// was read.
	ErrTooLarge = errors.New("file too large")
)

// Options say what Open accepts.
type Options struct {
	// FollowLinks opens the file a symbolic link points to; otherwise a
	// link is ErrNotRegular.
	FollowLinks bool
	// MaxSize refuses larger files with ErrTooLarge; 0 = DefaultMaxSize,
	// negative = no limit.
	MaxSize int64
}

func (o Options) maxSize() int64 {
	if o.MaxSize == 0 {
		return DefaultMaxSize
	}
	return o.MaxSize
}

// chunk is how much is read between two looks at the context: about a
// millisecond of disk or hashing.
const chunk = 1 << 20

// Open opens path for reading if it is a regular file within the size
// limit, without ever blocking on what it names.
func Open(path string, o Options) (*os.File, fs.FileInfo, error) {
	f, err := openNonblock(path, o.FollowLinks)
	if err != nil {
		if isLoop(err) && !o.FollowLinks {
			return nil, nil, fmt.Errorf("%s: %w (a symbolic link; links are followed only when asked)", path, ErrNotRegular)
		}
		// A socket cannot be opened at all (ENXIO): say what it is.
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, Kind(fi.Mode()))
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, Kind(fi.Mode()))
	}
	if max := o.maxSize(); max > 0 && fi.Size() > max {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w: %s, the limit is %s", path, ErrTooLarge, Bytes(fi.Size()), Bytes(max))
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ReadAll reads a whole file opened as Open does, checking ctx between
// chunks. The bytes read match the size fstat gave (a file that grows
// while read is cut there; one that shrinks is an error).
func ReadAll(ctx context.Context, path string, o Options) ([]byte, fs.FileInfo, error) {
	return ReadAllInto(ctx, path, o, nil)
}

// ReadAllInto is ReadAll into buf's storage when it is large enough, so
// that a caller reading many files reuses one buffer (a 4 MB photo read
// into fresh memory costs as much again in page faults and zeroing).
func ReadAllInto(ctx context.Context, path string, o Options, buf []byte) ([]byte, fs.FileInfo, error) {
	f, fi, err := Open(path, o)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data := buf[:0]
	if int64(cap(data)) >= fi.Size() {
		data = data[:fi.Size()]
	} else {
		data = make([]byte, fi.Size())
	}
	for off := 0; off < len(data); {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		end := min(off+chunk, len(data))
		n, err := io.ReadFull(f, data[off:end])
		off += n
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return data, fi, nil
}

// SHA256 is the hex SHA-256 of a file opened as Open does, checking ctx
// between chunks: the one content hash of embedsearch.
func SHA256(ctx context.Context, path string, o Options) (string, fs.FileInfo, error) {
	f, fi, err := Open(path, o)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	h := sha256.New()
	if err := copyCtx(ctx, h, f); err != nil {
		return "", nil, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), fi, nil
}

// SHA256Bytes is the hex SHA-256 of data, as SHA256 gives it for a file.
func SHA256Bytes(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func copyCtx(ctx context.Context, h hash.Hash, r io.Reader) error {
	buf := make([]byte, chunk)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Kind names a non-regular file type for messages.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// Bytes formats a size for people: 1.5 GiB, 320 MiB, 12 KiB, 17 B.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTP"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[exp])
}
