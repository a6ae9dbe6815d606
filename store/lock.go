package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/embedsearch/embedsearch/internal/filelock"
)

// lockName is the writer lock file. Its content is the PID of the holder,
// for messages only: the lock itself is the one file lock (internal/filelock,
// flock(2) on Unix), which the kernel drops when the holder dies, so a lock
// left by a killed process is never "stale" in a way that blocks the next
// writer.
const lockName = "LOCK"

type lockFile struct {
	lock *filelock.File
	f    *os.File // lock's file, which records the holder's PID
	// stalePID is the PID recorded by a previous holder that died without
	// cleaning up (0 when the file was clean). Reported, not acted upon.
	stalePID int
}

// acquireLock takes the writer lock of dir, waiting up to wait for a live
// holder to finish.
func acquireLock(dir string, wait time.Duration) (*lockFile, error) {
	path := filepath.Join(dir, lockName)
	lock, err := filelock.Open(path)
	if err != nil {
		return nil, writeErr(dir, err)
	}
	f := lock.OS()
	deadline := time.Now().Add(wait)
	for {
		ok, err := lock.TryLock(true)
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			pid := readPID(f)
			lock.Close()
			who := "another process"
			if pid > 0 {
				who = "process " + strconv.Itoa(pid)
			}
			return nil, fmt.Errorf("%w: %s is writing %s; wait for it to finish", ErrLocked, who, dir)
		}
		time.Sleep(filelock.Poll)
	}
	l := &lockFile{lock: lock, f: f}
	if pid := readPID(f); pid > 0 && pid != os.Getpid() {
		l.stalePID = pid
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return l, nil
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		return 0
	}
	return pid
}

// release empties the PID and drops the lock. The file stays: removing it
// would race with a writer that has just opened it.
func (l *lockFile) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.lock.Unlock()
	if cerr := l.lock.Close(); err == nil {
		err = cerr
	}
	l.lock, l.f = nil, nil
	return err
}

// writerActive reports whether a live writer holds dir's lock. It takes
// and drops a shared lock, which a writer trying to start waits out.
func writerActive(dir string) bool {
	lock, err := filelock.OpenExisting(filepath.Join(dir, lockName))
	if err != nil {
		return false
	}
	defer lock.Close()
	ok, err := lock.TryLock(false)
	if err != nil {
		return false
	}
	if !ok {
		return true
	}
	_ = lock.Unlock()
	return false
}
