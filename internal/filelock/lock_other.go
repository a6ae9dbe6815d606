//go:build !unix

package filelock

import (
	"os"
	"sync"
)

// Without flock, locks hold within this process only; shared locks are
// taken as exclusive ones.
var held sync.Map // lock file path -> *sync.Mutex

func tryLock(f *os.File, _ bool) (bool, error) {
	mu, _ := held.LoadOrStore(f.Name(), new(sync.Mutex))
	return mu.(*sync.Mutex).TryLock(), nil
}

func unlock(f *os.File) error {
	if mu, ok := held.Load(f.Name()); ok {
		mu.(*sync.Mutex).Unlock()
	}
	return nil
}
