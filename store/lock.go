package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockName is the writer lock file. Its content is the PID of the holder,
// for messages only: the lock itself is an flock(2) on the file, which the
// kernel drops when the holder dies, so a lock left by a killed process is
// never "stale" in a way that blocks the next writer.
const lockName = "LOCK"

type lockFile struct {
	f *os.File
	// stalePID is the PID recorded by a previous holder that died without
	// cleaning up (0 when the file was clean). Reported, not acted upon.
	stalePID int
}

// acquireLock takes the writer lock of dir, waiting up to wait for a live
// holder to finish.
func acquireLock(dir string, wait time.Duration) (*lockFile, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, writeErr(dir, err)
	}
	deadline := time.Now().Add(wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			pid := readPID(f)
			f.Close()
			who := "another process"
			if pid > 0 {
				who = "process " + strconv.Itoa(pid)
			}
			return nil, fmt.Errorf("%w: %s is writing %s; wait for it to finish", ErrLocked, who, dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	l := &lockFile{f: f}
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
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// writerActive reports whether a live writer holds dir's lock. It takes
// and drops a shared lock, which a writer trying to start waits out.
func writerActive(dir string) bool {
	f, err := os.Open(filepath.Join(dir, lockName))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
