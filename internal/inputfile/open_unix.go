//go:build unix

package inputfile

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func openNonblock(path string, follow bool) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, flags, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

func clearNonblock(f *os.File) error {
	// Through the raw descriptor: f.Fd() would put f in blocking mode
	// for good, which is what is wanted, but also detaches it from the
	// runtime poller; SetNonblock on the descriptor is explicit.
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}

// isLoop: O_NOFOLLOW on a symbolic link fails with ELOOP.
func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
