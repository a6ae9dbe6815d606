//go:build !unix

package models

import (
	"os"
	"sync"
)

// Without flock, pulls are serialised within this process only.
var processLocks sync.Map // lock file path -> *sync.Mutex

func tryLock(f *os.File) (bool, error) {
	mu, _ := processLocks.LoadOrStore(f.Name(), new(sync.Mutex))
	return mu.(*sync.Mutex).TryLock(), nil
}

func unlockFile(f *os.File) error {
	if mu, ok := processLocks.Load(f.Name()); ok {
		mu.(*sync.Mutex).Unlock()
	}
	return nil
}
