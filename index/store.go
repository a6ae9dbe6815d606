package index

import (
	"time"

	"github.com/embedsearch/embedsearch/store"
)

// Store is what Run and Forget need from a store under change: a
// catalogue of entries by path (size and mtime for change detection, the
// content hash for reuse), their vectors, the roots, and batched changes
// that Commit makes durable. *store.Writer is the local one; a vector
// database (package weaviate) is another. Run calls it from one goroutine
// at a time.
type Store interface {
	Stat(path string) (size int64, mtime time.Time, ok bool)
	Get(path string) (store.Entry, bool)
	Vector(path string) ([]float32, bool)
	HasSignature(path string) bool
	// ByHash finds stored content by SHA-256, with a copy of its vector.
	ByHash(sha string) (store.Entry, []float32, bool)
	// Walk calls fn with every stored path until fn returns false.
	Walk(fn func(path string) bool)
	Put(e store.Entry, vec []float32) error
	Delete(path string) bool
	Roots() []string
	AddRoots(roots ...string)
	RemoveRoots(roots ...string)
	SetRunStats(at time.Time, failed int)
	Commit() error
	Compact() error
}

var _ Store = (*store.Writer)(nil)
