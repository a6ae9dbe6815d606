// Package filelock is embedsearch's one advisory file lock: the store's
// writer lock, the model cache's and the onnxruntime download's.
//
// On Unix it is flock(2): the lock belongs to the open file description, so
// two opens of one lock file conflict even within a process, and the kernel
// drops it when the holder dies, so a killed process never leaves a lock
// that blocks the next one. Elsewhere locks are held within this process
// only (documented in README's limitations).
//
// A File is not safe for concurrent use; distinct Files are.
package filelock

import (
	"context"
	"os"
	"time"
)

// File is an open lock file.
type File struct {
	f *os.File
}

// Open opens (creating) the lock file at path without locking it.
func Open(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return &File{f: f}, nil
}

// OpenExisting opens the lock file at path only if it exists, read-only
// (enough for a shared lock).
func OpenExisting(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &File{f: f}, nil
}

// TryLock takes the lock without waiting: exclusive, or shared (several
// shared holders at once, none while an exclusive one holds it). It
// reports false when another holder has it.
func (l *File) TryLock(exclusive bool) (bool, error) { return tryLock(l.f, exclusive) }

// Unlock drops the lock; the file stays open.
func (l *File) Unlock() error { return unlock(l.f) }

// Close closes the file, which also drops the lock.
func (l *File) Close() error { return l.f.Close() }

// OS is the open file, for what a lock file records (a holder's PID).
func (l *File) OS() *os.File { return l.f }

// Poll is how often Lock tries again while another holder has the lock.
const Poll = 50 * time.Millisecond

// Lock opens path and takes its exclusive lock, waiting while another
// holder has it until ctx is done (ctx's error is returned then; give it a
// deadline to bound the wait). Unlock-and-close with Close.
func Lock(ctx context.Context, path string) (*File, error) {
	l, err := Open(path)
	if err != nil {
		return nil, err
	}
	if err := l.Wait(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Wait takes l's exclusive lock, polling until it is free or ctx is done.
func (l *File) Wait(ctx context.Context) error {
	for {
		ok, err := l.TryLock(true)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(Poll):
		}
	}
}
