package search

import "errors"

// Errors returned by this package. Wrap them with context; test with errors.Is.
var (
	// ErrFormat: the data is not an HNSW index file, or it is damaged in a
	// way the checksum did not catch (inconsistent structure).
	ErrFormat = errors.New("not a valid HNSW index file")
	// ErrVersion: the index file was written by a newer or unknown format
	// version; rebuild the index.
	ErrVersion = errors.New("unsupported HNSW index file version")
	// ErrChecksum: the index file's checksum does not match its contents
	// (truncated or corrupted); rebuild the index.
	ErrChecksum = errors.New("HNSW index file checksum mismatch")
)
