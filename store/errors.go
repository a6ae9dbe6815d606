package store

import "errors"

// Errors returned by this package. They are wrapped with context (file name,
// what is wrong); test with errors.Is. What to do about them is the
// caller's to say (the CLI names its own commands).
var (
	// ErrNotExist: the directory holds no store (no MANIFEST).
	ErrNotExist = errors.New("no store")
	// ErrModelMismatch: the store was built with a different model (id, ONNX
	// digest, preprocessing or dimension) than the one asked for.
	ErrModelMismatch = errors.New("store was built with a different model")
	// ErrCorrupt: an on-disk structure failed its magic, length or checksum
	// check. A Writer opened with WriterOptions.Repair repairs what can be:
	// it rebuilds a damaged MANIFEST from the segments and drops damaged
	// segments (their entries must be added again).
	ErrCorrupt = errors.New("store is damaged")
	// ErrVersion: a file was written by a newer (or unknown) format version.
	ErrVersion = errors.New("unsupported store format version")
	// ErrLocked: another live process holds the writer lock.
	ErrLocked = errors.New("store is locked by another writer")
	// ErrReadOnly: the store directory cannot be written.
	ErrReadOnly = errors.New("store directory is not writable")
	// ErrCatalogStale: the metadata catalog lags behind the committed entries
	// (an interrupted index) or is missing; filters would be wrong until a
	// Writer brings it up to date.
	ErrCatalogStale = errors.New("metadata catalog is behind the store")
	// ErrCatalogDamaged: the catalog's files differ from what the last
	// commit recorded in the MANIFEST (sizes and checksums), so it is not
	// opened: a damaged bleve index can crash the process. Any Writer
	// (with or without WriterOptions.Repair) rebuilds it.
	ErrCatalogDamaged = errors.New("catalog damaged")
	// ErrBadFilter: a filter query does not parse.
	ErrBadFilter = errors.New("invalid filter")
	// ErrClosed: the Writer or Reader was used after Close.
	ErrClosed = errors.New("store closed")
)
